package cm

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/sangamhealth/sangam/abdm"
)

// A few refusals of the real gateway are synchronous (an HTTP 400 on the
// call itself) yet depend on consent-manager state or on body details the
// simulated gateway does not look at. Wrap puts them in front of the
// gateway. It also keeps the X-LINK-TOKEN header of link/carecontext,
// which the gateway's message record does not carry, for the hook that
// checks it.

// preflight is what Wrap learnt about one call, by REQUEST-ID, for the hook
// that runs after the gateway accepted it.
type preflight struct {
	at        time.Time
	linkToken string
	// refused: the caller was answered with a synchronous refusal, so the
	// hook must not act on the call.
	refused bool
}

// Refusal is a synchronous refusal Wrap answered instead of the gateway's
// 202. The gateway's own message log shows such a call as accepted.
type Refusal struct {
	At        time.Time `json:"at"`
	RequestID string    `json:"request_id"`
	Path      string    `json:"path"`
	Status    int       `json:"status"`
	Code      string    `json:"code,omitempty"`
	Message   string    `json:"message,omitempty"`
}

// syncRefusal is a body the gateway answers instead of 202.
type syncRefusal struct {
	status  int
	code    string // "" for an empty body
	message string
}

func (r syncRefusal) write(w http.ResponseWriter) {
	if r.code == "" {
		w.WriteHeader(r.status)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(r.status)
	_ = json.NewEncoder(w).Encode(map[string]abdm.ErrorDetail{"error": {Code: r.code, Message: r.message}})
}

const (
	maxBody       = 10 << 20
	preflightKeep = 10 * time.Minute
)

// Wrap returns next, the gateway's handler, behind the consent manager's
// synchronous checks:
//
//   - generate-token repeating a request refused within
//     Config.RefusalWindow: 400 ABDM-1092 (observed on the sandbox);
//   - link/carecontext with a dashed abhaNumber: 400 with an empty body,
//     or with an array hiType: 400 ABDM-1006 (both observed);
//   - health-information/notify repeating an accepted notify of the same
//     transaction and notifier: 400 ABDM-1101 (observed).
//
// The gateway still authenticates, checks headers and records every call;
// a refusal only replaces an answer the gateway would have given as 2xx.
func (c *CM) Wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		path, ok := strings.CutPrefix(r.URL.Path, c.prefix)
		if !ok || r.Method != http.MethodPost ||
			(path != abdm.PathGenerateToken && path != abdm.PathLinkCareContext && path != abdm.PathHealthInformationNotify) {
			next.ServeHTTP(w, r)
			return
		}
		body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
		if err != nil {
			body = nil // the gateway sees an empty body and refuses it
		}
		r.Body = io.NopCloser(bytes.NewReader(body))

		refusal, commit := c.check(path, r.Header, body)
		committed := false
		defer func() {
			if !committed && commit != nil {
				commit(false) // the gateway dropped the answer (a fault): undo
			}
		}()
		rec := &bufferedWriter{header: make(http.Header)}
		next.ServeHTTP(rec, r)
		accepted := statusOK(rec.status)
		committed = true
		if commit != nil {
			commit(accepted)
		}
		if accepted && refusal != nil {
			c.recordRefusal(r.Header.Get("REQUEST-ID"), path, *refusal)
			refusal.write(w)
			return
		}
		rec.copyTo(w)
	})
}

// check decides a call's synchronous refusal and records what its hook
// needs. commit, when not nil, is told whether the gateway accepted it.
func (c *CM) check(path string, h http.Header, body []byte) (*syncRefusal, func(bool)) {
	id := h.Get("REQUEST-ID")
	var refusal *syncRefusal
	var commit func(bool)
	pf := &preflight{at: c.now()}
	switch path {
	case abdm.PathGenerateToken:
		key := tokenRequestKey(h.Get(abdm.HeaderHIPID), body)
		c.mu.Lock()
		if at, ok := c.tokenRefused[key]; ok && c.now().Sub(at) < c.cfg.RefusalWindow {
			refusal = &syncRefusal{status: http.StatusBadRequest, code: "ABDM-1092", message: "Duplicate link token request"}
		}
		c.mu.Unlock()
	case abdm.PathLinkCareContext:
		pf.linkToken = h.Get(abdm.HeaderLinkToken)
		refusal = checkLinkBody(body)
	case abdm.PathHealthInformationNotify:
		refusal, commit = c.checkNotify(body)
	}
	pf.refused = refusal != nil
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, p := range c.preflights {
		if c.now().Sub(p.at) > preflightKeep {
			delete(c.preflights, k)
		}
	}
	// The first call with a REQUEST-ID keeps its entry: a repeat is refused
	// by the gateway (ABDM-1064) and must not overwrite it.
	if _, dup := c.preflights[id]; !dup && id != "" {
		c.preflights[id] = pf
	}
	return refusal, commit
}

// checkLinkBody refuses the two body shapes the sandbox answers 400 on.
func checkLinkBody(body []byte) *syncRefusal {
	var b struct {
		ABHANumber json.RawMessage `json:"abhaNumber"`
		Patient    []struct {
			HIType  json.RawMessage `json:"hiType"`
			HITypes json.RawMessage `json:"hiTypes"`
		} `json:"patient"`
	}
	if json.Unmarshal(body, &b) != nil {
		return nil // the hook answers ABDM-1006 in the callback
	}
	var number string
	if json.Unmarshal(b.ABHANumber, &number) == nil && strings.Contains(number, "-") {
		return &syncRefusal{status: http.StatusBadRequest}
	}
	for _, p := range b.Patient {
		for _, raw := range []json.RawMessage{p.HIType, p.HITypes} {
			if t := bytes.TrimSpace(raw); len(t) > 0 && t[0] == '[' {
				return &syncRefusal{status: http.StatusBadRequest, code: "ABDM-1006", message: "Bad Request, invalid request Body"}
			}
		}
	}
	return nil
}

// checkNotify refuses a second notify for the same transaction from the
// same side. The key is claimed before the gateway answers, so concurrent
// repeats are refused too, and released if the gateway refuses the call.
func (c *CM) checkNotify(body []byte) (*syncRefusal, func(bool)) {
	var b abdm.HealthInformationNotifyRequest
	if json.Unmarshal(body, &b) != nil || b.Notification.TransactionID == "" {
		return nil, nil
	}
	n := b.Notification
	key := n.TransactionID + "|" + strings.ToUpper(string(n.Notifier.Type)) + "|" + n.Notifier.ID
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.notified[key] {
		return &syncRefusal{status: http.StatusBadRequest, code: "ABDM-1101", message: "Duplicate Health Information request"}, nil
	}
	c.notified[key] = true
	return nil, func(accepted bool) {
		if !accepted {
			c.mu.Lock()
			delete(c.notified, key)
			c.mu.Unlock()
		}
	}
}

// takePreflight returns and forgets what Wrap recorded for a call; the
// zero value when the call did not pass through Wrap.
func (c *CM) takePreflight(requestID string) preflight {
	c.mu.Lock()
	defer c.mu.Unlock()
	p := c.preflights[requestID]
	delete(c.preflights, requestID)
	if p == nil {
		return preflight{}
	}
	return *p
}

func (c *CM) recordRefusal(requestID, path string, r syncRefusal) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.refusals = append(c.refusals, Refusal{At: c.now(), RequestID: requestID, Path: path, Status: r.status, Code: r.code, Message: r.message})
	c.changedLocked()
}

// Refusals lists the synchronous refusals Wrap answered, oldest first.
func (c *CM) Refusals() []Refusal {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]Refusal{}, c.refusals...)
}

// bufferedWriter holds the gateway's answer until Wrap decides to pass it
// on or replace it.
type bufferedWriter struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (b *bufferedWriter) Header() http.Header { return b.header }

func (b *bufferedWriter) WriteHeader(status int) {
	if b.status == 0 {
		b.status = status
	}
}

func (b *bufferedWriter) Write(p []byte) (int, error) {
	if b.status == 0 {
		b.status = http.StatusOK
	}
	return b.body.Write(p)
}

func (b *bufferedWriter) copyTo(w http.ResponseWriter) {
	for k, vs := range b.header {
		w.Header()[k] = vs
	}
	if b.status == 0 {
		b.status = http.StatusOK
	}
	w.WriteHeader(b.status)
	_, _ = w.Write(b.body.Bytes())
}
