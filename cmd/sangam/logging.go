package main

import (
	"fmt"
	"io"
	"log/slog"
)

type logOptions struct {
	level  string
	format string
}

func (l *logOptions) register(o *options) {
	o.String(&l.level, "log-level", "LOG_LEVEL", "info", "log level: debug, info, warn or error")
	o.String(&l.format, "log-format", "LOG_FORMAT", "text", "log format: text or json")
}

func (l *logOptions) logger(w io.Writer) (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(l.level)); err != nil {
		return nil, fmt.Errorf("LOG_LEVEL (--log-level) must be debug, info, warn or error, not %q", l.level)
	}
	opts := &slog.HandlerOptions{Level: level}
	switch l.format {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	default:
		return nil, fmt.Errorf("LOG_FORMAT (--log-format) must be text or json, not %q", l.format)
	}
}
