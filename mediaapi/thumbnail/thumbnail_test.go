package thumbnail

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"image"
	"image/color"
	"image/color/palette"
	"image/gif"
	"image/jpeg"
	"image/png"
	"runtime"
	"testing"
)

func testImage(w, h int) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			img.Set(x, y, color.RGBA{uint8(x), uint8(y), 128, 255})
		}
	}
	return img
}

func encodePNG(t testing.TB, img image.Image) []byte {
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// BombPNG is a valid small PNG whose header declares w×h pixels.
func BombPNG(t testing.TB, w, h uint32) []byte {
	data := encodePNG(t, testImage(1, 1))
	// IHDR data starts at 16: width, height; CRC after 13 data bytes.
	binary.BigEndian.PutUint32(data[16:], w)
	binary.BigEndian.PutUint32(data[20:], h)
	binary.BigEndian.PutUint32(data[29:], crc32.ChecksumIEEE(data[12:29]))
	return data
}

func TestBombRefusedWithoutAllocating(t *testing.T) {
	bomb := BombPNG(t, 100_000, 100_000) // 10^10 pixels: 40 GB decoded
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	_, err := Decode(bytes.NewReader(bomb), 32_000_000, false)
	runtime.ReadMemStats(&after)
	if !errors.Is(err, ErrTooManyPixels) {
		t.Fatalf("err = %v, want ErrTooManyPixels", err)
	}
	if grew := after.TotalAlloc - before.TotalAlloc; grew > 1<<20 {
		t.Fatalf("refusing the bomb allocated %d bytes", grew)
	}
}

func TestMakeSizes(t *testing.T) {
	var jb bytes.Buffer
	if err := jpeg.Encode(&jb, testImage(1000, 500), nil); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name   string
		data   []byte
		sz     Size
		w, h   int
		ctype  string
		format string
	}{
		{"png scale", encodePNG(t, testImage(1000, 500)), Size{320, 240, Scale}, 320, 160, "image/png", "png"},
		{"png crop", encodePNG(t, testImage(1000, 500)), Size{96, 96, Crop}, 96, 96, "image/png", "png"},
		{"jpeg scale", jb.Bytes(), Size{640, 480, Scale}, 640, 320, "image/jpeg", "jpeg"},
		{"jpeg crop", jb.Bytes(), Size{32, 32, Crop}, 32, 32, "image/jpeg", "jpeg"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			src, err := Decode(bytes.NewReader(c.data), 1<<24, false)
			if err != nil {
				t.Fatal(err)
			}
			th, err := src.Make(c.sz)
			if err != nil {
				t.Fatal(err)
			}
			cfg, format, err := image.DecodeConfig(bytes.NewReader(th.Data))
			if err != nil {
				t.Fatal(err)
			}
			if cfg.Width != c.w || cfg.Height != c.h || format != c.format || th.ContentType != c.ctype {
				t.Fatalf("got %dx%d %s (%s), want %dx%d %s", cfg.Width, cfg.Height, format, th.ContentType, c.w, c.h, c.format)
			}
		})
	}
}

func TestNoUpscale(t *testing.T) {
	src, err := Decode(bytes.NewReader(encodePNG(t, testImage(20, 20))), 1<<24, false)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := src.Make(Size{32, 32, Crop}); !errors.Is(err, ErrNotSmaller) {
		t.Fatalf("err = %v, want ErrNotSmaller", err)
	}
}

func animatedGIF(t testing.TB, frames int) []byte {
	g := &gif.GIF{}
	for i := 0; i < frames; i++ {
		p := image.NewPaletted(image.Rect(0, 0, 200, 100), palette.Plan9)
		for x := 0; x < 200; x++ {
			p.SetColorIndex(x, (x+i*10)%100, uint8(i*40))
		}
		g.Image = append(g.Image, p)
		g.Delay = append(g.Delay, 5)
	}
	var b bytes.Buffer
	if err := gif.EncodeAll(&b, g); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestAnimatedGIF(t *testing.T) {
	data := animatedGIF(t, 3)
	src, err := Decode(bytes.NewReader(data), 1<<24, true)
	if err != nil {
		t.Fatal(err)
	}
	if src.Info.Frames != 3 || !src.Animated() {
		t.Fatalf("info %+v animated %v", src.Info, src.Animated())
	}
	th, err := src.Make(Size{96, 96, Crop})
	if err != nil {
		t.Fatal(err)
	}
	g, err := gif.DecodeAll(bytes.NewReader(th.Data))
	if err != nil {
		t.Fatal(err)
	}
	if len(g.Image) != 3 || g.Config.Width != 96 || g.Config.Height != 96 || th.ContentType != "image/gif" {
		t.Fatalf("%d frames %dx%d %s", len(g.Image), g.Config.Width, g.Config.Height, th.ContentType)
	}
	still, err := Decode(bytes.NewReader(data), 1<<24, false)
	if err != nil {
		t.Fatal(err)
	}
	th, err = still.Make(Size{96, 96, Crop})
	if err != nil || th.ContentType != "image/png" || th.Animated {
		t.Fatalf("static thumbnail of a GIF: %v %s", err, th.ContentType)
	}
}

func TestUnsupported(t *testing.T) {
	if _, err := Probe(bytes.NewReader([]byte("%PDF-1.4 not an image")), 1<<24); !errors.Is(err, ErrUnsupported) {
		t.Fatalf("err = %v", err)
	}
}

// FuzzProbe: no header, however broken, panics, hangs or gets past the
// pixel limit.
func FuzzProbe(f *testing.F) {
	f.Add(encodePNG(f, testImage(3, 2)))
	f.Add(BombPNG(f, 1<<30, 1<<30))
	f.Add(animatedGIF(f, 2))
	var jb bytes.Buffer
	_ = jpeg.Encode(&jb, testImage(4, 4), nil)
	f.Add(jb.Bytes())
	f.Add([]byte("GIF89a"))
	f.Fuzz(func(t *testing.T, data []byte) {
		info, err := Probe(bytes.NewReader(data), 1<<20)
		if err == nil && (info.Pixels() > 1<<20 || info.Frames < 1) {
			t.Fatalf("accepted %+v", info)
		}
	})
}

func TestHalve(t *testing.T) {
	src := image.NewRGBA(image.Rect(0, 0, 3, 3))
	src.Set(0, 0, color.RGBA{0, 0, 0, 255})
	src.Set(1, 0, color.RGBA{100, 0, 0, 255})
	src.Set(0, 1, color.RGBA{0, 200, 0, 255})
	src.Set(1, 1, color.RGBA{100, 200, 40, 255})
	src.Set(2, 2, color.RGBA{255, 255, 255, 255}) // dropped: odd edge
	h := halve(src)
	if h.Rect.Dx() != 1 || h.Rect.Dy() != 1 {
		t.Fatalf("halved to %v", h.Rect)
	}
	if got := h.RGBAAt(0, 0); got != (color.RGBA{50, 100, 10, 255}) {
		t.Fatalf("average %v", got)
	}
	if one := halve(image.NewRGBA(image.Rect(0, 0, 1, 1))); one.Rect.Dx() != 1 {
		t.Fatal("1×1 image must stay 1×1")
	}
}

// tinyWebP is a 1×1 lossless WebP (x/image has a WebP decoder, no encoder).
const tinyWebP = "UklGRhoAAABXRUJQVlA4TA0AAAAvAAAAEAcQERGIiP4HAA=="

func TestWebP(t *testing.T) {
	data, err := base64.StdEncoding.DecodeString(tinyWebP)
	if err != nil {
		t.Fatal(err)
	}
	src, err := Decode(bytes.NewReader(data), 100, false)
	if err != nil || src.Info.Format != "webp" || src.Info.Width != 1 {
		t.Fatalf("webp: %+v %v", src, err)
	}
	if _, err := src.Make(Size{32, 32, Crop}); !errors.Is(err, ErrNotSmaller) {
		t.Fatalf("1×1 webp thumbnail: %v", err)
	}
}

// withOrientation inserts an EXIF APP1 segment (orientation o, big-endian
// TIFF) right after the JPEG's SOI marker.
func withOrientation(jpg []byte, o uint16) []byte {
	tiff := []byte{'M', 'M', 0, 42, 0, 0, 0, 8, 0, 1, 0x01, 0x12, 0, 3, 0, 0, 0, 1, byte(o >> 8), byte(o), 0, 0, 0, 0, 0, 0, 0, 0}
	payload := append([]byte("Exif\x00\x00"), tiff...)
	seg := []byte{0xFF, 0xE1, byte((len(payload) + 2) >> 8), byte(len(payload) + 2)}
	out := append([]byte{0xFF, 0xD8}, seg...)
	out = append(out, payload...)
	return append(out, jpg[2:]...)
}

func TestEXIFOrientation(t *testing.T) {
	// 400×200 as stored: left half red, right half blue.
	img := image.NewRGBA(image.Rect(0, 0, 400, 200))
	for y := 0; y < 200; y++ {
		for x := 0; x < 400; x++ {
			c := color.RGBA{255, 0, 0, 255}
			if x >= 200 {
				c = color.RGBA{0, 0, 255, 255}
			}
			img.Set(x, y, c)
		}
	}
	var jb bytes.Buffer
	if err := jpeg.Encode(&jb, img, &jpeg.Options{Quality: 95}); err != nil {
		t.Fatal(err)
	}
	data := withOrientation(jb.Bytes(), 6) // shown turned 90° clockwise: 200×400, red on top
	if o := jpegOrientation(bytes.NewReader(data)); o != 6 {
		t.Fatalf("orientation %d", o)
	}
	src, err := Decode(bytes.NewReader(data), 1<<24, false)
	if err != nil {
		t.Fatal(err)
	}
	th, err := src.Make(Size{100, 100, Scale})
	if err != nil {
		t.Fatal(err)
	}
	out, err := jpeg.Decode(bytes.NewReader(th.Data))
	if err != nil {
		t.Fatal(err)
	}
	if b := out.Bounds(); b.Dx() != 50 || b.Dy() != 100 {
		t.Fatalf("rotated thumbnail is %v, want 50×100", b)
	}
	top, bottom := color.RGBAModel.Convert(out.At(25, 10)).(color.RGBA), color.RGBAModel.Convert(out.At(25, 90)).(color.RGBA)
	if top.R < 200 || top.B > 60 || bottom.B < 200 || bottom.R > 60 {
		t.Fatalf("top %v bottom %v: want red on top, blue below", top, bottom)
	}
	for o := 1; o <= 8; o++ { // every orientation keeps or swaps the size
		r := orient(image.NewRGBA(image.Rect(0, 0, 3, 2)), o)
		if swapsAxes(o) != (r.Rect.Dx() == 2) {
			t.Fatalf("orientation %d: %v", o, r.Rect)
		}
	}
	if jpegOrientation(bytes.NewReader(jb.Bytes())) != 1 {
		t.Fatal("no EXIF: orientation must be 1")
	}
}

// FuzzJPEGOrientation: any header gives an orientation in 1..8.
func FuzzJPEGOrientation(f *testing.F) {
	var jb bytes.Buffer
	_ = jpeg.Encode(&jb, testImage(4, 4), nil)
	f.Add(withOrientation(jb.Bytes(), 6))
	f.Add(jb.Bytes())
	f.Add([]byte{0xFF, 0xD8, 0xFF, 0xE1, 0x00, 0x02})
	f.Fuzz(func(t *testing.T, data []byte) {
		if o := jpegOrientation(bytes.NewReader(data)); o < 1 || o > 8 {
			t.Fatalf("orientation %d", o)
		}
	})
}
