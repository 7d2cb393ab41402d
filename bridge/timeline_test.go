package bridge_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/sangamhealth/sangam/bridge"
)

func TestTimelineFiltersAndIsolatesTenants(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	ctx := context.Background()
	var c counter
	mustNoErr(t, h.bridge.Handle("hip.discover", c.fn("hip.discover")))

	req, inID := h.callback("hip.discover", h.tenant.HIPs[0], discoverBody())
	if r := send(t, req); r.status != http.StatusAccepted {
		t.Fatalf("got %d", r.status)
	}
	sent := h.enqueue(h.generateToken())
	h.waitState(sent.ExchangeID, bridge.StateDelivered)
	in := h.waitState(h.exchangeID(bridge.Inbound, inID), bridge.StateProcessed)

	for _, tc := range []struct {
		name string
		f    bridge.Filter
		want []int64
	}{
		{"all, newest first", bridge.Filter{}, []int64{sent.ExchangeID, in.ID}},
		{"inbound", bridge.Filter{Direction: bridge.Inbound}, []int64{in.ID}},
		{"delivered", bridge.Filter{State: bridge.StateDelivered}, []int64{sent.ExchangeID}},
		{"route", bridge.Filter{Route: "generate_token"}, []int64{sent.ExchangeID}},
		{"request id", bridge.Filter{RequestID: inID}, []int64{in.ID}},
		{"facility", bridge.Filter{FacilityID: h.tenant.FacID[0]}, []int64{sent.ExchangeID, in.ID}},
		{"other facility", bridge.Filter{FacilityID: h.tenant.FacID[1]}, nil},
		{"page", bridge.Filter{BeforeID: sent.ExchangeID, Limit: 1}, []int64{in.ID}},
		{"since", bridge.Filter{Since: time.Now().Add(time.Hour)}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			xs, err := h.bridge.Timeline(ctx, h.tenant.ID, tc.f)
			mustNoErr(t, err)
			var got []int64
			for _, x := range xs {
				got = append(got, x.ID)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}

	other := newTenant(t, h.db, "Other "+randomSuffix(), 1)
	if xs, err := h.bridge.Timeline(ctx, other.ID, bridge.Filter{}); err != nil || len(xs) != 0 {
		t.Errorf("other tenant's timeline: %d exchanges, %v", len(xs), err)
	}
	if _, err := h.bridge.Exchange(ctx, other.ID, in.ID); !errors.Is(err, bridge.ErrNotFound) {
		t.Errorf("other tenant reading exchange %d: %v, want ErrNotFound", in.ID, err)
	}
	if err := h.bridge.Replay(ctx, other.ID, in.ID); !errors.Is(err, bridge.ErrNotFound) {
		t.Errorf("other tenant replaying exchange %d: %v, want ErrNotFound", in.ID, err)
	}
	if _, err := h.bridge.Exchange(ctx, "not-a-uuid", in.ID); !errors.Is(err, bridge.ErrNotFound) {
		t.Errorf("malformed tenant id: %v, want ErrNotFound", err)
	}
}

func TestPurgeDropsBodiesPastRetention(t *testing.T) {
	h := newHarness(t, harnessOptions{config: func(c *bridge.Config) { c.Retention = time.Millisecond }})
	ctx := context.Background()
	req, id := h.callback("hip.link_init", h.tenant.HIPs[0], json.RawMessage(`{"transactionId":"t","abhaAddress":"a@sbx","patient":[]}`))
	if r := send(t, req); r.status != http.StatusOK {
		t.Fatalf("got %d", r.status)
	}
	x := h.exchangeID(bridge.Inbound, id)
	h.waitState(x, bridge.StateUnhandled)

	n, err := h.bridge.PurgeExpired(ctx)
	mustNoErr(t, err)
	if n < 1 {
		t.Fatalf("purged %d bodies, want at least 1", n)
	}
	d, err := h.bridge.Exchange(ctx, h.tenant.ID, x)
	mustNoErr(t, err)
	if d.Body != nil || d.BodyPurgedAt == nil || eventKinds(d)[len(d.Events)-1] != "body_purged" {
		t.Errorf("after purge: body %q, purged at %v, events %v", d.Body, d.BodyPurgedAt, eventKinds(d))
	}
	if err := h.bridge.Replay(ctx, h.tenant.ID, x); !errors.Is(err, bridge.ErrNotReplayable) {
		t.Errorf("replaying a purged callback: %v, want ErrNotReplayable", err)
	}
	if n, err := h.bridge.PurgeExpired(ctx); err != nil || n != 0 {
		t.Errorf("second purge: %d, %v; want 0", n, err)
	}
	// The redelivery check still works without the body.
	if r := send(t, req); r.status != http.StatusOK {
		t.Errorf("redelivery after purge: %d %s", r.status, r.body)
	}
}
