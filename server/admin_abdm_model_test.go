package server

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sangamhealth/sangam/abdm"
	"github.com/sangamhealth/sangam/bridge"
	"github.com/sangamhealth/sangam/views"
)

func TestClock(t *testing.T) {
	if got := clock(time.Time{}); got != "" {
		t.Errorf("clock(zero) = %q, want empty", got)
	}
	at := time.Date(2026, 3, 1, 18, 45, 0, 0, time.UTC)
	if got, want := clock(at), "2 Mar 2026, 00:15:00 IST"; got != want {
		t.Errorf("clock(%s) = %q, want %q", at, got, want)
	}
}

func TestABDMConnectionModel(t *testing.T) {
	checked := time.Date(2026, 3, 1, 4, 30, 0, 0, time.UTC)
	regs := []bridge.Registration{
		{FacilityID: "f1", FacilityName: "City", HIPID: "HIP-1", Registered: true, Active: true, Types: []string{"HIP", "HIU"}, CheckedAt: checked},
		{FacilityID: "f2", FacilityName: "Women", HIPID: "HIP-2", Registered: true, Types: []string{"HIP"}, CheckedAt: checked},
		{FacilityID: "f3", FacilityName: "Clinic", HIPID: "HIP-3", CheckedAt: checked},
		{FacilityID: "f4", FacilityName: "New", HIPID: "HIP-4"},
	}
	names := map[string]facilityName{"f1": {"City", "IN1"}, "f2": {"Women", "IN2"}, "f3": {"Clinic", "IN3"}, "f4": {"New", "IN4"}}
	const ours = "https://sangam.example/bridge/kaveri"

	t.Run("not connected", func(t *testing.T) {
		v := abdmConnectionModel(abdmState{regs: regs[:1], facilities: names, bridgeURL: ours})
		if v.Connected || v.ClientID != "" || v.CanSave || v.SaveDisabled == "" || v.URLWarning != "" || v.LastError != nil {
			t.Errorf("model without credentials: %+v", v)
		}
		if v.Summary != "1 of 1 facilities can serve M2." {
			t.Errorf("summary %q", v.Summary)
		}
		v = abdmConnectionModel(abdmState{regs: regs[3:], facilities: names, bridgeURL: ours})
		if a := v.Facilities[0].Action; !strings.Contains(a, "no ABDM client credentials yet") {
			t.Errorf("an unchecked facility without credentials says %q", a)
		}
	})

	t.Run("connected", func(t *testing.T) {
		st := &bridge.TenantStatus{ClientID: "SBX_1", BridgeURL: ours, RegisteredAt: checked, ReportedURL: ours, CheckedAt: checked}
		v := abdmConnectionModel(abdmState{status: st, regs: regs, facilities: names, bridgeURL: ours, canSave: true})
		want := []views.ABDMFacility{
			{Name: "City", HFRID: "IN1", HIPID: "HIP-1", Registered: "Yes", Service: "active, HIP, HIU", CheckedAt: "1 Mar 2026, 10:00:00 IST", CanServeM2: true},
			{Name: "Women", HFRID: "IN2", HIPID: "HIP-2", Registered: "Yes", Service: "inactive, HIP", CheckedAt: "1 Mar 2026, 10:00:00 IST",
				Action: "The gateway lists the service as inactive. Ask ABDM support to activate it, then check again."},
			{Name: "Clinic", HFRID: "IN3", HIPID: "HIP-3", Registered: "No", CheckedAt: "1 Mar 2026, 10:00:00 IST",
				Action: "Its HIP id HIP-3 is not an HIP service of client id SBX_1. Add it as a service of the bridge in the ABDM (HFR) portal, then check again."},
			{Name: "New", HFRID: "IN4", HIPID: "HIP-4", Registered: "No",
				Action: "Not checked yet (or its HIP id changed since). Use “Check registrations now”."},
		}
		if diff := cmp.Diff(want, v.Facilities); diff != "" {
			t.Errorf("facilities (-want +got):\n%s", diff)
		}
		if !v.Connected || v.ClientID != "SBX_1" || v.Form.ClientID != "SBX_1" || !strings.Contains(v.SecretStored, "key store") {
			t.Errorf("connection: %+v", v)
		}
		if v.URLWarning != "" || v.LastError != nil || v.Summary != "1 of 4 facilities can serve M2." {
			t.Errorf("warning %q, last error %+v, summary %q", v.URLWarning, v.LastError, v.Summary)
		}
	})

	t.Run("another system registered", func(t *testing.T) {
		st := &bridge.TenantStatus{ClientID: "SBX_1", BridgeURL: ours, ReportedURL: "https://other.example/cb", CheckedAt: checked,
			LastError: "listing bridge services: abdm: HTTP 401: 900901: Invalid Credentials", LastErrorAt: checked}
		v := abdmConnectionModel(abdmState{status: st, facilities: names, bridgeURL: ours})
		for _, want := range []string{"https://other.example/cb", ours, "SBX_1", "Register bridge URL now"} {
			if !strings.Contains(v.URLWarning, want) {
				t.Errorf("warning %q lacks %q", v.URLWarning, want)
			}
		}
		if v.LastError == nil || !strings.Contains(v.LastError.Message, "did not accept") || v.LastError.At != "At 1 Mar 2026, 10:00:00 IST" {
			t.Errorf("last error %+v", v.LastError)
		}
	})

	t.Run("gateway has no URL", func(t *testing.T) {
		st := &bridge.TenantStatus{ClientID: "SBX_1", CheckedAt: checked}
		if w := urlWarning(st, ours); !strings.Contains(w, "has no bridge URL") {
			t.Errorf("warning %q", w)
		}
		st.CheckedAt = time.Time{}
		if w := urlWarning(st, ours); w != "" {
			t.Errorf("warning before any check: %q", w)
		}
	})
}

func TestOnboardingProblem(t *testing.T) {
	for _, tc := range []struct {
		stored, want string
	}{
		{`registering bridge URL for tenant "t": PATCH /gateway/v3/bridge/url: abdm: HTTP 401: 900901: Invalid Credentials`, "did not accept this organisation's client id and secret"},
		{`listing bridge services: abdm: HTTP 403`, "did not accept this organisation's client id and secret"},
		{`PATCH /gateway/v3/bridge/url: abdm: HTTP 503: ABDM-1024: Dependent service unavailable`, abdm.ParseError(503, []byte(`{"code":"ABDM-1024"}`)).Explanation},
		{`GET /gateway/v3/bridge-services: abdm: gateway unavailable: dial tcp 127.0.0.1:1: connection refused`, abdm.ParseError(503, nil).Explanation},
		{fmt.Sprintf("reading ABDM client secret: %v (no secret in the key store)", bridge.ErrNoCredentials), "No usable ABDM client credentials"},
		{"something odd", "failed"},
	} {
		p := onboardingProblem(tc.stored)
		if !strings.Contains(p.Message, tc.want) || p.Detail != tc.stored || p.Advice == "" {
			t.Errorf("onboardingProblem(%q) = %+v, want a message with %q, advice, and the text as detail", tc.stored, p, tc.want)
		}
	}
}

func TestCredentialsRefusal(t *testing.T) {
	unauthorized := fmt.Errorf("checking: %w", abdm.ParseError(401, []byte(`{"code":"900901","message":"Invalid Credentials"}`)))
	if p := credentialsRefusal(unauthorized); p == nil || !strings.Contains(p.Message, "nothing was stored") || !strings.Contains(p.Detail, "HTTP 401") {
		t.Errorf("refusal of a 401: %+v", p)
	}
	if got := statusForGateway(unauthorized); got != 422 {
		t.Errorf("status of a 401 = %d, want 422", got)
	}
	down := fmt.Errorf("POST /gateway/v3/sessions: %w: %w", abdm.ErrGatewayUnavailable, errors.New("dial tcp: refused"))
	if p := credentialsRefusal(down); p == nil || !strings.Contains(p.Message, "could not reach") {
		t.Errorf("refusal when the gateway is down: %+v", p)
	}
	if got := statusForGateway(down); got != 502 {
		t.Errorf("status when the gateway is down = %d, want 502", got)
	}
	if p := credentialsRefusal(errors.New("database down")); p != nil {
		t.Errorf("an internal error became a refusal: %+v", p)
	}
}

func TestCredentialsFormError(t *testing.T) {
	for _, tc := range []struct {
		id, secret string
		ok         bool
	}{
		{"SBX_000123", "s3cret", true},
		{"sbx.client-1", "a b c", true},
		{"", "", false},
		{"", "s3cret", false},
		{"SBX_1", "", false},
		{"SBX 1", "s", false},
		{"SBX_1\n", "s", false},
		{"SBX_ï", "s", false},
		{strings.Repeat("a", maxClientIDLen+1), "s", false},
		{"SBX_1", strings.Repeat("s", maxSecretLen+1), false},
		{"SBX_1", "line\nbreak", false},
	} {
		msg := credentialsFormError(tc.id, []byte(tc.secret))
		if (msg == "") != tc.ok {
			t.Errorf("credentialsFormError(%q, %q) = %q, want ok=%t", tc.id, tc.secret, msg, tc.ok)
		}
	}
}

func TestABDMNotice(t *testing.T) {
	for _, code := range []string{"credentials-saved", "registered", "checked"} {
		if abdmNotice(code) == "" {
			t.Errorf("no notice for %q", code)
		}
	}
	if got := abdmNotice("<script>alert(1)</script>"); got != "" {
		t.Errorf("an unknown notice code shows %q", got)
	}
}
