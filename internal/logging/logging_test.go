package logging

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"log"
	"log/slog"
	"testing"

	"github.com/sirupsen/logrus"

	"github.com/axon-hs/axon/internal/config"
)

// TestJSONOnly: with format json, slog, the log package and logrus
// (gomatrixserverlib) all produce JSON lines, logrus fields included, and
// logrus respects the level.
func TestJSONOnly(t *testing.T) {
	prev := slog.Default()
	t.Cleanup(func() { slog.SetDefault(prev); logrus.SetOutput(log.Writer()) })
	var buf bytes.Buffer
	l := New(config.Logging{Level: "info", Format: "json"}, &buf)
	l.Info("from slog", "k", 1)
	log.Printf("from log")
	logrus.WithField("server", "example.org").WithError(errors.New("boom")).Warn("from logrus")
	logrus.Debug("below the level")

	var msgs []string
	sc := bufio.NewScanner(&buf)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("not a JSON line: %q", sc.Text())
		}
		msgs = append(msgs, m["msg"].(string))
		if m["msg"] == "from logrus" && (m["server"] != "example.org" || m["error"] != "boom" || m["level"] != "WARN") {
			t.Fatalf("logrus entry lost its fields or level: %v", m)
		}
	}
	want := []string{"from slog", "from log", "from logrus"}
	if len(msgs) != len(want) {
		t.Fatalf("lines %v, want %v", msgs, want)
	}
	for i := range want {
		if msgs[i] != want[i] {
			t.Fatalf("lines %v, want %v", msgs, want)
		}
	}
}
