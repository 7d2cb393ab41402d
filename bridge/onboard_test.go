package bridge_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/sangamhealth/sangam/abdm"
	"github.com/sangamhealth/sangam/bridge"
	"github.com/sangamhealth/sangam/e2e/sandbox/gateway"
)

func TestOnboardRegistersBridgeAndChecksFacilities(t *testing.T) {
	h := newHarness(t, harnessOptions{sandbox: true})
	ctx := context.Background()

	// Before any check, no facility may serve M2.
	if ok, err := h.bridge.CanServeM2(ctx, h.tenant.ID, h.tenant.HIPs[0]); ok || err != nil {
		t.Fatalf("before onboarding: CanServeM2 = %t, %v", ok, err)
	}

	o, err := h.bridge.Onboard(ctx, h.tenant.ID)
	mustNoErr(t, err)
	if got, _ := h.sandbox.BridgeURL("SBX_ACME"); got != h.bridgeURL() {
		t.Errorf("gateway has bridge URL %q, want %q", got, h.bridgeURL())
	}
	if !o.URLMatches() || o.ClientID != "SBX_ACME" {
		t.Errorf("onboarding %+v: URL does not match or wrong client", o)
	}
	byHIP := map[string]bridge.Registration{}
	for _, r := range o.Facilities {
		byHIP[r.HIPID] = r
	}
	if r := byHIP[h.tenant.HIPs[0]]; !r.Registered || !r.Active || !r.CanServeM2() || !slices.Contains(r.Types, "HIU") {
		t.Errorf("registered facility: %+v", r)
	}
	if r := byHIP[h.tenant.HIPs[1]]; r.Registered || r.CanServeM2() || r.CheckedAt.IsZero() {
		t.Errorf("unregistered facility: %+v", r)
	}
	if len(o.OtherServices) != 1 || o.OtherServices[0].ID != otherService+"-"+h.tenant.Slug {
		t.Errorf("other services %+v", o.OtherServices)
	}

	// The result is persisted for the admin page and for M2 checks.
	regs, err := h.bridge.FacilityRegistrations(ctx, h.tenant.ID)
	mustNoErr(t, err)
	if len(regs) != 2 {
		t.Fatalf("%d registrations, want 2", len(regs))
	}
	for hip, want := range map[string]bool{h.tenant.HIPs[0]: true, h.tenant.HIPs[1]: false} {
		if ok, err := h.bridge.CanServeM2(ctx, h.tenant.ID, hip); ok != want || err != nil {
			t.Errorf("CanServeM2(%s) = %t, %v; want %t", hip, ok, err, want)
		}
	}
	if _, err := h.bridge.CanServeM2(ctx, h.tenant.ID, "NOT-A-FACILITY"); !errors.Is(err, bridge.ErrNotFound) {
		t.Errorf("CanServeM2 of an unknown HIP id: %v, want ErrNotFound", err)
	}
	st, err := h.bridge.OnboardingStatus(ctx, h.tenant.ID)
	mustNoErr(t, err)
	if st.BridgeURL != h.bridgeURL() || st.ReportedURL != h.bridgeURL() || st.RegisteredAt.IsZero() || st.CheckedAt.IsZero() || st.LastError != "" {
		t.Errorf("status %+v", st)
	}

	// A facility whose HIP id changes is unchecked again.
	err = h.inTenant(func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, "UPDATE facilities SET hip_id = hip_id || '-NEW' WHERE id = $1", h.tenant.FacID[0])
		return err
	})
	mustNoErr(t, err)
	if ok, err := h.bridge.CanServeM2(ctx, h.tenant.ID, h.tenant.HIPs[0]+"-NEW"); ok || err != nil {
		t.Errorf("after a HIP id change: CanServeM2 = %t, %v; want false until checked", ok, err)
	}
}

func (h *harness) inTenant(fn func(pgx.Tx) error) error {
	return pgx.BeginFunc(context.Background(), h.db.App, func(tx pgx.Tx) error {
		if _, err := tx.Exec(context.Background(), "SELECT set_config('app.tenant_id', $1, true)", h.tenant.ID); err != nil {
			return err
		}
		return fn(tx)
	})
}

func TestOnboardWithWrongSecretIsRecorded(t *testing.T) {
	h := newHarness(t, harnessOptions{sandbox: true})
	ctx := context.Background()
	mustNoErr(t, h.bridge.SetCredentials(ctx, h.tenant.ID, "SBX_ACME", []byte("not-the-secret")))
	_, err := h.bridge.Onboard(ctx, h.tenant.ID)
	if !errors.Is(err, abdm.ErrUnauthorized) {
		t.Fatalf("Onboard: %v, want ErrUnauthorized", err)
	}
	st, err := h.bridge.OnboardingStatus(ctx, h.tenant.ID)
	mustNoErr(t, err)
	if st.LastError == "" || st.LastErrorAt.IsZero() || !st.RegisteredAt.IsZero() {
		t.Errorf("status %+v, want the error recorded and nothing registered", st)
	}
	other := newTenant(t, h.db, "Nothing "+randomSuffix(), 1)
	if _, err := h.bridge.OnboardingStatus(ctx, other.ID); !errors.Is(err, bridge.ErrNoCredentials) {
		t.Errorf("status without credentials: %v", err)
	}
}

// TestOnboardingJobRetriesUntilGatewayIsUp runs the start-up onboarding
// job while the gateway answers 503, then lets it through.
func TestOnboardingJobRetriesUntilGatewayIsUp(t *testing.T) {
	var up atomic.Bool
	var refused atomic.Int32
	h := newHarness(t, harnessOptions{
		sandbox: true,
		config: func(c *bridge.Config) {
			c.AutoRegister = true
			c.OnboardMaxDelay = 50 * time.Millisecond
		},
		front: func(next http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if !up.Load() {
					refused.Add(1)
					w.WriteHeader(http.StatusServiceUnavailable)
					return
				}
				next.ServeHTTP(w, r)
			})
		},
	})
	ctx := context.Background()
	// The periodic job's work: queue one onboarding per tenant with
	// credentials.
	_, err := h.jobs.Insert(ctx, bridge.OnboardAllArgs{}, &river.InsertOpts{Queue: h.queue})
	mustNoErr(t, err)

	deadline := time.Now().Add(20 * time.Second)
	for refused.Load() < 3 {
		if time.Now().After(deadline) {
			t.Fatalf("gateway was tried %d times", refused.Load())
		}
		time.Sleep(10 * time.Millisecond)
	}
	up.Store(true)
	for {
		st, err := h.bridge.OnboardingStatus(ctx, h.tenant.ID)
		mustNoErr(t, err)
		if !st.RegisteredAt.IsZero() && !st.CheckedAt.IsZero() {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not onboarded: %+v", st)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if got, _ := h.sandbox.BridgeURL("SBX_ACME"); got != h.bridgeURL() {
		t.Errorf("gateway has bridge URL %q, want %q", got, h.bridgeURL())
	}
}

// TestSandboxGatewayEndToEnd onboards against the sandbox gateway, lets it
// deliver a signed discover callback (twice, as its duplicate fault does,
// then late with an expired token), answers with on-discover, and checks
// that the gateway accepted the answer as matching its callback.
func TestSandboxGatewayEndToEnd(t *testing.T) {
	h := newHarness(t, harnessOptions{sandbox: true})
	ctx := context.Background()
	var runs atomic.Int32
	mustNoErr(t, h.bridge.Handle("hip.discover", func(ctx context.Context, tx pgx.Tx, cb *bridge.Callback) error {
		runs.Add(1)
		var in abdm.DiscoverRequest
		if err := cb.Decode(&in); err != nil {
			return err
		}
		_, err := h.bridge.Send(ctx, tx, bridge.OutboundCall{
			Tenant: cb.Tenant, Path: abdm.PathOnDiscover, HIPID: cb.ServiceID, RespondsTo: cb.RequestID,
			Body: abdm.OnDiscoverRequest{TransactionID: in.TransactionID,
				Error: &abdm.ErrorDetail{Code: "ABDM-1010", Message: "Patient not found"}, Response: abdm.ResponseRef{RequestID: cb.RequestID}},
		})
		return err
	}))
	_, err := h.bridge.Onboard(ctx, h.tenant.ID)
	mustNoErr(t, err)
	mustNoErr(t, h.sandbox.SetFaults("SBX_ACME", gateway.Faults{DuplicateDeliveries: 1}))

	body, err := json.Marshal(discoverBody())
	mustNoErr(t, err)
	d, err := h.sandbox.Deliver(ctx, gateway.Callback{Path: gateway.CallbackDiscover, HIPID: h.tenant.HIPs[0], Body: json.RawMessage(body)})
	mustNoErr(t, err)
	if d.State != gateway.StateDelivered || len(d.Attempts) != 2 || d.Attempts[0].Status != 202 || d.Attempts[1].Status != 202 {
		t.Fatalf("delivery %+v", d)
	}
	in := h.waitState(h.exchangeID(bridge.Inbound, d.RequestID), bridge.StateReplied)
	if runs.Load() != 1 {
		t.Errorf("processed %d times, want 1", runs.Load())
	}
	answers := h.sandbox.Messages(gateway.Filter{Path: abdm.PathOnDiscover})
	if len(answers) != 1 || answers[0].Status != http.StatusAccepted || answers[0].Answers != d.RequestID {
		t.Errorf("gateway recorded on-discover %+v, want one accepted answer to %s", answers, d.RequestID)
	}

	// A redelivery with an expired token is refused and changes nothing.
	again, err := h.sandbox.Redeliver(ctx, d.RequestID, true)
	mustNoErr(t, err)
	if last := again.Attempts[len(again.Attempts)-1]; last.Status != http.StatusUnauthorized {
		t.Errorf("expired-token redelivery answered %d, want 401", last.Status)
	}
	after, err := h.bridge.Exchange(ctx, h.tenant.ID, in.ID)
	mustNoErr(t, err)
	if len(after.Events) != len(in.Events) {
		t.Errorf("timeline changed after a refused redelivery: %v → %v", eventKinds(in), eventKinds(after))
	}
}
