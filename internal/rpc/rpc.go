// Package rpc serves a component's Go interface over NATS request/reply,
// so a polylith process can call a component that runs in another
// process through the very interface a monolith calls directly.
//
// The server side is generic (reflection over the interface's methods);
// the client side is generated (internal/rpc/rpcgen writes one small
// method per interface method that calls Client.Call). Methods must look like
// Method(ctx context.Context, args...) (results..., error) with
// JSON-encodable args and results.
package rpc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
)

// DefaultTimeout bounds a call whose context has no deadline.
const DefaultTimeout = 30 * time.Second

type request struct {
	Args []json.RawMessage `json:"args"`
	// DeadlineMs is the caller's remaining time.
	DeadlineMs int64 `json:"deadline_ms,omitempty"`
}

type response struct {
	Results []json.RawMessage `json:"results,omitempty"`
	Error   *wireError        `json:"error,omitempty"`
}

// wireError carries an error across; Kind names a registered error type
// or sentinel so the caller gets an error errors.Is/As understands.
type wireError struct {
	Kind    string          `json:"kind,omitempty"`
	Message string          `json:"message"`
	Data    json.RawMessage `json:"data,omitempty"`
}

var (
	errMu      sync.RWMutex
	sentinels  = map[string]error{}
	errorTypes = map[string]reflect.Type{} // kind -> pointer type
)

// RegisterSentinel makes err cross the wire as itself (errors.Is works).
// Each api package registers its own errors in its init(), so any process
// that can call a component knows that component's errors.
func RegisterSentinel(kind string, err error) {
	errMu.Lock()
	defer errMu.Unlock()
	sentinels[kind] = err
}

// RegisterErrorType makes errors of example's (pointer) type cross the
// wire as that type, JSON-encoded (errors.As works).
func RegisterErrorType(kind string, example error) {
	errMu.Lock()
	defer errMu.Unlock()
	errorTypes[kind] = reflect.TypeOf(example)
}

// RoundTrip returns err as a caller in another process receives it
// (encoded and decoded as on the wire), for tests of the registrations.
func RoundTrip(err error) error { return decodeError(encodeError(err)) }

func encodeError(err error) *wireError {
	errMu.RLock()
	defer errMu.RUnlock()
	// Sentinels first: a sentinel may also be of a registered type, and
	// callers compare sentinels with errors.Is.
	for kind, s := range sentinels {
		if errors.Is(err, s) {
			return &wireError{Kind: kind, Message: err.Error()}
		}
	}
	for kind, t := range errorTypes {
		target := reflect.New(t)
		if errors.As(err, target.Interface()) {
			data, jerr := json.Marshal(target.Elem().Interface())
			if jerr == nil {
				return &wireError{Kind: kind, Message: err.Error(), Data: data}
			}
		}
	}
	return &wireError{Message: err.Error()}
}

func decodeError(w *wireError) error {
	errMu.RLock()
	defer errMu.RUnlock()
	if t, ok := errorTypes[w.Kind]; ok && len(w.Data) > 0 {
		v := reflect.New(t.Elem())
		if json.Unmarshal(w.Data, v.Interface()) == nil {
			if err, ok := v.Interface().(error); ok {
				return err
			}
		}
	}
	if s, ok := sentinels[w.Kind]; ok {
		if w.Message == s.Error() {
			return s
		}
		return fmt.Errorf("%s: %w", w.Message, s)
	}
	return &RemoteError{Message: w.Message}
}

// RemoteError is an error from the remote side with no registered type.
type RemoteError struct{ Message string }

func (e *RemoteError) Error() string { return e.Message }

func subject(prefix, component, method string) string {
	return prefix + ".rpc." + component + "." + method
}

var ctxType = reflect.TypeOf((*context.Context)(nil)).Elem()
var errType = reflect.TypeOf((*error)(nil)).Elem()

// MaxConcurrentCalls bounds the calls one Serve runs at once (over all
// its methods). NATS delivers a subscription's messages one at a time, so
// each call runs in a goroutine of its own: one slow call (a big join's
// state, a room waiting for its turn) must not hold up every other call
// to the method. Beyond the bound, delivery waits (back-pressure).
const MaxConcurrentCalls = 512

// Serve answers calls to every method of iface (an interface type, e.g.
// reflect.TypeOf((*api.RoomserverAPI)(nil)).Elem()) on impl. Processes
// serving the same component form a queue group, so calls are spread
// over them. It stops when ctx ends.
func Serve(ctx context.Context, nc *nats.Conn, prefix, component string, iface reflect.Type, impl any) error {
	v := reflect.ValueOf(impl)
	slots := make(chan struct{}, MaxConcurrentCalls)
	var subs []*nats.Subscription
	for i := 0; i < iface.NumMethod(); i++ {
		m := iface.Method(i)
		if err := checkSignature(m); err != nil {
			return fmt.Errorf("rpc %s.%s: %w", component, m.Name, err)
		}
		fn := v.MethodByName(m.Name)
		mt := m.Type
		sub, err := nc.QueueSubscribe(subject(prefix, component, m.Name), component, func(msg *nats.Msg) {
			slots <- struct{}{}
			go func() {
				defer func() { <-slots }()
				resp := invoke(ctx, fn, mt, msg.Data)
				data, err := json.Marshal(resp)
				if err != nil {
					data, _ = json.Marshal(response{Error: &wireError{Message: "rpc: encode results: " + err.Error()}})
				}
				if err := msg.Respond(data); err != nil {
					slog.Warn("rpc respond", "component", component, "method", m.Name, "error", err)
				}
			}()
		})
		if err != nil {
			return err
		}
		subs = append(subs, sub)
	}
	go func() {
		<-ctx.Done()
		for _, s := range subs {
			_ = s.Drain()
		}
	}()
	return nil
}

func checkSignature(m reflect.Method) error {
	t := m.Type
	if t.NumIn() == 0 || t.In(0) != ctxType {
		return errors.New("first argument must be context.Context")
	}
	if t.NumOut() == 0 || t.Out(t.NumOut()-1) != errType {
		return errors.New("last result must be error")
	}
	return nil
}

// invoke decodes the arguments, calls fn and encodes its results. A panic
// in the implementation becomes an error, not a dead server.
func invoke(parent context.Context, fn reflect.Value, mt reflect.Type, data []byte) (resp response) {
	defer func() {
		if p := recover(); p != nil {
			slog.Error("rpc handler panic", "panic", p)
			resp = response{Error: &wireError{Message: fmt.Sprint("internal error: ", p)}}
		}
	}()
	var req request
	if err := json.Unmarshal(data, &req); err != nil {
		return response{Error: &wireError{Message: "rpc: bad request: " + err.Error()}}
	}
	if len(req.Args) != mt.NumIn()-1 {
		return response{Error: &wireError{Message: fmt.Sprintf("rpc: want %d args, got %d", mt.NumIn()-1, len(req.Args))}}
	}
	timeout := DefaultTimeout
	if req.DeadlineMs > 0 {
		timeout = time.Duration(req.DeadlineMs) * time.Millisecond
	}
	ctx, cancel := context.WithTimeout(parent, timeout)
	defer cancel()
	args := []reflect.Value{reflect.ValueOf(ctx)}
	for i, raw := range req.Args {
		p := reflect.New(mt.In(i + 1))
		if err := json.Unmarshal(raw, p.Interface()); err != nil {
			return response{Error: &wireError{Message: fmt.Sprintf("rpc: arg %d: %v", i, err)}}
		}
		args = append(args, p.Elem())
	}
	out := fn.Call(args)
	if errV := out[len(out)-1]; !errV.IsNil() {
		return response{Error: encodeError(errV.Interface().(error))}
	}
	for _, r := range out[:len(out)-1] {
		b, err := json.Marshal(r.Interface())
		if err != nil {
			return response{Error: &wireError{Message: "rpc: encode result: " + err.Error()}}
		}
		resp.Results = append(resp.Results, b)
	}
	return resp
}

// Client calls a component served elsewhere.
type Client struct {
	nc        *nats.Conn
	prefix    string
	component string
}

// NewClient returns a client for component's methods.
func NewClient(nc *nats.Conn, prefix, component string) *Client {
	return &Client{nc: nc, prefix: prefix, component: component}
}

// Call invokes method with args and decodes its results into the
// pointers in results (one per non-error result).
func (c *Client) Call(ctx context.Context, method string, args []any, results ...any) error {
	return c.call(ctx, 0, method, args, results...)
}

// CallAttempt is Call waiting at most wait for the reply, while the
// serving process still works under ctx's deadline: a caller that sends an
// idempotent call again after an unanswered attempt (Unanswered) does not
// cut short the first attempt's work if its process is alive.
func (c *Client) CallAttempt(ctx context.Context, wait time.Duration, method string, args []any, results ...any) error {
	return c.call(ctx, wait, method, args, results...)
}

func (c *Client) call(ctx context.Context, wait time.Duration, method string, args []any, results ...any) error {
	req := request{}
	for _, a := range args {
		b, err := json.Marshal(a)
		if err != nil {
			return fmt.Errorf("rpc %s.%s: encode args: %w", c.component, method, err)
		}
		req.Args = append(req.Args, b)
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, DefaultTimeout)
		defer cancel()
	}
	if dl, ok := ctx.Deadline(); ok {
		req.DeadlineMs = max(time.Until(dl).Milliseconds(), 1)
	}
	data, _ := json.Marshal(req)
	if wait > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, wait)
		defer cancel()
	}
	msg, err := c.nc.RequestWithContext(ctx, subject(c.prefix, c.component, method), data)
	if err != nil {
		return fmt.Errorf("rpc %s.%s: %w", c.component, method, err)
	}
	var resp response
	if err := json.Unmarshal(msg.Data, &resp); err != nil {
		return fmt.Errorf("rpc %s.%s: bad response: %w", c.component, method, err)
	}
	if resp.Error != nil {
		return decodeError(resp.Error)
	}
	if len(resp.Results) != len(results) {
		return fmt.Errorf("rpc %s.%s: want %d results, got %d", c.component, method, len(results), len(resp.Results))
	}
	for i, r := range resp.Results {
		if err := json.Unmarshal(r, results[i]); err != nil {
			return fmt.Errorf("rpc %s.%s: result %d: %w", c.component, method, i, err)
		}
	}
	return nil
}
