package mediaapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/textproto"
)

// maxMetadataBytes bounds the JSON part of a federation media response.
const maxMetadataBytes = 64 << 10

// remoteContent is the content part of a federation media response:
// its headers, and either its body or where to fetch it (Location).
type remoteContent struct {
	header   textproto.MIMEHeader
	location string
}

// readMediaMultipart reads a federation media response (multipart/mixed:
// JSON metadata, then the content or a Location), passing the content
// part's body to onBody while it is being read.
func readMediaMultipart(body io.Reader, contentType string, onBody func(h textproto.MIMEHeader, r io.Reader) error) (*remoteContent, error) {
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil || mt != "multipart/mixed" || params["boundary"] == "" {
		return nil, fmt.Errorf("not a multipart/mixed response (%q)", contentType)
	}
	mr := multipart.NewReader(body, params["boundary"])
	meta, err := mr.NextRawPart()
	if err != nil {
		return nil, fmt.Errorf("metadata part: %w", err)
	}
	if mt, _, _ := mime.ParseMediaType(meta.Header.Get("Content-Type")); mt != "application/json" {
		return nil, fmt.Errorf("metadata part is %q, not JSON", meta.Header.Get("Content-Type"))
	}
	raw, err := io.ReadAll(io.LimitReader(meta, maxMetadataBytes+1))
	if err != nil {
		return nil, fmt.Errorf("metadata part: %w", err)
	}
	var obj map[string]json.RawMessage
	if len(raw) > maxMetadataBytes || json.Unmarshal(raw, &obj) != nil {
		return nil, errors.New("metadata part is not a JSON object")
	}
	part, err := mr.NextRawPart()
	if err != nil {
		return nil, fmt.Errorf("content part: %w", err)
	}
	rc := &remoteContent{header: part.Header}
	if loc := part.Header.Get("Location"); loc != "" {
		rc.location = loc
		return rc, nil
	}
	if err := onBody(part.Header, part); err != nil {
		return nil, err
	}
	return rc, nil
}

// fileNameFrom reads the file name of a Content-Disposition ("" if none).
func fileNameFrom(contentDisposition string) string {
	if _, params, err := mime.ParseMediaType(contentDisposition); err == nil {
		if n := params["filename"]; n != "" && len(n) <= maxFileNameBytes {
			return n
		}
	}
	return ""
}
