package federationapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/matrix-org/gomatrix"
	"github.com/matrix-org/gomatrixserverlib"
	"github.com/matrix-org/gomatrixserverlib/spec"

	fedapi "github.com/axon-hs/axon/federationapi/api"
	"github.com/axon-hs/axon/internal/matrixrules"
)

// performTimeout bounds one remote operation (make_X + send_X) against
// one server; each request inside is also bounded by requestTimeout.
const performTimeout = 2 * time.Minute

// remoteError turns a failed request to another server into an error a
// client can be shown: the remote Matrix error when there was one.
func remoteError(server spec.ServerName, err error) *fedapi.Error {
	var he gomatrix.HTTPError
	if errors.As(err, &he) {
		var re gomatrix.RespError
		if errors.As(he.WrappedError, &re) && re.ErrCode != "" {
			return &fedapi.Error{Status: he.Code, Code: re.ErrCode, Message: fmt.Sprintf("%s: %s", server, re.Err)}
		}
		slog.Debug("federation request failed", "server", server, "status", he.Code)
		return &fedapi.Error{Status: http.StatusBadGateway, Code: "M_UNKNOWN", Message: fmt.Sprintf("Could not reach %s", server)}
	}
	var fe *fedapi.Error
	if errors.As(err, &fe) {
		return fe
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return &fedapi.Error{Status: http.StatusGatewayTimeout, Code: "M_UNKNOWN", Message: fmt.Sprintf("%s did not answer in time", server)}
	}
	// The cause (refused, reset, no route, not public, TLS…) is logged,
	// not shown: told apart, it would let a client probe which ports are
	// open wherever a server name points.
	slog.Debug("federation request failed", "server", server, "error", err)
	return &fedapi.Error{Status: http.StatusBadGateway, Code: "M_UNKNOWN", Message: fmt.Sprintf("Could not reach %s", server)}
}

func fedErr(status int, code, format string, args ...any) *fedapi.Error {
	return &fedapi.Error{Status: status, Code: code, Message: fmt.Sprintf(format, args...)}
}

// domainOf is the server part of a user ID, alias or room ID ("" if none).
func domainOf(id string) spec.ServerName {
	if i := strings.IndexByte(id, ':'); i >= 0 {
		return spec.ServerName(id[i+1:])
	}
	return ""
}

// candidates lists servers to try, in order, without duplicates, empty
// names or ourselves.
func (f *FederationAPI) candidates(lists ...[]string) []spec.ServerName {
	seen := map[string]bool{}
	var out []spec.ServerName
	for _, l := range lists {
		for _, s := range l {
			if s == "" || seen[s] || spec.ServerName(s) == f.id.ServerName {
				continue
			}
			seen[s] = true
			out = append(out, spec.ServerName(s))
		}
	}
	return out
}

// buildSigned turns a template from another server into our signed event.
func (f *FederationAPI) buildSigned(ver gomatrixserverlib.IRoomVersion, proto gomatrixserverlib.ProtoEvent, content map[string]any) (gomatrixserverlib.PDU, error) {
	merged := map[string]any{}
	if len(proto.Content) > 0 {
		_ = json.Unmarshal(proto.Content, &merged)
	}
	for k, v := range content {
		merged[k] = v
	}
	b := ver.NewEventBuilderFromProtoEvent(&proto)
	if err := b.SetContent(merged); err != nil {
		return nil, err
	}
	if err := b.SetUnsigned(struct{}{}); err != nil {
		return nil, err
	}
	return b.Build(time.Now(), f.id.ServerName, f.id.KeyID, f.id.PrivateKey)
}

// roomVersion checks a version another server offers.
func roomVersion(v gomatrixserverlib.RoomVersion) (gomatrixserverlib.IRoomVersion, *fedapi.Error) {
	if v == "" {
		v = matrixrules.VersionV1
	}
	ver, err := matrixrules.Version(string(v))
	if err != nil {
		return nil, fedErr(http.StatusBadRequest, "M_UNSUPPORTED_ROOM_VERSION", "room version %q is not supported", v)
	}
	return ver, nil
}

// fetchEvent gets one event from server and checks its signatures.
func (f *FederationAPI) fetchEvent(ctx context.Context, server spec.ServerName, ver gomatrixserverlib.IRoomVersion, eventID string) (gomatrixserverlib.PDU, error) {
	txn, err := f.Client.GetEvent(ctx, f.id.ServerName, server, eventID)
	if err != nil {
		return nil, err
	}
	if len(txn.PDUs) == 0 {
		return nil, fmt.Errorf("%s returned no event for %s", server, eventID)
	}
	ev, err := ver.NewEventFromUntrustedJSON(txn.PDUs[0])
	if err != nil {
		return nil, err
	}
	if ev.EventID() != eventID {
		return nil, fmt.Errorf("%s returned event %s for %s", server, ev.EventID(), eventID)
	}
	if err := gomatrixserverlib.VerifyEventSignatures(ctx, ev, f.ring, userIDForSender); err != nil {
		return nil, err
	}
	return ev, nil
}
