package gateway

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strings"
	"time"
)

const maxBody = 10 << 20

// call is one bridge→gateway request on its way through the pipeline.
type call struct {
	r        *http.Request
	path     string
	body     []byte
	clientID string     // "" until identified
	authErr  *reply     // why the caller is not authenticated
	route    *flowRoute // for the paths of the V3 route table
	answers  string     // REQUEST-ID of the delivery an on-* answered
	accepted bool       // the call took effect
}

// reply is what the gateway answers. err bodies follow the error_shape
// fault; body is written as JSON as it is.
type reply struct {
	status int
	body   any
	err    *apiError
	code   string // error code of a fixed-shape body, for the record
}

func errReply(e apiError) reply { return reply{status: e.status, err: &e} }

var (
	invalidCredentials = reply{status: http.StatusUnauthorized, body: invalidCredentialsBody, code: "900901"}
	noRoute            = reply{status: http.StatusNotFound, body: noRouteBody, code: "404"}
	methodNotAllowed   = reply{status: http.StatusMethodNotAllowed, code: "405", body: map[string]string{
		"code": "405", "type": "Status report", "message": "Runtime Error",
		"description": "Method not allowed for given API resource",
	}}
)

type handlerFunc func(*call) reply

// lookup finds the handler for a gateway path; allowed is false when the
// path exists for another method.
func (g *Gateway) lookup(method, path string) (h handlerFunc, public, allowed bool) {
	var want string
	switch {
	case path == pathWellKnown:
		want, h, public = http.MethodGet, g.showOpenIDConfiguration, true
	case path == pathSessions:
		want, h = http.MethodPost, g.createSession
	case path == pathCerts:
		want, h = http.MethodGet, g.showCerts
	case path == pathBridgeURL:
		want, h = http.MethodPatch, g.updateBridgeURL
	case path == pathBridgeServices:
		want, h = http.MethodGet, g.listBridgeServices
	case strings.HasPrefix(path, pathServiceByID) && len(path) > len(pathServiceByID):
		want, h = http.MethodGet, g.showService
	case g.routes[path] != nil:
		want, h = http.MethodPost, g.acceptMessage
	default:
		return nil, false, false
	}
	if method != want {
		return nil, false, true
	}
	return h, public, true
}

// serveAPI runs one gateway call through the same steps as the real
// gateway: route, authentication, headers, REQUEST-ID uniqueness, body,
// then the endpoint itself. Faults are decided once the caller is known.
func (g *Gateway) serveAPI(w http.ResponseWriter, r *http.Request, path string) {
	start := g.now()
	c := &call{r: r, path: path, route: g.routes[path]}
	h, public, allowed := g.lookup(r.Method, path)
	if h == nil {
		rep := noRoute
		if allowed {
			rep = methodNotAllowed
		}
		g.finish(w, c, rep, answerFaults{}, start)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil || len(body) > maxBody {
		g.finish(w, c, errReply(errInvalidBody), answerFaults{}, start)
		return
	}
	c.body = body
	if public {
		g.finish(w, c, h(c), answerFaults{}, start)
		return
	}

	g.identify(c)
	af := g.takeAnswerFaults(c.clientID, path)
	failed := af.drop || af.fail
	if failed && !af.process {
		g.finish(w, c, faultReply(af), af, start)
		return
	}
	rep := g.process(c, h)
	if failed {
		rep = faultReply(af)
	}
	g.finish(w, c, rep, af, start)
}

func faultReply(af answerFaults) reply {
	if af.drop {
		return reply{} // status 0: no answer at all
	}
	return errReply(injectedError(af.failStatus))
}

// identify finds the calling client: from the body for sessions, from the
// session token otherwise.
func (g *Gateway) identify(c *call) {
	if c.path == pathSessions {
		var b struct {
			ClientID string `json:"clientId"`
		}
		if json.Unmarshal(c.body, &b) == nil && g.clients[b.ClientID] != nil {
			c.clientID = b.ClientID
		}
		return
	}
	auth := c.r.Header.Get("Authorization")
	if auth == "" {
		rep := errReply(errMissingAuth)
		c.authErr = &rep
		return
	}
	scheme, token, _ := strings.Cut(auth, " ")
	clientID, err := g.VerifySessionToken(token)
	if !strings.EqualFold(scheme, "Bearer") || err != nil {
		c.authErr = &invalidCredentials
		return
	}
	c.clientID = clientID
}

func (g *Gateway) process(c *call, h handlerFunc) reply {
	if c.authErr != nil {
		return *c.authErr
	}
	if e, bad := g.checkHeaders(c.r); bad {
		return errReply(e)
	}
	hasBody := c.r.Method == http.MethodPost || c.r.Method == http.MethodPatch
	if hasBody {
		ct := c.r.Header.Get("Content-Type")
		if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != "application/json" {
			e := errMediaType
			if ct == "" {
				ct = "application/octet-stream" // what the sandbox reports for a missing type
			}
			e.message = fmt.Sprintf(e.message, ct)
			return errReply(e)
		}
	}
	if !g.claimRequestID(c.r.Header.Get("REQUEST-ID")) {
		return errReply(errDuplicateID)
	}
	if hasBody {
		if len(strings.TrimSpace(string(c.body))) == 0 {
			return errReply(errMissingBody)
		}
		if !json.Valid(c.body) {
			return errReply(errInvalidBody)
		}
	}
	rep := h(c)
	c.accepted = rep.status >= 200 && rep.status < 300
	return rep
}

// claimRequestID reports whether id was unused, and uses it up.
func (g *Gateway) claimRequestID(id string) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.usedIDs[id] {
		return false
	}
	g.usedIDs[id] = true
	return true
}

// finish records the call, starts the hooks of an accepted call, waits out
// an answer delay, and answers (or, for a dropped answer, does not).
func (g *Gateway) finish(w http.ResponseWriter, c *call, rep reply, af answerFaults, start time.Time) {
	m := g.record(c, rep, start)
	if c.accepted && c.route != nil {
		g.runHooks(c.path, m)
	}
	g.log.LogAttrs(c.r.Context(), levelFor(rep.status), "gateway call",
		slog.String("method", c.r.Method), slog.String("path", c.path), slog.String("client", c.clientID),
		slog.String("request_id", m.RequestID), slog.Int("status", rep.status), slog.String("error_code", m.ErrorCode))

	if af.delay > 0 && !sleep(c.r.Context(), af.delay) {
		return // the client gave up
	}
	if rep.status == 0 {
		g.holdAndAbort(c.r.Context())
	}
	switch {
	case rep.err != nil:
		rep.err.render(w, c.r, g.now(), af.shape, af.colon)
	case rep.body != nil:
		writeJSON(w, rep.status, rep.body)
	default:
		w.WriteHeader(rep.status)
	}
}

func levelFor(status int) slog.Level {
	if status >= 200 && status < 400 {
		return slog.LevelInfo
	}
	return slog.LevelWarn
}

// holdAndAbort keeps a dropped call's connection open until the client
// gives up, the gateway closes or DropHold passes, then closes it without
// a response.
func (g *Gateway) holdAndAbort(ctx context.Context) {
	t := time.NewTimer(g.cfg.DropHold)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-g.ctx.Done():
	case <-t.C:
	}
	panic(http.ErrAbortHandler)
}

// sleep waits for d and reports whether ctx stayed alive.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// runHooks starts the hooks registered for path.
func (g *Gateway) runHooks(path string, m Message) {
	g.mu.Lock()
	hooks := g.hooks[path]
	g.mu.Unlock()
	for _, fn := range hooks {
		g.goWorker(func(ctx context.Context) { fn(ctx, m) })
	}
}

// goWorker runs fn in a goroutine that Close waits for; after Close it
// does nothing.
func (g *Gateway) goWorker(fn func(ctx context.Context)) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.ctx.Err() != nil {
		return
	}
	g.workers.Add(1)
	go func() {
		defer g.workers.Done()
		fn(g.ctx)
	}()
}
