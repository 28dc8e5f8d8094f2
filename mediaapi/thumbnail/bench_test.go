package thumbnail

import (
	"bytes"
	"image/jpeg"
	"testing"
)

// BenchmarkThumbnail4000x3000JPEG: decode a 12-megapixel JPEG once and
// make the five default sizes (what an upload costs).
func BenchmarkThumbnail4000x3000JPEG(b *testing.B) {
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, testImage(4000, 3000), &jpeg.Options{Quality: 90}); err != nil {
		b.Fatal(err)
	}
	sizes := []Size{{32, 32, Crop}, {96, 96, Crop}, {320, 240, Scale}, {640, 480, Scale}, {800, 600, Scale}}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		src, err := Decode(bytes.NewReader(buf.Bytes()), 32_000_000, false)
		if err != nil {
			b.Fatal(err)
		}
		for _, s := range sizes {
			if _, err := src.Make(s); err != nil {
				b.Fatal(err)
			}
		}
	}
}

func BenchmarkDecode4000x3000JPEG(b *testing.B) {
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, testImage(4000, 3000), &jpeg.Options{Quality: 90}); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := Decode(bytes.NewReader(buf.Bytes()), 32_000_000, false); err != nil {
			b.Fatal(err)
		}
	}
}
