package mediaapi

import (
	"bytes"
	"io"
	"mime/multipart"
	"net/textproto"
	"strings"
	"testing"
)

func federationBody(t testing.TB, meta string, content []byte, location string) (string, []byte) {
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	p, _ := mw.CreatePart(textproto.MIMEHeader{"Content-Type": {"application/json"}})
	_, _ = p.Write([]byte(meta))
	h := textproto.MIMEHeader{"Content-Type": {"image/png"}, "Content-Disposition": {`inline; filename="a b.png"`}}
	if location != "" {
		h = textproto.MIMEHeader{"Location": {location}}
	}
	p, _ = mw.CreatePart(h)
	_, _ = p.Write(content)
	_ = mw.Close()
	return "multipart/mixed; boundary=" + mw.Boundary(), b.Bytes()
}

func TestReadMediaMultipart(t *testing.T) {
	ct, body := federationBody(t, "{}", []byte("PNGDATA"), "")
	var got []byte
	rc, err := readMediaMultipart(bytes.NewReader(body), ct, func(h textproto.MIMEHeader, r io.Reader) error {
		var err error
		got, err = io.ReadAll(r)
		return err
	})
	if err != nil || string(got) != "PNGDATA" || rc.header.Get("Content-Type") != "image/png" || fileNameFrom(rc.header.Get("Content-Disposition")) != "a b.png" {
		t.Fatalf("rc %+v got %q err %v", rc, got, err)
	}
	ct, body = federationBody(t, "{}", nil, "https://cdn.example.org/x")
	rc, err = readMediaMultipart(bytes.NewReader(body), ct, func(textproto.MIMEHeader, io.Reader) error {
		t.Fatal("body handler called for the redirect form")
		return nil
	})
	if err != nil || rc.location != "https://cdn.example.org/x" {
		t.Fatalf("redirect form: %+v %v", rc, err)
	}
	for _, bad := range []string{"not json", "[1]", strings.Repeat(" ", maxMetadataBytes+1) + "{}"} {
		ct, body = federationBody(t, bad, []byte("x"), "")
		if _, err := readMediaMultipart(bytes.NewReader(body), ct, func(textproto.MIMEHeader, io.Reader) error { return nil }); err == nil {
			t.Fatalf("metadata %.20q accepted", bad)
		}
	}
	if _, err := readMediaMultipart(bytes.NewReader(body), "application/json", nil); err == nil {
		t.Fatal("non-multipart accepted")
	}
}

// FuzzReadMediaMultipart: any response body, however broken, gives a
// result or an error, never a panic or an unbounded read of metadata.
func FuzzReadMediaMultipart(f *testing.F) {
	ct, body := federationBody(f, "{}", []byte("content"), "")
	boundary := strings.TrimPrefix(ct, "multipart/mixed; boundary=")
	f.Add(boundary, body)
	_, body = federationBody(f, `{"a":1}`, nil, "https://x/y")
	f.Add(boundary, body)
	f.Add("b", []byte("--b\r\nContent-Type: application/json\r\n\r\n{}\r\n--b--"))
	f.Fuzz(func(t *testing.T, boundary string, body []byte) {
		_, _ = readMediaMultipart(bytes.NewReader(body), "multipart/mixed; boundary=\""+boundary+"\"", func(h textproto.MIMEHeader, r io.Reader) error {
			_, err := io.Copy(io.Discard, io.LimitReader(r, 1<<20))
			return err
		})
	})
}
