package gateway

import (
	"net/http"
	"time"

	"github.com/google/uuid"
)

// checkHeaders applies the header rules every gateway call is held to.
func (g *Gateway) checkHeaders(r *http.Request) (apiError, bool) {
	if !isCanonicalUUID(r.Header.Get("REQUEST-ID")) {
		return errRequestID, true
	}
	ts, err := parseTimestamp(r.Header.Get("TIMESTAMP"))
	if err != nil {
		return errTimestamp, true
	}
	now := g.now()
	if ts.Before(now.Add(-g.cfg.TimestampPast)) || ts.After(now.Add(g.cfg.TimestampFuture)) {
		return errTimestamp, true
	}
	if r.Header.Get("X-CM-ID") != g.cfg.CMID {
		return errCMID, true
	}
	return apiError{}, false
}

// isCanonicalUUID reports whether s is a UUID in its 36-character form;
// uuid.Parse alone would also take the braced and urn: forms.
func isCanonicalUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	_, err := uuid.Parse(s)
	return err == nil
}

// parseTimestamp reads a TIMESTAMP header: RFC 3339 with or without a
// fraction (Java's ISO_INSTANT drops ".000"), with a zone. Zone-less
// values are refused.
func parseTimestamp(s string) (time.Time, error) {
	return time.Parse(time.RFC3339Nano, s)
}

// formatTimestamp writes a TIMESTAMP the way the gateway does: UTC with
// milliseconds and Z.
func formatTimestamp(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05.000Z")
}
