package claims_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/sangamhealth/sangam/claims"
	"github.com/sangamhealth/sangam/claims/hcx"
)

func TestNewRefusesIncompleteConfig(t *testing.T) {
	_, err := claims.New(claims.Config{SwitchURL: "ftp://x", RetryBaseDelay: 10, RetryMaxDelay: 5})
	if err == nil {
		t.Fatal("New accepted an empty config")
	}
	for _, want := range []string{"Pool", "Keys", "Tokens", "SwitchURL", "RegistryURL", "RetryMaxDelay"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the error does not name %s: %v", want, err)
		}
	}
}

func TestSendRefusesWhatCanNeverBeSent(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	c := h.startCase("")
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		req  claims.Request
	}{
		{"unknown path", claims.Request{CaseID: c.ID, Path: "/v1/nothing/submit", Payload: eligibilityBundle()}},
		{"a callback path", claims.Request{CaseID: c.ID, Path: hcx.PathPreauthOnSubmit, Payload: eligibilityBundle()}},
		{"not JSON", claims.Request{CaseID: c.ID, Path: hcx.PathPreauthSubmit, Payload: []byte("<Bundle/>")}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := h.svc.Send(ctx, h.tenant, tc.req); !errors.Is(err, claims.ErrInvalid) {
				t.Errorf("got %v, want ErrInvalid", err)
			}
		})
	}
	if _, err := h.svc.Send(ctx, h.tenant, claims.Request{CaseID: "8f1a3c1e-0000-4000-8000-000000000000",
		Path: hcx.PathPreauthSubmit, Payload: eligibilityBundle()}); !errors.Is(err, claims.ErrNotFound) {
		t.Errorf("unknown case: %v", err)
	}
	if n := len(h.ledger(c.ID)); n != 0 {
		t.Errorf("%d messages stored", n)
	}
	// StartCase is idempotent for the same encounter and workflow id.
	again, err := h.svc.StartCase(ctx, claims.NewCase{Tenant: h.tenant, Facility: h.facility, PayerCode: c.PayerCode,
		PatientRef: c.PatientRef, EncounterRef: c.EncounterRef, WorkflowID: c.WorkflowID})
	if err != nil || again.ID != c.ID {
		t.Errorf("second StartCase: %v, id %s want %s", err, again.ID, c.ID)
	}
	if _, err := h.svc.StartCase(ctx, claims.NewCase{Tenant: h.tenant, Facility: h.facility, PayerCode: h.code,
		PatientRef: "p"}); !errors.Is(err, claims.ErrInvalid) {
		t.Errorf("a case with ourselves as payer: %v", err)
	}
}
