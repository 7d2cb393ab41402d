package phr

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/sangamhealth/sangam/abdm"
	"github.com/sangamhealth/sangam/e2e/sandbox/cm"
)

// Config configures an App.
type Config struct {
	// CM is the consent manager the app talks to. Required.
	CM *cm.CM
	// Inbox holds the patients' phones. Default: a new one. Give the same
	// inbox to cm.Config.SMS so deep links land in it.
	Inbox *Inbox
	// Logger defaults to discarding.
	Logger *slog.Logger
	// FormWait is how long a form post waits for the answer it triggered
	// (the HIP's on-share, on-discover, ...) before showing the page again.
	// Default 3 s.
	FormWait time.Duration
}

// App is the sandbox PHR app: a patient's ABHA app, driven over JSON or
// from a plain HTML page. It is an http.Handler for /_sandbox/phr/.
type App struct {
	cm       *cm.CM
	inbox    *Inbox
	log      *slog.Logger
	formWait time.Duration
	mux      *http.ServeMux
}

// Prefix is where the app is served.
const Prefix = "/_sandbox/phr"

// maxWait bounds ?wait= on the JSON API.
const maxWait = 30 * time.Second

// New builds the app.
func New(cfg Config) (*App, error) {
	if cfg.CM == nil {
		return nil, errors.New("phr config: CM is required")
	}
	if cfg.FormWait < 0 {
		return nil, errors.New("phr config: FormWait cannot be negative")
	}
	if cfg.Inbox == nil {
		cfg.Inbox = NewInbox(nil)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.FormWait == 0 {
		cfg.FormWait = 3 * time.Second
	}
	a := &App{cm: cfg.CM, inbox: cfg.Inbox, log: cfg.Logger, formWait: cfg.FormWait}
	a.mux = a.routes()
	return a, nil
}

// Inbox is the app's phone inbox.
func (a *App) Inbox() *Inbox { return a.inbox }

// Reset empties the phones; the consent manager's state is its own.
func (a *App) Reset() { a.inbox.Reset() }

// ServeHTTP serves the JSON control API and the HTML page.
func (a *App) ServeHTTP(w http.ResponseWriter, r *http.Request) { a.mux.ServeHTTP(w, r) }

func (a *App) routes() *http.ServeMux {
	mux := http.NewServeMux()
	const p = Prefix + "/patients/{addr}"
	mux.HandleFunc("GET "+Prefix+"/{$}", a.page)
	mux.HandleFunc("GET "+Prefix+"/patients", a.listPatients)
	mux.HandleFunc("GET "+p, a.showPatient)
	mux.HandleFunc("POST "+p+"/share", a.action(a.share))
	mux.HandleFunc("GET "+p+"/shares", a.patientList("shares", func(addr string) any { return a.cm.Shares(addr) }))
	mux.HandleFunc("GET "+p+"/links", a.patientList("links", func(addr string) any { return a.cm.Links(addr, "") }))
	mux.HandleFunc("POST "+p+"/discover", a.action(a.discover))
	mux.HandleFunc("GET "+p+"/discoveries", a.patientList("discoveries", func(addr string) any { return a.cm.Discoveries(addr) }))
	mux.HandleFunc("GET "+p+"/discoveries/{txn}", a.showDiscovery)
	mux.HandleFunc("POST "+p+"/discoveries/{txn}/link", a.action(a.linkInit))
	mux.HandleFunc("POST "+p+"/discoveries/{txn}/confirm", a.action(a.linkConfirm))
	mux.HandleFunc("GET "+p+"/consent-requests", a.listConsentRequests)
	mux.HandleFunc("POST "+p+"/consent-requests/{id}/approve", a.action(a.approve))
	mux.HandleFunc("POST "+p+"/consent-requests/{id}/deny", a.action(a.deny))
	mux.HandleFunc("GET "+p+"/consents", a.patientList("consents", func(addr string) any {
		return a.cm.Consents(cm.ConsentFilter{ABHAAddress: addr})
	}))
	mux.HandleFunc("POST "+p+"/consents/{id}/revoke", a.action(a.revoke))
	mux.HandleFunc("GET "+p+"/sms", a.patientSMS)
	mux.HandleFunc("POST "+Prefix+"/sms", a.receiveSMS)
	mux.HandleFunc("GET "+Prefix+"/sms", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"messages": a.inbox.Messages(r.URL.Query().Get("phone"))})
	})
	mux.HandleFunc("POST "+Prefix+"/reset", func(w http.ResponseWriter, _ *http.Request) {
		a.Reset()
		w.WriteHeader(http.StatusNoContent)
	})
	return mux
}

// patient resolves {addr}, answering 404 itself when it is unknown.
func (a *App) patient(w http.ResponseWriter, r *http.Request) (cm.Patient, bool) {
	p, ok := a.cm.Patient(r.PathValue("addr"))
	if !ok {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": fmt.Sprintf("no patient %q", r.PathValue("addr"))})
	}
	return p, ok
}

func (a *App) listPatients(w http.ResponseWriter, _ *http.Request) {
	ps := a.cm.Patients()
	if ps == nil {
		ps = []cm.Patient{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"patients": ps, "hips": a.cm.HIPs()})
}

// Overview is everything the app shows a patient.
type Overview struct {
	Patient         cm.Patient             `json:"patient"`
	Shares          []cm.Share             `json:"shares"`
	Links           []cm.LinkedCareContext `json:"links"`
	Discoveries     []cm.Discovery         `json:"discoveries"`
	ConsentRequests []cm.ConsentRequest    `json:"consent_requests"`
	Consents        []cm.Consent           `json:"consents"`
	SMS             []SMS                  `json:"sms"`
}

func (a *App) overview(p cm.Patient) Overview {
	return Overview{
		Patient: p, Shares: a.cm.Shares(p.ABHAAddress), Links: a.cm.Links(p.ABHAAddress, ""),
		Discoveries:     a.cm.Discoveries(p.ABHAAddress),
		ConsentRequests: a.cm.ConsentRequests(cm.ConsentFilter{ABHAAddress: p.ABHAAddress}),
		Consents:        a.cm.Consents(cm.ConsentFilter{ABHAAddress: p.ABHAAddress}),
		SMS:             a.smsFor(p),
	}
}

func (a *App) smsFor(p cm.Patient) []SMS {
	if p.Mobile == "" {
		return []SMS{}
	}
	return a.inbox.Messages(p.Mobile)
}

func (a *App) showPatient(w http.ResponseWriter, r *http.Request) {
	if p, ok := a.patient(w, r); ok {
		writeJSON(w, http.StatusOK, a.overview(p))
	}
}

func (a *App) patientList(name string, list func(addr string) any) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if p, ok := a.patient(w, r); ok {
			writeJSON(w, http.StatusOK, map[string]any{name: list(p.ABHAAddress)})
		}
	}
}

func (a *App) patientSMS(w http.ResponseWriter, r *http.Request) {
	if p, ok := a.patient(w, r); ok {
		writeJSON(w, http.StatusOK, map[string]any{"messages": a.smsFor(p)})
	}
}

func (a *App) showDiscovery(w http.ResponseWriter, r *http.Request) {
	p, ok := a.patient(w, r)
	if !ok {
		return
	}
	d, found := a.cm.Discovery(r.PathValue("txn"))
	if !found || !strings.EqualFold(d.ABHAAddress, p.ABHAAddress) {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "no such discovery"})
		return
	}
	writeJSON(w, http.StatusOK, d)
}

func (a *App) listConsentRequests(w http.ResponseWriter, r *http.Request) {
	if p, ok := a.patient(w, r); ok {
		f := cm.ConsentFilter{ABHAAddress: p.ABHAAddress, Status: abdm.ConsentStatus(r.URL.Query().Get("status"))}
		writeJSON(w, http.StatusOK, map[string]any{"consent_requests": a.cm.ConsentRequests(f)})
	}
}

// receiveSMS is the sandbox's SMS gateway: an HIP that sends the link OTP
// by SMS posts it here, {"phone","from","text"}, and the patient reads it
// in the app.
func (a *App) receiveSMS(w http.ResponseWriter, r *http.Request) {
	var m struct {
		Phone string `json:"phone"`
		From  string `json:"from"`
		Text  string `json:"text"`
	}
	if err := decodeJSON(r, &m); err != nil || NormalizePhone(m.Phone) == "" || m.Text == "" {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": `want {"phone":"<10-digit mobile>","from","text"}`})
		return
	}
	a.inbox.SendSMS(m.Phone, m.From, m.Text)
	w.WriteHeader(http.StatusAccepted)
}

// actionFunc performs one patient action from a decoded input and
// reports the object to answer with and, for a wait, when it is settled.
type actionFunc func(ctx context.Context, p cm.Patient, r *http.Request, in input) (result any, settled func() bool, err error)

// input is an action's parameters, from JSON or from a form.
type input struct {
	json map[string]json.RawMessage
	form url.Values
}

// action adapts an actionFunc to both callers: the JSON API (answers the
// result, waiting up to ?wait= for it to settle) and the HTML forms
// (waits FormWait, then redirects to the page with a message).
func (a *App) action(fn actionFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		p, ok := a.cm.Patient(r.PathValue("addr"))
		isForm := isFormPost(r)
		if !ok {
			if isForm {
				a.redirect(w, r, r.PathValue("addr"), "", "no such patient")
				return
			}
			writeJSON(w, http.StatusNotFound, map[string]string{"error": fmt.Sprintf("no patient %q", r.PathValue("addr"))})
			return
		}
		in, err := readInput(r, isForm)
		if err != nil {
			a.fail(w, r, p, isForm, fmt.Errorf("%w: %w", cm.ErrInvalid, err))
			return
		}
		result, settled, err := fn(r.Context(), p, r, in)
		if err != nil {
			a.fail(w, r, p, isForm, err)
			return
		}
		wait := a.formWait
		if !isForm {
			if wait, err = parseWait(r.URL.Query().Get("wait")); err != nil {
				a.fail(w, r, p, false, fmt.Errorf("%w: %w", cm.ErrInvalid, err))
				return
			}
		}
		if settled != nil && wait > 0 {
			ctx, cancel := context.WithTimeout(r.Context(), wait)
			_ = a.cm.Wait(ctx, settled) // a timeout just shows the state so far
			cancel()
			result = refresh(a.cm, result)
		}
		if isForm {
			a.redirect(w, r, p.ABHAAddress, "Done.", "")
			return
		}
		writeJSON(w, http.StatusOK, result)
	}
}

// refresh re-reads an action's result after waiting.
func refresh(c *cm.CM, v any) any {
	switch x := v.(type) {
	case cm.Share:
		if s, ok := c.ShareByRequestID(x.RequestID); ok {
			return s
		}
	case cm.Discovery:
		if d, ok := c.Discovery(x.TransactionID); ok {
			return d
		}
	}
	return v
}

func (a *App) fail(w http.ResponseWriter, r *http.Request, p cm.Patient, isForm bool, err error) {
	if isForm {
		a.redirect(w, r, p.ABHAAddress, "", err.Error())
		return
	}
	writeJSON(w, cm.StatusFor(err), map[string]string{"error": err.Error()})
}

func (a *App) redirect(w http.ResponseWriter, r *http.Request, addr, msg, errMsg string) {
	q := url.Values{"patient": {addr}}
	if msg != "" {
		q.Set("msg", msg)
	}
	if errMsg != "" {
		q.Set("error", errMsg)
	}
	http.Redirect(w, r, Prefix+"/?"+q.Encode(), http.StatusSeeOther)
}

func parseWait(s string) (time.Duration, error) {
	if s == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("wait=%q: %w", s, err)
	}
	if d < 0 || d > maxWait {
		return 0, fmt.Errorf("wait=%q must be between 0 and %s", s, maxWait)
	}
	return d, nil
}

func isFormPost(r *http.Request) bool {
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return mt == "application/x-www-form-urlencoded" || mt == "multipart/form-data"
}

func readInput(r *http.Request, isForm bool) (input, error) {
	if isForm {
		if err := r.ParseForm(); err != nil {
			return input{}, fmt.Errorf("reading form: %w", err)
		}
		return input{form: r.PostForm}, nil
	}
	in := input{json: map[string]json.RawMessage{}}
	if r.ContentLength == 0 {
		return in, nil
	}
	if err := decodeJSON(r, &in.json); err != nil {
		return input{}, err
	}
	return in, nil
}

// decode reads a JSON action body into v, refusing unknown fields.
func (in input) decode(v any) error {
	raw, err := json.Marshal(in.json)
	if err != nil {
		return fmt.Errorf("re-encoding input: %w", err)
	}
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("%w: %w", cm.ErrInvalid, err)
	}
	return nil
}

func decodeJSON(r *http.Request, v any) error {
	if err := json.NewDecoder(http.MaxBytesReader(nil, r.Body, 1<<20)).Decode(v); err != nil {
		return fmt.Errorf("decoding request body: %w", err)
	}
	return nil
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
