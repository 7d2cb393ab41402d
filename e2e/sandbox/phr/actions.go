package phr

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/sangamhealth/sangam/abdm"
	"github.com/sangamhealth/sangam/e2e/sandbox/cm"
)

// share scans a counter QR: {"hip_id","counter_id"} or {"qr"}.
func (a *App) share(ctx context.Context, p cm.Patient, _ *http.Request, in input) (any, func() bool, error) {
	var b struct {
		HIPID     string `json:"hip_id"`
		CounterID string `json:"counter_id"`
		QR        string `json:"qr"`
	}
	if in.form != nil {
		b.HIPID, b.CounterID, b.QR = in.form.Get("hip_id"), in.form.Get("counter_id"), in.form.Get("qr")
	} else if err := in.decode(&b); err != nil {
		return nil, nil, err
	}
	if strings.TrimSpace(b.QR) != "" {
		var err error
		if b.HIPID, b.CounterID, err = cm.ParseShareQR(b.QR); err != nil {
			return nil, nil, err
		}
	}
	s, err := a.cm.Share(ctx, p.ABHAAddress, b.HIPID, b.CounterID)
	if err != nil {
		return nil, nil, err
	}
	return s, func() bool {
		cur, _ := a.cm.ShareByRequestID(s.RequestID)
		return cur.Status != cm.ShareSent
	}, nil
}

// discover looks for records at an HIP: {"hip_id","identifiers":[{"type","value"}]}.
// The form sends hip_id and an optional mr (medical record number).
func (a *App) discover(ctx context.Context, p cm.Patient, _ *http.Request, in input) (any, func() bool, error) {
	var b struct {
		HIPID       string            `json:"hip_id"`
		Identifiers []abdm.Identifier `json:"identifiers"`
	}
	if in.form != nil {
		b.HIPID = in.form.Get("hip_id")
		if mr := strings.TrimSpace(in.form.Get("mr")); mr != "" {
			b.Identifiers = []abdm.Identifier{{Type: abdm.IdentifierMR, Value: mr}}
		}
	} else if err := in.decode(&b); err != nil {
		return nil, nil, err
	}
	d, err := a.cm.Discover(ctx, p.ABHAAddress, b.HIPID, b.Identifiers)
	if err != nil {
		return nil, nil, err
	}
	return d, a.discoverySettled(d.TransactionID, func(d cm.Discovery) bool { return d.Status != cm.DiscoveryPending }), nil
}

func (a *App) discoverySettled(txn string, done func(cm.Discovery) bool) func() bool {
	return func() bool {
		d, ok := a.cm.Discovery(txn)
		return !ok || done(d)
	}
}

// linkInit links found records: {"care_contexts":[{"patient_reference","care_context_reference"}]}
// (empty: all). The form sends cc=<patient ref>|<care context ref>, repeated.
func (a *App) linkInit(ctx context.Context, p cm.Patient, r *http.Request, in input) (any, func() bool, error) {
	var b struct {
		CareContexts []cm.CareContextRef `json:"care_contexts"`
	}
	if in.form != nil {
		for _, v := range in.form["cc"] {
			pat, ref, ok := strings.Cut(v, "|")
			if !ok {
				return nil, nil, fmt.Errorf("%w: care context %q", cm.ErrInvalid, v)
			}
			b.CareContexts = append(b.CareContexts, cm.CareContextRef{PatientReference: pat, CareContextReference: ref})
		}
		if len(b.CareContexts) == 0 {
			return nil, nil, fmt.Errorf("%w: choose at least one record to link", cm.ErrInvalid)
		}
	} else if err := in.decode(&b); err != nil {
		return nil, nil, err
	}
	txn := r.PathValue("txn")
	d, err := a.cm.LinkInit(ctx, p.ABHAAddress, txn, b.CareContexts)
	if err != nil {
		return nil, nil, err
	}
	return d, a.discoverySettled(txn, func(d cm.Discovery) bool { return d.Link == nil || d.Link.Status != cm.LinkInitiating }), nil
}

// linkConfirm sends the OTP: {"otp"}.
func (a *App) linkConfirm(ctx context.Context, p cm.Patient, r *http.Request, in input) (any, func() bool, error) {
	var b struct {
		OTP string `json:"otp"`
	}
	if in.form != nil {
		b.OTP = in.form.Get("otp")
	} else if err := in.decode(&b); err != nil {
		return nil, nil, err
	}
	txn := r.PathValue("txn")
	d, err := a.cm.LinkConfirm(ctx, p.ABHAAddress, txn, strings.TrimSpace(b.OTP))
	if err != nil {
		return nil, nil, err
	}
	return d, a.discoverySettled(txn, func(d cm.Discovery) bool { return d.Link == nil || d.Link.Status != cm.LinkConfirming }), nil
}

// approve grants a consent request with a cm.Grant body. The form sends
// cc=<hip id>|<patient ref>|<care context ref>, repeated, and optional
// from/to dates (YYYY-MM-DD).
func (a *App) approve(ctx context.Context, p cm.Patient, r *http.Request, in input) (any, func() bool, error) {
	var g cm.Grant
	if in.form != nil {
		for _, v := range in.form["cc"] {
			parts := strings.SplitN(v, "|", 3)
			if len(parts) != 3 {
				return nil, nil, fmt.Errorf("%w: care context %q", cm.ErrInvalid, v)
			}
			g.CareContexts = append(g.CareContexts, cm.GrantedCareContext{HIPID: parts[0], PatientReference: parts[1], CareContextReference: parts[2]})
		}
		if len(g.CareContexts) == 0 {
			return nil, nil, fmt.Errorf("%w: choose at least one record to share", cm.ErrInvalid)
		}
		var err error
		if g.From, err = formDate(in.form.Get("from"), false); err != nil {
			return nil, nil, err
		}
		if g.To, err = formDate(in.form.Get("to"), true); err != nil {
			return nil, nil, err
		}
	} else if err := in.decode(&g); err != nil {
		return nil, nil, err
	}
	cr, err := a.cm.Approve(ctx, p.ABHAAddress, r.PathValue("id"), g)
	return cr, nil, err
}

// formDate reads a YYYY-MM-DD date field; an end date means the end of
// that day.
func formDate(s string, end bool) (time.Time, error) {
	if strings.TrimSpace(s) == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.DateOnly, strings.TrimSpace(s))
	if err != nil {
		return time.Time{}, fmt.Errorf("%w: date %q: want YYYY-MM-DD", cm.ErrInvalid, s)
	}
	if end {
		t = t.Add(24*time.Hour - time.Millisecond)
	}
	return t, nil
}

// deny refuses a consent request: {"reason"}.
func (a *App) deny(ctx context.Context, p cm.Patient, r *http.Request, in input) (any, func() bool, error) {
	var b struct {
		Reason string `json:"reason"`
	}
	if in.form != nil {
		b.Reason = in.form.Get("reason")
	} else if err := in.decode(&b); err != nil {
		return nil, nil, err
	}
	cr, err := a.cm.Deny(ctx, p.ABHAAddress, r.PathValue("id"), b.Reason)
	return cr, nil, err
}

// revoke withdraws a consent (request id or artefact id); no body.
func (a *App) revoke(ctx context.Context, p cm.Patient, r *http.Request, _ input) (any, func() bool, error) {
	cr, err := a.cm.Revoke(ctx, p.ABHAAddress, r.PathValue("id"))
	return cr, nil, err
}
