package thumbnail

import (
	"bufio"
	"errors"
	"fmt"
	"image"
	_ "image/gif" // formats DecodeConfig knows
	_ "image/jpeg"
	_ "image/png"
	"io"

	_ "golang.org/x/image/webp"
)

// ErrTooManyPixels: the header declares more pixels than allowed.
var ErrTooManyPixels = errors.New("thumbnail: image has too many pixels")

// ErrUnsupported: not an image format this package decodes.
var ErrUnsupported = errors.New("thumbnail: unsupported image format")

// maxFrames bounds the frames of an animation that is decoded in full.
const maxFrames = 1000

// Info is what the header tells.
type Info struct {
	Format        string // "jpeg", "png", "gif", "webp"
	Width, Height int
	// Frames is the number of frames of a GIF (1 for other formats).
	Frames int
}

// Pixels is Width×Height.
func (i Info) Pixels() int64 { return int64(i.Width) * int64(i.Height) }

// Probe reads the header of the image in r (no pixel data is decoded) and
// checks it against maxPixels. A GIF's frames are counted by walking its
// block structure, without decompressing them.
func Probe(r io.ReadSeeker, maxPixels int64) (Info, error) {
	cfg, format, err := image.DecodeConfig(bufio.NewReader(r))
	if err != nil {
		if errors.Is(err, image.ErrFormat) {
			return Info{}, ErrUnsupported
		}
		return Info{}, fmt.Errorf("thumbnail: bad image header: %w", err)
	}
	info := Info{Format: format, Width: cfg.Width, Height: cfg.Height, Frames: 1}
	if info.Width <= 0 || info.Height <= 0 {
		return info, fmt.Errorf("thumbnail: image has no pixels")
	}
	if info.Pixels() > maxPixels {
		return info, ErrTooManyPixels
	}
	if format == "gif" {
		if _, err := r.Seek(0, io.SeekStart); err != nil {
			return info, err
		}
		if info.Frames, err = CountGIFFrames(bufio.NewReader(r), maxFrames+1); err != nil {
			return info, err
		}
		if info.Frames == 0 {
			return info, fmt.Errorf("thumbnail: GIF has no frames")
		}
	}
	return info, nil
}

// CountGIFFrames counts image descriptors in a GIF, stopping at limit.
// It skips every data sub-block without decompressing it.
func CountGIFFrames(r io.ByteReader, limit int) (int, error) {
	next := func() (byte, error) { return r.ReadByte() }
	skip := func(n int) error {
		for ; n > 0; n-- {
			if _, err := next(); err != nil {
				return err
			}
		}
		return nil
	}
	skipSubBlocks := func() error {
		for {
			n, err := next()
			if err != nil {
				return err
			}
			if n == 0 {
				return nil
			}
			if err := skip(int(n)); err != nil {
				return err
			}
		}
	}
	bad := func(err error) (int, error) { return 0, fmt.Errorf("thumbnail: bad GIF: %w", err) }
	// Header (6) and logical screen descriptor (7).
	hdr := make([]byte, 13)
	for i := range hdr {
		b, err := next()
		if err != nil {
			return bad(err)
		}
		hdr[i] = b
	}
	if string(hdr[:3]) != "GIF" {
		return bad(errors.New("no GIF signature"))
	}
	if hdr[10]&0x80 != 0 { // global colour table
		if err := skip(3 << (hdr[10]&7 + 1)); err != nil {
			return bad(err)
		}
	}
	frames := 0
	for frames < limit {
		b, err := next()
		if err != nil {
			if frames > 0 && errors.Is(err, io.EOF) { // missing trailer: take what is there
				return frames, nil
			}
			return bad(err)
		}
		switch b {
		case 0x21: // extension: label, then sub-blocks
			if _, err := next(); err != nil {
				return bad(err)
			}
			if err := skipSubBlocks(); err != nil {
				return bad(err)
			}
		case 0x2C: // image descriptor
			desc := make([]byte, 9)
			for i := range desc {
				if desc[i], err = next(); err != nil {
					return bad(err)
				}
			}
			if desc[8]&0x80 != 0 { // local colour table
				if err := skip(3 << (desc[8]&7 + 1)); err != nil {
					return bad(err)
				}
			}
			if _, err := next(); err != nil { // LZW minimum code size
				return bad(err)
			}
			if err := skipSubBlocks(); err != nil {
				return bad(err)
			}
			frames++
		case 0x3B: // trailer
			return frames, nil
		default:
			return bad(fmt.Errorf("unknown block 0x%02x", b))
		}
	}
	return frames, nil
}
