package hip_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/sangamhealth/sangam/abdm"
	"github.com/sangamhealth/sangam/e2e/sandbox/cm"
	"github.com/sangamhealth/sangam/e2e/sandbox/gateway"
	"github.com/sangamhealth/sangam/hip"
	"github.com/sangamhealth/sangam/keys"
	"github.com/sangamhealth/sangam/patients"
	"github.com/sangamhealth/sangam/sources"
)

func TestScanAndShareIssuesTokensPerCounter(t *testing.T) {
	w := newM1World(t, nil)
	ctx := context.Background()

	first := w.share("asha.rao@sbx", "OPD1")
	second := w.share("vikram.s@sbx", "OPD1")
	other := w.share("meera.k@sbx", "LAB2")
	for _, c := range []struct {
		got  cm.Share
		want string
	}{{first, "1"}, {second, "2"}, {other, "1"}} {
		if c.got.Status != cm.ShareToken || c.got.TokenNumber != c.want {
			t.Errorf("share of %s at %s: status %s token %q error %+v, want token %s",
				c.got.ABHAAddress, c.got.CounterID, c.got.Status, c.got.TokenNumber, c.got.Error, c.want)
		}
		if c.got.Expiry != "1800" && c.got.Expiry != "1799" {
			t.Errorf("share of %s: expiry %q, want about 1800 s", c.got.ABHAAddress, c.got.Expiry)
		}
	}
	// The gateway accepted each on-share as the answer to its share.
	for _, m := range w.sandbox.Gateway.Messages(gatewayFilter(abdm.PathPatientOnShare)) {
		if m.Status != 202 || m.Answers == "" {
			t.Errorf("on-share %s: status %d, answers %q", m.RequestID, m.Status, m.Answers)
		}
	}

	// Sharing again while the token is valid and waiting keeps it.
	again := w.share("asha.rao@sbx", "OPD1")
	if again.TokenNumber != "1" {
		t.Errorf("repeated share got token %q, want 1 again", again.TokenNumber)
	}

	counters, err := w.svc.Queues().Counters(ctx, w.tenant)
	if err != nil {
		t.Fatal(err)
	}
	var opd string
	for _, c := range counters {
		if c.Code == "OPD1" && c.FacilityID == w.facility {
			opd = c.ID
		}
	}
	if opd == "" {
		t.Fatalf("counter OPD1 not created: %+v", counters)
	}
	q, err := w.svc.Queues().Queue(ctx, w.tenant, opd, w.svc.Queues().Today())
	if err != nil {
		t.Fatal(err)
	}
	if len(q.Entries) != 2 {
		t.Fatalf("queue has %d entries, want 2: %+v", len(q.Entries), q.Entries)
	}
	a, v := q.Entries[0], q.Entries[1]
	wantAge := time.Now().In(q.Location).Year() - 1988
	if time.Now().In(q.Location).Before(time.Date(time.Now().In(q.Location).Year(), 3, 14, 0, 0, 0, 0, q.Location)) {
		wantAge--
	}
	if a.TokenNumber != 1 || a.Name != "Asha Rao" || a.Gender != "F" || a.ABHAAddress != "asha.rao@sbx" ||
		a.ABHANumber != "91111122223333" || a.Age != wantAge || a.Status != hip.TokenWaiting || a.PatientID == "" {
		t.Errorf("first entry = %+v (want age %d)", a, wantAge)
	}
	if v.TokenNumber != 2 || v.Name != "Vikram Singh" || v.Status != hip.TokenWaiting {
		t.Errorf("second entry = %+v", v)
	}

	// The shared patient is in the master index with a verified ABHA.
	m, err := w.patients.Find(ctx, w.tenant, patients.Query{ABHAAddress: "asha.rao@sbx"})
	if err != nil {
		t.Fatal(err)
	}
	if m.Status != patients.MatchExact || m.Patient.ID != a.PatientID {
		t.Errorf("Find by ABHA address: %s %s, want exact %s", m.Status, m.Patient.ID, a.PatientID)
	}

	// Accept and complete, in order only.
	if err := w.svc.Queues().CompleteToken(ctx, w.tenant, v.ID); err != nil {
		t.Fatal(err)
	}
	if err := w.svc.Queues().AcceptToken(ctx, w.tenant, v.ID); !errors.Is(err, hip.ErrConflict) {
		t.Errorf("accepting a completed token: %v, want ErrConflict", err)
	}
	if err := w.svc.Queues().AcceptToken(ctx, w.tenant, a.ID); err != nil {
		t.Fatal(err)
	}
	if err := w.svc.Queues().AcceptToken(ctx, w.tenant, 1<<40); !errors.Is(err, hip.ErrNotFound) {
		t.Errorf("accepting an unknown token: %v, want ErrNotFound", err)
	}
	q, err = w.svc.Queues().Queue(ctx, w.tenant, opd, w.svc.Queues().Today())
	if err != nil {
		t.Fatal(err)
	}
	if q.Entries[0].Status != hip.TokenAccepted || q.Entries[1].Status != hip.TokenCompleted {
		t.Errorf("statuses after accept/complete: %s, %s", q.Entries[0].Status, q.Entries[1].Status)
	}

	// A new patient after Asha's token was taken in gets the next number.
	third := w.share("asha.rao@sbx", "OPD1")
	if third.TokenNumber != "3" {
		t.Errorf("share after the token was accepted got %q, want 3", third.TokenNumber)
	}

	// Tomorrow the counter starts again at 1.
	w.clock.Advance(24 * time.Hour)
	if tomorrow := w.share("vikram.s@sbx", "OPD1"); tomorrow.TokenNumber != "1" {
		t.Errorf("next day's first token is %q, want 1", tomorrow.TokenNumber)
	}
}

func TestShareRequestsLinkTokenOnce(t *testing.T) {
	w := newM1World(t, nil)

	w.share("asha.rao@sbx", "OPD1")
	w.eventually("the link token to be stored", func() (bool, error) {
		_, err := w.linkToken("asha.rao@sbx")
		return err == nil, nil
	})
	sec, err := w.linkToken("asha.rao@sbx")
	if err != nil {
		t.Fatal(err)
	}
	issued := w.sandbox.CM.LinkTokens()
	if len(issued) != 1 || issued[0].HIPID != w.hipID || issued[0].ABHANumber != "91111122223333" {
		t.Fatalf("link tokens issued: %+v", issued)
	}
	if d := sec.ExpiresAt.Sub(issued[0].ExpiresAt); d < -time.Second || d > time.Second {
		t.Errorf("stored token expires %v, the token's exp is %v", sec.ExpiresAt, issued[0].ExpiresAt)
	}
	// Stored sealed: the token's text is nowhere in the row.
	var sealed []byte
	if err := w.db.Owner.QueryRow(context.Background(), `SELECT sealed FROM key_secrets
		WHERE tenant_id = $1 AND purpose = 'link-token' AND name = 'asha.rao@sbx'`, w.tenant).Scan(&sealed); err != nil {
		t.Fatal(err)
	}
	if len(sec.Value) < 20 || containsBytes(sealed, sec.Value[:20]) {
		t.Errorf("link token stored in the clear (or too short: %d bytes)", len(sec.Value))
	}

	// With a token stored, another share asks for nothing.
	w.share("asha.rao@sbx", "OPD1")
	w.settle()
	if n := w.gatewayCalls(abdm.PathGenerateToken); n != 1 {
		t.Errorf("generate-token calls after a second share: %d, want 1", n)
	}
}

func TestLinkTokenWindowAndLostToken(t *testing.T) {
	w := newM1World(t, nil)
	ctx := context.Background()
	w.share("meera.k@sbx", "OPD1")
	w.eventually("the link token", func() (bool, error) {
		_, err := w.linkToken("meera.k@sbx")
		return err == nil, nil
	})
	// An address-only ABHA: abhaNumber went as null.
	if issued := w.sandbox.CM.LinkTokens(); len(issued) != 1 || issued[0].ABHANumber != "" {
		t.Fatalf("link tokens issued: %+v", issued)
	}

	// The token is lost. A share inside the ABDM-1092 window must not ask
	// again ...
	if err := w.keys.Delete(ctx, keys.Ref{Tenant: w.tenant, Facility: w.facility, Purpose: keys.PurposeLinkToken, Name: "meera.k@sbx"}); err != nil {
		t.Fatal(err)
	}
	w.share("meera.k@sbx", "OPD1")
	w.settle()
	if n := w.gatewayCalls(abdm.PathGenerateToken); n != 1 {
		t.Fatalf("generate-token calls inside the window: %d, want 1", n)
	}
	// ... and once it has passed, the next need asks again.
	w.clock.Advance(hip.DefaultLinkTokenWindow + time.Second)
	w.share("meera.k@sbx", "OPD1")
	w.eventually("a new link token", func() (bool, error) {
		_, err := w.linkToken("meera.k@sbx")
		return err == nil, nil
	})
	if n := w.gatewayCalls(abdm.PathGenerateToken); n != 2 {
		t.Errorf("generate-token calls after the window: %d, want 2", n)
	}
}

func TestLinkTokenBlockedBacksOff(t *testing.T) {
	w := newM1World(t, nil)
	w.sandbox.CM.BlockPatient(w.hipID, "vikram.s@sbx")
	his := w.source("his", "HIS")
	if _, err := w.patients.Ingest(context.Background(), w.tenant, patients.SourceRecord{
		FacilityID: w.facility, SourceSystemID: his, LocalID: "MRN-7", Name: "Vikram Singh", Gender: "M",
		BirthYear: 1975, ABHAAddress: "vikram.s@sbx",
	}); err != nil {
		t.Fatal(err)
	}

	w.share("vikram.s@sbx", "OPD1")
	w.settle()
	w.eventually("the ABDM-1027 refusal to be processed", func() (bool, error) {
		var state string
		err := w.db.Owner.QueryRow(context.Background(), `SELECT state FROM hip_link_token_requests
			WHERE facility_id = $1 AND abha_address = 'vikram.s@sbx'`, w.facility).Scan(&state)
		return state == "blocked", err
	})

	// Past the duplicate window but inside the block: neither a share nor
	// a new care context asks again, and the care context waits.
	w.clock.Advance(10 * time.Minute)
	w.share("vikram.s@sbx", "OPD1")
	reg := w.careContext(his, "his", "MRN-7", "V1", sources.OPConsultation)
	w.settle()
	if n := w.gatewayCalls(abdm.PathGenerateToken); n != 1 {
		t.Errorf("generate-token calls while blocked: %d, want 1", n)
	}
	if n := w.gatewayCalls(abdm.PathLinkCareContext); n != 0 {
		t.Errorf("link/carecontext calls without a token: %d", n)
	}
	if st := w.linkState(reg.Reference); st.State != "waiting_token" {
		t.Errorf("care context state %+v, want waiting_token", st)
	}

	// After the block, the next need asks again.
	w.clock.Advance(hip.DefaultBlockFor)
	w.share("vikram.s@sbx", "OPD1")
	w.settle()
	if n := w.gatewayCalls(abdm.PathGenerateToken); n != 2 {
		t.Errorf("generate-token calls after the block: %d, want 2", n)
	}
}

func gatewayFilter(path string) gateway.Filter { return gateway.Filter{Path: path} }

func containsBytes(haystack, needle []byte) bool {
	for i := 0; i+len(needle) <= len(haystack); i++ {
		if string(haystack[i:i+len(needle)]) == string(needle) {
			return true
		}
	}
	return false
}
