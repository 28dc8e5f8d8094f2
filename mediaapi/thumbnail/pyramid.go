package thumbnail

import (
	"image"
	"image/draw"
)

// Scaling a 12-megapixel photo straight to 32×32 with a kernel reads
// every source pixel for every size. Instead each size is scaled from the
// smallest halving of the image that is still at least twice the output
// (a mip pyramid: exact 2×2 averages, cheap), which keeps the quality of
// a filtered downscale at a fraction of the cost.

// level is the image halved i times (level 0 is the decoded image as RGBA).
func (s *Source) level(i int) *image.RGBA {
	if len(s.levels) == 0 {
		b := s.still.Bounds()
		rgba := image.NewRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
		draw.Draw(rgba, rgba.Bounds(), s.still, b.Min, draw.Src)
		s.levels = append(s.levels, rgba)
	}
	for len(s.levels) <= i {
		s.levels = append(s.levels, halve(s.levels[len(s.levels)-1]))
	}
	return s.levels[i]
}

// halve averages each 2×2 block (an odd last row or column is dropped).
func halve(src *image.RGBA) *image.RGBA {
	w, h := max(1, src.Rect.Dx()/2), max(1, src.Rect.Dy()/2)
	dst := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		r0 := src.Pix[(2*y)*src.Stride:]
		r1 := r0
		if 2*y+1 < src.Rect.Dy() {
			r1 = src.Pix[(2*y+1)*src.Stride:]
		}
		out := dst.Pix[y*dst.Stride:]
		for x := 0; x < w; x++ {
			i, j := 8*x, 8*x+4
			if 2*x+1 >= src.Rect.Dx() {
				j = i
			}
			for c := 0; c < 4; c++ {
				out[4*x+c] = uint8((uint16(r0[i+c]) + uint16(r0[j+c]) + uint16(r1[i+c]) + uint16(r1[j+c]) + 2) / 4)
			}
		}
	}
	return dst
}

// reducedSource picks the pyramid level for scaling from (in source
// coordinates) to outW×outH, and from in that level's coordinates.
func (s *Source) reducedSource(from image.Rectangle, outW, outH int) (image.Image, image.Rectangle) {
	lvl := 0
	for from.Dx()>>(lvl+1) >= 2*outW && from.Dy()>>(lvl+1) >= 2*outH {
		lvl++
	}
	if lvl == 0 {
		return s.still, from.Add(s.still.Bounds().Min)
	}
	img := s.level(lvl)
	r := image.Rect(from.Min.X>>lvl, from.Min.Y>>lvl, from.Max.X>>lvl, from.Max.Y>>lvl).Intersect(img.Rect)
	return img, r
}
