// Package logging builds the server's one logger from the config and
// sends what libraries log elsewhere (gomatrixserverlib's logrus, the
// standard log package) through it, so `logging.format: json` yields only
// JSON lines.
package logging

import (
	"context"
	"io"
	"log"
	"log/slog"

	"github.com/sirupsen/logrus"

	"github.com/axon-hs/axon/internal/config"
)

// New returns the logger for c writing to w, and makes it the process's
// default (slog, the log package and logrus all write through it).
func New(c config.Logging, w io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(c.Level)) // validated by config
	opts := &slog.HandlerOptions{Level: level}
	var h slog.Handler = slog.NewTextHandler(w, opts)
	if c.Format == "json" {
		h = slog.NewJSONHandler(w, opts)
	}
	l := slog.New(h)
	slog.SetDefault(l) // also routes the standard log package
	log.SetFlags(0)
	RouteLogrus(l, level)
	return l
}

// RouteLogrus makes the global logrus logger (used by gomatrixserverlib)
// write nothing itself and hand every entry at or above level to l, with
// its fields as attributes.
func RouteLogrus(l *slog.Logger, level slog.Level) {
	logrus.SetOutput(io.Discard)
	logrus.SetLevel(logrusLevel(level))
	logrus.StandardLogger().ReplaceHooks(logrus.LevelHooks{})
	logrus.AddHook(&slogHook{log: l.With("library", "logrus")})
}

// slogHook forwards logrus entries to slog.
type slogHook struct{ log *slog.Logger }

func (h *slogHook) Levels() []logrus.Level { return logrus.AllLevels }

func (h *slogHook) Fire(e *logrus.Entry) error {
	attrs := make([]slog.Attr, 0, len(e.Data))
	for k, v := range e.Data {
		if err, ok := v.(error); ok {
			v = err.Error()
		}
		attrs = append(attrs, slog.Any(k, v))
	}
	ctx := e.Context
	if ctx == nil {
		ctx = context.Background()
	}
	h.log.LogAttrs(ctx, slogLevel(e.Level), e.Message, attrs...)
	return nil
}

func slogLevel(l logrus.Level) slog.Level {
	switch {
	case l <= logrus.ErrorLevel: // panic, fatal, error
		return slog.LevelError
	case l == logrus.WarnLevel:
		return slog.LevelWarn
	case l == logrus.InfoLevel:
		return slog.LevelInfo
	default:
		return slog.LevelDebug
	}
}

func logrusLevel(l slog.Level) logrus.Level {
	switch {
	case l >= slog.LevelError:
		return logrus.ErrorLevel
	case l >= slog.LevelWarn:
		return logrus.WarnLevel
	case l >= slog.LevelInfo:
		return logrus.InfoLevel
	default:
		return logrus.TraceLevel
	}
}
