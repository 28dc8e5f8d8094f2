package httputil

import (
	"io"
	"net/http"
	"sync"
	"time"
)

// deadlineBody gives a request body a read deadline on its connection
// and lifts it once the whole body has been read: afterwards the server's
// own background read watches the connection for the rest of the
// request, and a deadline left behind would cancel long-polls. A body
// not read to the end keeps the deadline, so the server's discarding of
// the rest after the handler cannot hang on a trickling client either.
type deadlineBody struct {
	io.ReadCloser
	rc   *http.ResponseController
	once sync.Once
}

func newDeadlineBody(w http.ResponseWriter, body io.ReadCloser, timeout time.Duration) io.ReadCloser {
	rc := http.NewResponseController(w)
	if rc.SetReadDeadline(time.Now().Add(timeout)) != nil {
		return body // not a connection we can set deadlines on (tests' recorders)
	}
	return &deadlineBody{ReadCloser: body, rc: rc}
}

func (b *deadlineBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err == io.EOF {
		b.lift()
	}
	return n, err
}

func (b *deadlineBody) lift() {
	b.once.Do(func() { _ = b.rc.SetReadDeadline(time.Time{}) })
}
