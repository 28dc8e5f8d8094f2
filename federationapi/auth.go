package federationapi

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"time"

	"github.com/matrix-org/gomatrixserverlib"
	"github.com/matrix-org/gomatrixserverlib/fclient"
	"github.com/matrix-org/gomatrixserverlib/spec"

	fedapi "github.com/axon-hs/axon/federationapi/api"
	"github.com/axon-hs/axon/internal/httputil"
	"github.com/axon-hs/axon/internal/jsontext"
)

// FedRequest is an inbound request whose X-Matrix signature checked out.
type FedRequest struct {
	*http.Request
	// Origin is the authenticated sending server.
	Origin spec.ServerName
	// Content is the request body (nil when empty).
	Content []byte
}

// FedHandler answers an authenticated federation request.
type FedHandler func(req *FedRequest) httputil.JSONResponse

func unauthorized(msg string) httputil.JSONResponse {
	return httputil.Error(http.StatusUnauthorized, "M_UNAUTHORIZED", "%s", msg)
}

// authenticate checks the X-Matrix Authorization header(s) of req against
// the origin's signing keys. The signed object covers method, URI, origin,
// destination (always us) and the JSON body.
func authenticate(req *http.Request, us spec.ServerName, verifier gomatrixserverlib.JSONVerifier, now time.Time) (*FedRequest, *httputil.JSONResponse) {
	fail := func(r httputil.JSONResponse) (*FedRequest, *httputil.JSONResponse) { return nil, &r }
	body, err := io.ReadAll(req.Body)
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return fail(httputil.TooLarge("Request body too large"))
		}
		return fail(httputil.Unknown("Could not read request body"))
	}
	origin, errResp := verifyXMatrix(req.Context(), req.Method, req.URL.RequestURI(), req.Header.Values("Authorization"), body, us, verifier, now)
	if errResp != nil {
		return nil, errResp
	}
	return &FedRequest{Request: req, Origin: origin, Content: body}, nil
}

// verifyXMatrix checks X-Matrix authorization headers over method, uri and
// body, returning the authenticated origin.
func verifyXMatrix(ctx context.Context, method, uri string, authHeaders []string, body []byte, us spec.ServerName, verifier gomatrixserverlib.JSONVerifier, now time.Time) (spec.ServerName, *httputil.JSONResponse) {
	fail := func(r httputil.JSONResponse) (spec.ServerName, *httputil.JSONResponse) { return "", &r }
	var origin spec.ServerName
	sigs := map[gomatrixserverlib.KeyID]string{}
	for _, h := range authHeaders {
		scheme, o, dest, key, sig := fclient.ParseAuthorization(h)
		if scheme != "X-Matrix" {
			continue
		}
		if o == "" || key == "" || sig == "" {
			return fail(unauthorized("Malformed X-Matrix Authorization header"))
		}
		if origin != "" && o != origin {
			return fail(unauthorized("X-Matrix headers name different origins"))
		}
		if dest != "" && dest != us {
			return fail(unauthorized("Request is for destination " + string(dest) + ", not this server"))
		}
		origin = o
		sigs[key] = sig
	}
	if origin == "" {
		return fail(unauthorized("Missing X-Matrix Authorization header"))
	}
	if _, _, ok := spec.ParseAndValidateServerName(origin); !ok {
		return fail(unauthorized("Invalid origin server name"))
	}
	if len(body) > 0 && !json.Valid(body) {
		return fail(httputil.NotJSON("Request body is not valid JSON"))
	}
	// The signed object is built here, so it is split into the bytes the
	// signatures cover and the signatures directly (a 50-PDU body is not
	// decoded and re-encoded again by the verifier, nor by a marshaller).
	msg := signedRequest(method, uri, origin, us, body)
	prepared := &gomatrixserverlib.SignedJSON{Signatures: map[string]map[gomatrixserverlib.KeyID]spec.Base64Bytes{string(origin): {}}}
	var err error
	if prepared.Canonical, err = gomatrixserverlib.CanonicalJSON(msg); err != nil {
		return fail(httputil.BadJSON("Request body is not valid JSON"))
	}
	for key, sig := range sigs {
		var raw spec.Base64Bytes
		if raw.Decode(sig) != nil {
			return fail(unauthorized("Invalid request signature"))
		}
		prepared.Signatures[string(origin)][key] = raw
	}
	results, err := verifier.VerifyJSONs(ctx, []gomatrixserverlib.VerifyJSONRequest{{
		ServerName: origin, AtTS: spec.AsTimestamp(now), Message: msg, Prepared: prepared,
		ValidityCheckingFunc: gomatrixserverlib.StrictValiditySignatureCheck,
	}})
	if err != nil {
		return fail(httputil.InternalError())
	}
	if results[0].Error != nil {
		return fail(unauthorized("Invalid request signature"))
	}
	return origin, nil
}

// signedRequest is the object an X-Matrix signature covers, its keys in
// order (the body, valid JSON, is copied as it is).
func signedRequest(method, uri string, origin, destination spec.ServerName, body []byte) []byte {
	msg := make([]byte, 0, len(body)+len(uri)+128)
	msg = append(msg, '{')
	if len(body) > 0 {
		msg = append(msg, `"content":`...)
		msg = append(msg, body...)
		msg = append(msg, ',')
	}
	for i, kv := range [][2]string{{"destination", string(destination)}, {"method", method}, {"origin", string(origin)}, {"uri", uri}} {
		if i > 0 {
			msg = append(msg, ',')
		}
		v, _ := json.Marshal(kv[1]) // a string always encodes
		msg = append(append(append(msg, '"'), kv[0]+`":`...), v...)
	}
	return append(msg, '}')
}

// VerifyRequest checks the X-Matrix signature of a request another
// component received (media routes, which stream their responses).
func (f *FederationAPI) VerifyRequest(ctx context.Context, req *fedapi.SignedRequest) (string, error) {
	origin, errResp := verifyXMatrix(ctx, req.Method, req.RequestURI, req.Authorization, req.Content, f.id.ServerName, f.ring, time.Now())
	if errResp != nil {
		me, _ := errResp.JSON.(*httputil.MatrixError)
		if me == nil {
			me = &httputil.MatrixError{ErrCode: "M_UNKNOWN", Err: "Request verification failed"}
		}
		return "", &fedapi.Error{Status: errResp.Code, Code: me.ErrCode, Message: me.Err}
	}
	if f.sender != nil {
		f.sender.MarkAlive(origin)
	}
	return string(origin), nil
}

// handleAuthed registers an X-Matrix authenticated federation route. Its
// body must pass the input text rule as a whole.
func (f *FederationAPI) handleAuthed(pattern string, h FedHandler) {
	f.handleAuthedBody(pattern, func(req *FedRequest) httputil.JSONResponse {
		if len(req.Content) > 0 {
			if err := jsontext.Check(req.Content); err != nil {
				return httputil.BadJSON("Request body refused: %v", err)
			}
		}
		return h(req)
	})
}

// handleAuthedBody is handleAuthed for a route that applies the text rule
// itself, item by item (/send: one bad PDU must not refuse the others).
func (f *FederationAPI) handleAuthedBody(pattern string, h FedHandler) {
	f.base.Federation.Handle(pattern, func(req *http.Request) httputil.JSONResponse {
		fr, errResp := authenticate(req, f.id.ServerName, f.ring, time.Now())
		if errResp != nil {
			if errResp.Code == http.StatusInternalServerError {
				f.base.Log.Error("federation auth: key lookup failed", "path", req.URL.Path)
			}
			return *errResp
		}
		if f.sender != nil {
			f.sender.MarkAlive(fr.Origin) // it just talked to us: stop backing off
		}
		return h(fr)
	})
}
