package e2e

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io"
	"net/http"
	"testing"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/id"
)

// mediaImage is a w×h gradient (compresses like a photo, not like a flat
// colour).
func mediaImage(w, h int) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			img.Set(x, y, color.RGBA{uint8(x * 255 / w), uint8(y * 255 / h), uint8((x + y) % 256), 255})
		}
	}
	return img
}

func mediaPNG(t testing.TB, w, h int) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, mediaImage(w, h)); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func mediaJPEG(t testing.TB, w, h int) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := jpeg.Encode(&b, mediaImage(w, h), &jpeg.Options{Quality: 90}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// mediaUpload uploads data with the synchronous API.
func mediaUpload(t testing.TB, c *mautrix.Client, data []byte, contentType, fileName string) id.ContentURI {
	t.Helper()
	resp, err := c.UploadMedia(context.Background(), mautrix.ReqUploadMedia{ContentBytes: data, ContentType: contentType, FileName: fileName})
	if err != nil {
		t.Fatalf("upload: %v", err)
	}
	return resp.ContentURI
}

// mediaGet fetches a URL with an optional token and returns status,
// headers and body.
func mediaGet(t testing.TB, url, token string) (int, http.Header, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := acctHTTPClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, body
}

// mediaDownload downloads with the authenticated API through mautrix.
func mediaDownload(t testing.TB, c *mautrix.Client, uri id.ContentURI) (http.Header, []byte) {
	t.Helper()
	resp, err := c.Download(context.Background(), uri)
	if err != nil {
		t.Fatalf("download %s: %v", uri, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.Header, body
}

// mediaThumbnailSize fetches a thumbnail (authenticated) and decodes it.
func mediaThumbnailSize(t testing.TB, c *mautrix.Client, uri id.ContentURI, w, h int, method string) (image.Config, string, http.Header) {
	t.Helper()
	resp, err := c.DownloadThumbnail(context.Background(), uri, h, w, mautrix.DownloadThumbnailExtra{Method: method})
	if err != nil {
		t.Fatalf("thumbnail %s %dx%d %s: %v", uri, w, h, method, err)
	}
	defer resp.Body.Close()
	cfg, format, err := image.DecodeConfig(resp.Body)
	if err != nil {
		t.Fatalf("thumbnail is not an image: %v", err)
	}
	return cfg, format, resp.Header
}

// mediaIsErr reports whether err is a Matrix error with target's errcode.
func mediaIsErr(err error, target mautrix.RespError) bool {
	var re mautrix.HTTPError
	return asHTTPError(err, &re) && re.RespError != nil && re.RespError.ErrCode == target.ErrCode
}

func asHTTPError(err error, re *mautrix.HTTPError) bool { return errors.As(err, re) }

// setPNGSize rewrites a PNG's IHDR to declare w×h pixels (a
// decompression bomb: tiny file, huge image), fixing the chunk CRC.
func setPNGSize(data []byte, w, h uint32) {
	binary.BigEndian.PutUint32(data[16:], w)
	binary.BigEndian.PutUint32(data[20:], h)
	binary.BigEndian.PutUint32(data[29:], crc32.ChecksumIEEE(data[12:29]))
}

// mediaConcurrentDownloads has n clients download uri at once (the same
// client's token) and checks each got data; the first failure is
// returned (safe off the test goroutine).
func mediaConcurrentDownloads(c *mautrix.Client, uri id.ContentURI, data []byte, n int) error {
	errs := make(chan error, n)
	for i := 0; i < n; i++ {
		go func() {
			resp, err := c.Download(context.Background(), uri)
			if err != nil {
				errs <- err
				return
			}
			defer resp.Body.Close()
			got, err := io.ReadAll(resp.Body)
			if err == nil && !bytes.Equal(got, data) {
				err = fmt.Errorf("download of %s: %d bytes, want %d", uri, len(got), len(data))
			}
			errs <- err
		}()
	}
	var first error
	for i := 0; i < n; i++ {
		if err := <-errs; err != nil && first == nil {
			first = err
		}
	}
	return first
}
