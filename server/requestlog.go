package server

import (
	"context"
	"log/slog"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"
)

type requestIDKey struct{}

// RequestID returns the id of the request ctx belongs to, or "".
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

type httpMetrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

func newHTTPMetrics(reg *prometheus.Registry) (*httpMetrics, error) {
	m := &httpMetrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sangam_http_requests_total",
			Help: "HTTP requests served, by route and status code.",
		}, []string{"method", "route", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "sangam_http_request_duration_seconds",
			Help:    "Time to serve HTTP requests, by route.",
			Buckets: []float64{.001, .0025, .005, .01, .02, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"method", "route"}),
	}
	for _, c := range []prometheus.Collector{m.requests, m.duration} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// requestLog gives every request an id (kept from X-Request-Id when the
// caller sent a sane one), puts it in the context so every log line of the
// request can carry it, and writes one line per request. It logs the route
// pattern, never the query string or body: those may hold patient data.
func (s *Server) requestLog(c *fiber.Ctx) error {
	id := c.Get(fiber.HeaderXRequestID)
	if _, err := uuid.Parse(id); err != nil {
		id = uuid.NewString()
	}
	c.Set(fiber.HeaderXRequestID, id)
	c.SetUserContext(context.WithValue(c.UserContext(), requestIDKey{}, id))

	start := time.Now()
	err := c.Next()
	if err != nil {
		// Let the error handler write the response now, so the status we
		// log and count is the one the client gets.
		if herr := s.handleError(c, err); herr != nil {
			s.log.ErrorContext(c.UserContext(), "writing error response", "request_id", id, "err", herr)
		}
	}
	status := c.Response().StatusCode()
	route := c.Route().Path
	elapsed := time.Since(start)
	s.metrics.requests.WithLabelValues(c.Method(), route, strconv.Itoa(status)).Inc()
	s.metrics.duration.WithLabelValues(c.Method(), route).Observe(elapsed.Seconds())

	level := slog.LevelInfo
	if status >= 500 {
		level = slog.LevelError
	}
	s.log.Log(c.UserContext(), level, "http request",
		"request_id", id, "method", c.Method(), "route", route, "status", status, "duration_ms", elapsed.Milliseconds())
	return nil
}
