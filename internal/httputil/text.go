package httputil

import (
	"net/http"
	"net/url"

	"github.com/axon-hs/axon/internal/jsontext"
)

// checkRequestText applies the jsontext rule to the decoded path (so to
// every path parameter), to every query parameter and to every header
// value (some are stored: User-Agent with a device, a media upload's
// Content-Type), for every route. JSON bodies are checked by
// UnmarshalJSON.
func checkRequestText(req *http.Request) *JSONResponse {
	if err := jsontext.CheckString(req.URL.Path); err != nil {
		r := InvalidParam("Path refused: %v", err)
		return &r
	}
	for name, vs := range req.Header {
		if name == "Cookie" { // never read by Axon; browsers send other sites' cookies on the same host
			continue
		}
		for _, v := range vs {
			if err := jsontext.CheckString(v); err != nil {
				r := InvalidParam("Header %s refused: %v", name, err)
				return &r
			}
		}
	}
	if req.URL.RawQuery == "" {
		return nil
	}
	q, _ := url.ParseQuery(req.URL.RawQuery) // what handlers see: malformed pairs are dropped
	for k, vs := range q {
		if err := jsontext.CheckString(k); err != nil {
			r := InvalidParam("Query parameter name refused: %v", err)
			return &r
		}
		for _, v := range vs {
			if err := jsontext.CheckString(v); err != nil {
				r := InvalidParam("Query parameter %q refused: %v", k, err)
				return &r
			}
		}
	}
	return nil
}
