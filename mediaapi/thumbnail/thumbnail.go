package thumbnail

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/color/palette"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io"

	"golang.org/x/image/draw"
)

// Method is how a thumbnail fits its box.
type Method string

const (
	// Crop fills the box exactly (aspect of the box), cutting the overflow.
	Crop Method = "crop"
	// Scale keeps the aspect of the image and fits inside the box.
	Scale Method = "scale"
)

// Size is one thumbnail wanted.
type Size struct {
	Width, Height int
	Method        Method
}

// Thumbnail is an encoded thumbnail.
type Thumbnail struct {
	Size
	// Actual dimensions of the encoded image.
	ImageWidth, ImageHeight int
	ContentType             string
	Animated                bool
	Data                    []byte
}

// ErrNotSmaller: the image already fits the size; serve the original.
var ErrNotSmaller = errors.New("thumbnail: image is not larger than the size")

// Source is a decoded image ready to be thumbnailed several times.
type Source struct {
	Info  Info
	still image.Image
	anim  *gif.GIF // set when animated frames were decoded
	// levels is the halving pyramid of still, built as sizes need it.
	levels []*image.RGBA
	// orientation is the JPEG's EXIF orientation (1: as stored).
	orientation int
}

// Decode probes then decodes r. animated decodes every frame of an
// animated GIF (if the frames together stay under 4×maxPixels).
func Decode(r io.ReadSeeker, maxPixels int64, animated bool) (*Source, error) {
	info, err := Probe(r, maxPixels)
	if err != nil {
		return nil, err
	}
	if _, err := r.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	src := &Source{Info: info, orientation: 1}
	if info.Format == "jpeg" {
		src.orientation = jpegOrientation(r)
		if _, err := r.Seek(0, io.SeekStart); err != nil {
			return nil, err
		}
	}
	if animated && info.Format == "gif" && info.Frames > 1 && info.Frames <= maxFrames &&
		info.Pixels()*int64(info.Frames) <= 4*maxPixels {
		g, err := gif.DecodeAll(bufio.NewReader(r))
		if err != nil {
			return nil, fmt.Errorf("thumbnail: decode: %w", err)
		}
		src.anim = g
		return src, nil
	}
	img, _, err := image.Decode(bufio.NewReader(r))
	if err != nil {
		return nil, fmt.Errorf("thumbnail: decode: %w", err)
	}
	src.still = img
	return src, nil
}

// Animated reports whether the source kept its animation.
func (s *Source) Animated() bool { return s.anim != nil }

// dims computes the output size for (w, h, method) of a srcW×srcH image,
// and the source rectangle to take (all of it for scale, the centred
// part with the box's aspect for crop).
func dims(srcW, srcH int, sz Size) (outW, outH int, from image.Rectangle, err error) {
	if sz.Width < 1 || sz.Height < 1 {
		return 0, 0, from, fmt.Errorf("thumbnail: size %dx%d", sz.Width, sz.Height)
	}
	if srcW <= sz.Width && srcH <= sz.Height {
		return 0, 0, from, ErrNotSmaller
	}
	from = image.Rect(0, 0, srcW, srcH)
	switch sz.Method {
	case Crop:
		// Cut the source to the box's aspect, centred, then scale that
		// down to the box (never up).
		if srcW*sz.Height > srcH*sz.Width { // wider than the box
			cw := max(1, srcH*sz.Width/sz.Height)
			x := (srcW - cw) / 2
			from = image.Rect(x, 0, x+cw, srcH)
		} else {
			ch := max(1, srcW*sz.Height/sz.Width)
			y := (srcH - ch) / 2
			from = image.Rect(0, y, srcW, y+ch)
		}
		outW, outH = min(sz.Width, from.Dx()), min(sz.Height, from.Dy())
	default:
		// Fit inside the box, keeping the aspect.
		if srcW*sz.Height > srcH*sz.Width {
			outW, outH = sz.Width, max(1, srcH*sz.Width/srcW)
		} else {
			outW, outH = max(1, srcW*sz.Height/srcH), sz.Height
		}
	}
	return outW, outH, from, nil
}

// Make renders one thumbnail: an animated GIF from an animated source,
// JPEG from a JPEG, PNG otherwise (keeps transparency).
func (s *Source) Make(sz Size) (*Thumbnail, error) {
	box := sz // in stored (unrotated) coordinates
	if swapsAxes(s.orientation) {
		box.Width, box.Height = sz.Height, sz.Width
	}
	outW, outH, from, err := dims(s.Info.Width, s.Info.Height, box)
	if err != nil {
		return nil, err
	}
	t := &Thumbnail{Size: sz, ImageWidth: outW, ImageHeight: outH}
	if swapsAxes(s.orientation) {
		t.ImageWidth, t.ImageHeight = outH, outW
	}
	var buf bytes.Buffer
	switch {
	case s.anim != nil:
		if err := gif.EncodeAll(&buf, scaleGIF(s.anim, from, outW, outH)); err != nil {
			return nil, err
		}
		t.ContentType, t.Animated = "image/gif", true
	case s.Info.Format == "jpeg":
		img, r := s.reducedSource(from, outW, outH)
		if err := jpeg.Encode(&buf, orient(scale(img, r, outW, outH), s.orientation), &jpeg.Options{Quality: 85}); err != nil {
			return nil, err
		}
		t.ContentType = "image/jpeg"
	default:
		enc := png.Encoder{CompressionLevel: png.BestSpeed}
		img, r := s.reducedSource(from, outW, outH)
		if err := enc.Encode(&buf, scale(img, r, outW, outH)); err != nil {
			return nil, err
		}
		t.ContentType = "image/png"
	}
	t.Data = buf.Bytes()
	return t, nil
}

// scale renders the from part of src (in src's coordinates) at w×h.
func scale(src image.Image, from image.Rectangle, w, h int) *image.RGBA {
	dst := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.BiLinear.Scale(dst, dst.Bounds(), src, from, draw.Src, nil)
	return dst
}

// scaleGIF composes each frame onto the canvas (frames may be partial
// and use disposal), scales the canvas and re-palettes it.
func scaleGIF(g *gif.GIF, from image.Rectangle, w, h int) *gif.GIF {
	out := &gif.GIF{LoopCount: g.LoopCount, Config: image.Config{Width: w, Height: h}}
	canvas := image.NewRGBA(image.Rect(0, 0, g.Config.Width, g.Config.Height))
	for i, frame := range g.Image {
		var saved *image.RGBA
		disposal := byte(0)
		if i < len(g.Disposal) {
			disposal = g.Disposal[i]
		}
		if disposal == gif.DisposalPrevious {
			saved = image.NewRGBA(canvas.Bounds())
			draw.Copy(saved, image.Point{}, canvas, canvas.Bounds(), draw.Src, nil)
		}
		draw.Draw(canvas, frame.Bounds(), frame, frame.Bounds().Min, draw.Over)
		scaled := image.NewRGBA(image.Rect(0, 0, w, h))
		draw.BiLinear.Scale(scaled, scaled.Bounds(), canvas, from, draw.Src, nil)
		pal := frame.Palette
		if len(pal) == 0 {
			pal = palette.Plan9
		}
		p := image.NewPaletted(scaled.Bounds(), withTransparent(pal))
		draw.FloydSteinberg.Draw(p, p.Bounds(), scaled, image.Point{})
		out.Image = append(out.Image, p)
		delay := 10
		if i < len(g.Delay) {
			delay = g.Delay[i]
		}
		out.Delay = append(out.Delay, delay)
		out.Disposal = append(out.Disposal, gif.DisposalNone)
		switch disposal {
		case gif.DisposalBackground:
			draw.Draw(canvas, frame.Bounds(), image.Transparent, image.Point{}, draw.Src)
		case gif.DisposalPrevious:
			canvas = saved
		}
	}
	return out
}

// withTransparent makes sure the palette can express transparency.
func withTransparent(p color.Palette) color.Palette {
	for _, c := range p {
		if _, _, _, a := c.RGBA(); a == 0 {
			return p
		}
	}
	if len(p) >= 256 {
		return p
	}
	return append(append(color.Palette{}, p...), color.Transparent)
}
