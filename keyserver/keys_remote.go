package keyserver

import (
	"context"
	"encoding/json"
	"sync"
	"time"
)

// defaultRemoteTimeout bounds a remote key request when the client names
// no timeout (the spec's recommended 10 s).
const defaultRemoteTimeout = 10 * time.Second

// addRemote files a remote user's part of a request under their server.
func addRemote[V any](byServer map[string]map[string]V, userID string, v V) {
	server := serverOf(userID)
	if server == "" {
		return
	}
	if byServer[server] == nil {
		byServer[server] = map[string]V{}
	}
	byServer[server][userID] = v
}

// askServers sends each server its part of a request through r (nil:
// no federation) in parallel, each within the timeout. Answers are
// merged one at a time; a server that fails is listed in failures.
func askServers[Req, Resp any](ctx context.Context, r Remote, byServer map[string]Req, timeout time.Duration,
	failures map[string]json.RawMessage, ask func(ctx context.Context, r Remote, server string, req Req) (Resp, error),
	merge func(server string, resp Resp)) {
	if len(byServer) == 0 {
		return
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for server, req := range byServer {
		if r == nil {
			failures[server] = unavailable("federation is not available")
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(ctx, remoteTimeout(timeout))
			defer cancel()
			res, err := ask(ctx, r, server, req)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				failures[server] = unavailable(err.Error())
				return
			}
			merge(server, res)
		}()
	}
	wg.Wait()
}

// mergeFrom copies a server's answer about its own users only: a server
// cannot speak for another's users.
func mergeFrom[V any](server string, dst, src map[string]V) {
	for u, v := range src {
		if serverOf(u) == server {
			dst[u] = v
		}
	}
}

func remoteTimeout(asked time.Duration) time.Duration {
	if asked <= 0 || asked > time.Minute {
		return defaultRemoteTimeout
	}
	return asked
}

// unavailable is a `failures` entry for a server that did not answer.
func unavailable(msg string) json.RawMessage {
	b, _ := json.Marshal(map[string]any{"status": 503, "message": msg})
	return b
}
