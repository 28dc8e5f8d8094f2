package e2e

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/axon-hs/axon/internal/config"
	"github.com/axon-hs/axon/internal/testutil"
	"github.com/axon-hs/axon/server/testserver"
)

// inputConn opens a raw TCP connection to the server's client listener.
func inputConn(t *testing.T, inst *testserver.Instance) net.Conn {
	t.Helper()
	u, err := url.Parse(inst.URL)
	if err != nil {
		t.Fatal(err)
	}
	c, err := net.DialTimeout("tcp", u.Host, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// inputReadToClose reads until the server closes the connection and
// returns what it sent. The deadline is generous (it is not a timing
// assertion): only a server that never closes fails.
func inputReadToClose(t *testing.T, c net.Conn) string {
	t.Helper()
	if err := c.SetReadDeadline(time.Now().Add(60 * time.Second)); err != nil {
		t.Fatal(err)
	}
	data, err := io.ReadAll(c)
	if errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("server kept the connection open; read so far: %q", data)
	}
	return string(data) // EOF or a reset both mean closed
}

// TestInputSlowClientsAreCutOff: a client that trickles its body or its
// headers loses its connection; one that declares a body over the limit
// gets 413 at once, without sending it.
func TestInputSlowClientsAreCutOff(t *testing.T) {
	inst := testserver.Start(t, testserver.Options{Configure: func(cfg *config.Config) {
		cfg.Limits.BodyTimeout = time.Second
		cfg.Limits.HeaderTimeout = time.Second
	}})

	t.Run("slow body", func(t *testing.T) {
		c := inputConn(t, inst)
		if _, err := io.WriteString(c, "POST /_matrix/client/v3/register HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"use"); err != nil {
			t.Fatal(err)
		}
		got := inputReadToClose(t, c)
		if strings.Contains(got, " 200 ") {
			t.Fatalf("a truncated body was answered 200: %q", got)
		}
	})
	t.Run("slow headers", func(t *testing.T) {
		c := inputConn(t, inst)
		if _, err := io.WriteString(c, "POST /_matrix/client/v3/register HTTP/1.1\r\nHost: x\r\n"); err != nil {
			t.Fatal(err)
		}
		inputReadToClose(t, c)
	})
	t.Run("declared length over the limit", func(t *testing.T) {
		c := inputConn(t, inst)
		if _, err := io.WriteString(c, "POST /_matrix/client/v3/register HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 10000000000\r\n\r\n"); err != nil {
			t.Fatal(err)
		}
		if err := c.SetReadDeadline(time.Now().Add(60 * time.Second)); err != nil {
			t.Fatal(err)
		}
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			t.Fatalf("no answer to a 10 GB Content-Length: %v", err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(string(body), "M_TOO_LARGE") {
			t.Fatalf("got %d %s, want 413 M_TOO_LARGE", resp.StatusCode, body)
		}
	})
}

// TestInputConnectionsPerIPCapped: past limits.max_connections_per_ip, new
// connections from the same IP are closed at once; closing one frees a
// slot.
func TestInputConnectionsPerIPCapped(t *testing.T) {
	inst := testserver.Start(t, testserver.Options{Configure: func(cfg *config.Config) {
		cfg.Limits.MaxConnectionsPerIP = 3
	}})
	// Keep three connections busy (each with a request whose body is
	// still to come, so none is idle-closed).
	var held []net.Conn
	for range 3 {
		c := inputConn(t, inst)
		if _, err := io.WriteString(c, "POST /_matrix/client/v3/login HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n"); err != nil {
			t.Fatal(err)
		}
		held = append(held, c)
	}
	// The server accepts in order, so the fourth is refused only once
	// the three are counted: poll until a fresh connection is closed.
	testutil.Eventually(t, 30*time.Second, "a connection over the cap is closed", func() bool {
		c := inputConn(t, inst)
		defer c.Close()
		if _, err := io.WriteString(c, "GET /_matrix/client/versions HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
			return true
		}
		return !strings.Contains(inputReadToClose(t, c), "200 OK")
	})
	held[0].Close()
	testutil.Eventually(t, 30*time.Second, "a slot frees up after a close", func() bool {
		resp, err := http.Get(inst.URL + "/_matrix/client/versions")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
}

// TestInputMaxRequestBytesIsTrue: limits.max_request_bytes governs JSON
// routes: a body under it is decoded (here 2 MiB of account data under a
// 4 MiB limit), one over it is refused.
func TestInputMaxRequestBytesIsTrue(t *testing.T) {
	inst := testserver.Start(t, testserver.Options{Configure: func(cfg *config.Config) {
		cfg.Limits.MaxRequestBytes = 4 << 20
	}})
	c := inst.Register("big", "password123")
	path := inst.URL + "/_matrix/client/v3/user/" + url.PathEscape(string(inst.UserID("big"))) + "/account_data/org.example.big"
	under := `{"v":"` + strings.Repeat("x", 2<<20) + `"}`
	acctExpect(t, "2 MiB under a 4 MiB limit", acctDo(t, "PUT", path, c.AccessToken, under), http.StatusOK, "")
	over := `{"v":"` + strings.Repeat("x", 5<<20) + `"}`
	acctExpect(t, "5 MiB over a 4 MiB limit", acctDo(t, "PUT", path, c.AccessToken, over), http.StatusRequestEntityTooLarge, "M_TOO_LARGE")
}
