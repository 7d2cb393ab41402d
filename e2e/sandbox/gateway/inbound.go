package gateway

import (
	"encoding/json"
	"net/http"
	"strings"
	"time"
)

// Message is one call the gateway received, whatever it answered.
type Message struct {
	Seq       int64  `json:"seq"`
	RequestID string `json:"request_id"` // REQUEST-ID header
	ClientID  string `json:"client_id,omitempty"`
	Method    string `json:"method"`
	Path      string `json:"path"` // relative to the gateway base URL
	HIPID     string `json:"hip_id,omitempty"`
	HIUID     string `json:"hiu_id,omitempty"`
	CMID      string `json:"cm_id,omitempty"`
	Timestamp string `json:"timestamp,omitempty"` // TIMESTAMP header
	// ReceivedAt is the gateway clock when the call arrived.
	ReceivedAt time.Time `json:"received_at"`
	// Status is what the gateway answered; 0 when it dropped the answer.
	Status    int    `json:"status"`
	ErrorCode string `json:"error_code,omitempty"`
	// Answers is the REQUEST-ID of the delivery an accepted on-* answered.
	Answers string `json:"answers,omitempty"`
	// Body is the JSON body as received (a JSON string when it was not
	// JSON); sessions bodies are left out because they hold the secret.
	Body json.RawMessage `json:"body,omitempty"`
}

// Filter selects messages or deliveries; empty fields match everything.
type Filter struct {
	Path      string
	ClientID  string
	RequestID string
}

func (f Filter) match(path, clientID, requestID string) bool {
	return (f.Path == "" || f.Path == path) &&
		(f.ClientID == "" || f.ClientID == clientID) &&
		(f.RequestID == "" || f.RequestID == requestID)
}

// Messages lists the calls received so far, oldest first.
func (g *Gateway) Messages(f Filter) []Message {
	g.mu.Lock()
	defer g.mu.Unlock()
	out := []Message{}
	for _, m := range g.messages {
		if f.match(m.Path, m.ClientID, m.RequestID) {
			out = append(out, *m)
		}
	}
	return out
}

const maxRecordedNonJSON = 4 << 10

func (g *Gateway) record(c *call, rep reply, start time.Time) Message {
	h := c.r.Header
	m := &Message{
		RequestID:  h.Get("REQUEST-ID"),
		ClientID:   c.clientID,
		Method:     c.r.Method,
		Path:       c.path,
		HIPID:      h.Get(headerHIPID),
		HIUID:      h.Get(headerHIUID),
		CMID:       h.Get("X-CM-ID"),
		Timestamp:  h.Get("TIMESTAMP"),
		ReceivedAt: start,
		Status:     rep.status,
		ErrorCode:  rep.code,
		Answers:    c.answers,
	}
	if rep.err != nil {
		m.ErrorCode = strings.TrimSuffix(rep.err.code, ": ")
	}
	switch {
	case c.path == pathSessions || len(c.body) == 0:
	case json.Valid(c.body):
		m.Body = json.RawMessage(c.body)
	default:
		s := string(c.body)
		if len(s) > maxRecordedNonJSON {
			s = s[:maxRecordedNonJSON]
		}
		m.Body, _ = json.Marshal(s)
	}
	g.mu.Lock()
	m.Seq = g.nextSeqLocked()
	g.messages = append(g.messages, m)
	g.mu.Unlock()
	return *m
}

// acceptMessage answers the paths of the V3 route table: it checks the
// headers the path requires and, for on-* answers, that response.requestId
// names a callback the gateway delivered to this client.
func (g *Gateway) acceptMessage(c *call) reply {
	rt := c.route
	h := c.r.Header
	for _, name := range rt.requires {
		if h.Get(name) == "" {
			return errReply(errHeader)
		}
	}
	if id := h.Get(headerHIPID); id != "" && !g.serviceAllowed(c.clientID, id, TypeHIP) {
		return errReply(errInvalidHIP)
	}
	if id := h.Get(headerHIUID); id != "" && !g.serviceAllowed(c.clientID, id, TypeHIU, TypePHR) {
		return errReply(errInvalidHIU)
	}
	status := rt.status
	if status == 0 {
		status = http.StatusAccepted
	}
	switch rt.kind {
	case kindAnswer:
		if e, bad := g.matchAnswer(c); bad {
			return errReply(e)
		}
	case kindNotify:
		return reply{status: status, body: map[string]string{"status": "Notification is Accepted"}}
	}
	return reply{status: status}
}

// matchAnswer finds the delivery an on-* answers and marks it answered.
func (g *Gateway) matchAnswer(c *call) (apiError, bool) {
	var body struct {
		Response *struct {
			RequestID string `json:"requestId"`
		} `json:"response"`
	}
	if err := json.Unmarshal(c.body, &body); err != nil || body.Response == nil || body.Response.RequestID == "" {
		return errInvalidBody, true
	}
	id := body.Response.RequestID
	now := g.now()
	g.mu.Lock()
	defer g.mu.Unlock()
	d := g.deliveryByID[id]
	if d == nil || d.ClientID != c.clientID || d.Path != c.route.answers || d.firstSent.IsZero() ||
		now.Sub(d.firstSent) > g.cfg.AnswerWindow {
		return errNoMapping, true
	}
	if len(d.AnsweredBy) > 0 && !c.route.duplicate.isZero() {
		return c.route.duplicate, true
	}
	d.AnsweredBy = append(d.AnsweredBy, c.r.Header.Get("REQUEST-ID"))
	c.answers = id
	return apiError{}, false
}
