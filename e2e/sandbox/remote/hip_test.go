package remote_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sangamhealth/sangam/abdm"
	"github.com/sangamhealth/sangam/abdm/fidelius"
	"github.com/sangamhealth/sangam/e2e/sandbox/cm"
	"github.com/sangamhealth/sangam/e2e/sandbox/cm/cmtest"
	"github.com/sangamhealth/sangam/e2e/sandbox/remote"
)

// pushSink is Sangam's data push URL in these tests: it keeps every page
// as received.
type pushSink struct {
	srv   *httptest.Server
	mu    sync.Mutex
	pages []json.RawMessage
}

func newPushSink(t *testing.T) *pushSink {
	s := &pushSink{}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if r.Header.Get("Content-Type") != "application/json" || !json.Valid(b) {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		s.mu.Lock()
		s.pages = append(s.pages, b)
		s.mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
	}))
	t.Cleanup(s.srv.Close)
	return s
}

func (s *pushSink) got() []json.RawMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.pages)
}

func TestRemoteHIPPushesPagesThatDecryptToTheOriginalBundles(t *testing.T) {
	dir := fhirDir(t)
	e := start(t, dir)
	e.w.Sangam.ActAsHIU(cmtest.SangamHIU)
	ctx := context.Background()

	if st := e.hospital.Status(); st.Bundles < 20 || !strings.Contains(st.Records, "example bundles") {
		t.Fatalf("remote status: %+v", st)
	}
	recs := e.linkAtRemote(sunita)
	if len(recs) != 8 {
		t.Fatalf("Sunita has %d records at the remote HIP; want one per HI type (8)", len(recs))
	}
	if links := e.w.CM.Links(sunita, e.hospital.HIPID()); len(links) != 8 || links[0].Via != cm.ViaHIP {
		t.Fatalf("consent manager links: %+v", links)
	}

	// Sangam asks for Sunita's OP consultations and prescriptions there;
	// she grants everything that fits.
	reqID := e.sangamConsent(consentFor(sunita, e.hospital.HIPID(), []abdm.HIType{abdm.HITypeOPConsultation, abdm.HITypePrescription}))
	granted, err := e.w.CM.Approve(ctx, sunita, reqID, cm.Grant{})
	if err != nil {
		t.Fatal(err)
	}
	artefact := granted.ArtefactIDs[0]
	e.waitRemote("the HIP's artefact", func() bool { return len(e.hospital.HIPConsents()) == 1 })

	// Sangam's HIU: fresh key pair, HI request with its own push URL.
	sink := newPushSink(t)
	key, err := fidelius.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	nonce := fidelius.NewNonce()
	a, _ := e.w.CM.Consent(artefact)
	id := e.w.Sangam.MustCall(abdm.Request{Path: abdm.PathHealthInformationRequest, HIUID: cmtest.SangamHIU, Body: map[string]any{
		"hiRequest": map[string]any{
			"consent": abdm.Ref{ID: artefact}, "dateRange": a.Detail.Permission.DateRange, "dataPushUrl": sink.srv.URL + "/push/" + artefact,
			"keyMaterial": fidelius.NewKeyMaterial(key.PublicKey().Raw(), nonce, time.Now().Add(time.Hour)),
		}}})
	var onReq abdm.HealthInformationOnRequest
	e.w.Sangam.ResultOf(abdm.CallbackHIUHealthInformationOnRequest, id).Decode(t, &onReq)
	if onReq.Error != nil {
		t.Fatalf("on-request: %+v", onReq.Error)
	}
	txn := onReq.HIRequest.TransactionID

	e.w.WaitFor("the HIP's notify", func() bool {
		tr, _ := e.w.CM.Transfer(txn)
		return len(tr.Notices) == 1
	})
	tr, _ := e.w.CM.Transfer(txn)
	notice := tr.Notices[0]
	if tr.HIPAck != abdm.SessionAcknowledged || notice.NotifierType != "HIP" || notice.SessionStatus != abdm.SessionTransferred || len(notice.Statuses) != 2 {
		t.Fatalf("transfer as the consent manager saw it: %+v", tr)
	}

	pages := sink.got()
	if len(pages) != 2 {
		t.Fatalf("%d pages pushed; want one per consented record (2)", len(pages))
	}
	seen := map[string]bool{}
	for _, raw := range pages {
		var page abdm.DataPushRequest
		if err := json.Unmarshal(raw, &page); err != nil {
			t.Fatal(err)
		}
		// The real push body shape: keyMaterial at the top level with the
		// HIP's X.509 key, 1-based pages, one entry each.
		var shape struct {
			KeyMaterial fidelius.KeyMaterial `json:"keyMaterial"`
		}
		_ = json.Unmarshal(raw, &shape)
		if page.TransactionID != txn || page.PageCount != 2 || page.PageNumber < 1 || page.PageNumber > 2 || len(page.Entries) != 1 ||
			!strings.HasPrefix(shape.KeyMaterial.DHPublicKey.KeyValue, "MIIBMTCB6gYHKoZIzj0CAT") || page.Entries[0].Media != abdm.MediaFHIRJSON {
			t.Errorf("page shape: %s", raw[:min(len(raw), 400)])
			continue
		}
		senderKey, senderNonce, err := shape.KeyMaterial.Parse()
		if err != nil {
			t.Fatal(err)
		}
		entry := page.Entries[0]
		plain, err := fidelius.Decrypt(key, senderKey, senderNonce, nonce, entry.Content)
		if err != nil {
			t.Fatalf("decrypting %s with the HIU's private key: %v", entry.CareContextReference, err)
		}
		i := slices.IndexFunc(recs, func(r remote.Record) bool { return r.CareContextReference == entry.CareContextReference })
		if i < 0 {
			t.Fatalf("page for unknown care context %s", entry.CareContextReference)
		}
		want, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(recs[i].File)))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(plain, want) {
			t.Errorf("%s decrypted to %d bytes that differ from %s (%d bytes)", entry.CareContextReference, len(plain), recs[i].File, len(want))
		}
		if recs[i].HIType != string(abdm.HITypeOPConsultation) && recs[i].HIType != string(abdm.HITypePrescription) {
			t.Errorf("pushed a %s record the consent does not cover", recs[i].HIType)
		}
		seen[entry.CareContextReference] = true
	}
	if len(seen) != 2 {
		t.Errorf("pages covered %d distinct care contexts; want 2", len(seen))
	}
	if xs := e.hospital.HIPTransfers(); len(xs) != 1 || xs[0].SessionStatus != abdm.SessionTransferred || len(xs[0].Pages) != 2 || xs[0].Pages[0].Status != 202 {
		t.Errorf("remote HIP transfer record: %+v", xs)
	}
}

func TestUserInitiatedLinkingAtTheRemoteHIPWithTheOTPFromThePhone(t *testing.T) {
	e := start(t, fhirDir(t))
	ctx := context.Background()
	d, err := e.w.CM.Discover(ctx, meena, e.hospital.HIPID(), nil)
	if err != nil {
		t.Fatal(err)
	}
	e.w.WaitFor("on-discover", func() bool { d, _ = e.w.CM.Discovery(d.TransactionID); return d.Status != cm.DiscoveryPending })
	if d.Status != cm.DiscoveryDone || len(d.CareContexts) != 8 {
		t.Fatalf("discovery at the remote HIP: %+v", d)
	}
	pick := []cm.CareContextRef{{CareContextReference: d.CareContexts[0].CareContextReference}, {CareContextReference: d.CareContexts[2].CareContextReference}}
	if _, err := e.w.CM.LinkInit(ctx, meena, d.TransactionID, pick); err != nil {
		t.Fatal(err)
	}
	e.w.WaitFor("on-init", func() bool { d, _ = e.w.CM.Discovery(d.TransactionID); return d.Link.Status != cm.LinkInitiating })
	if d.Link.Status != cm.LinkAwaitingOTP {
		t.Fatalf("link after on-init: %+v", d.Link)
	}
	// The HIP texted the OTP to Meena's mobile.
	msgs := e.inbox.Messages("9000000099")
	if len(msgs) != 1 || msgs[0].From != "CITYHS" {
		t.Fatalf("messages on Meena's phone: %+v", msgs)
	}
	otp := msgs[0].Text[:6]
	if want, _ := e.hospital.PendingOTP(meena); want != otp {
		t.Fatalf("OTP in the SMS %q differs from the pending one", otp)
	}
	if _, err := e.w.CM.LinkConfirm(ctx, meena, d.TransactionID, otp); err != nil {
		t.Fatal(err)
	}
	e.w.WaitFor("on-confirm", func() bool { d, _ = e.w.CM.Discovery(d.TransactionID); return d.Link.Status != cm.LinkConfirming })
	if d.Link.Status != cm.LinkLinked || len(d.Link.Linked) != 2 {
		t.Fatalf("link after confirm: %+v", d.Link)
	}
	if n := len(e.w.CM.Links(meena, e.hospital.HIPID())); n != 2 {
		t.Errorf("consent manager has %d links; want 2", n)
	}
	linked := 0
	for _, r := range e.hospital.Records(meena) {
		if r.Linked {
			linked++
		}
	}
	if linked != 2 {
		t.Errorf("remote HIP marks %d records linked; want 2", linked)
	}
	// A new discovery offers only the six still unlinked.
	d2, _ := e.w.CM.Discover(ctx, meena, e.hospital.HIPID(), nil)
	e.w.WaitFor("second on-discover", func() bool { d2, _ = e.w.CM.Discovery(d2.TransactionID); return d2.Status != cm.DiscoveryPending })
	if len(d2.CareContexts) != 6 {
		t.Errorf("second discovery found %d; want 6", len(d2.CareContexts))
	}
}

func TestRemoteHIPWithoutRecordsSaysSoAndFindsNothing(t *testing.T) {
	e := start(t, filepath.Join(t.TempDir(), "absent"))
	st := e.hospital.Status()
	if st.Bundles != 0 || !strings.Contains(st.Records, "serves nothing") {
		t.Errorf("status without records: %+v", st)
	}
	resp, err := http.Get(e.w.URL + remote.Prefix + "/")
	if err != nil {
		t.Fatal(err)
	}
	var got remote.Status
	_ = json.NewDecoder(resp.Body).Decode(&got)
	resp.Body.Close()
	if got.Records != st.Records || got.HIPID != "IN_CITY_HIP" {
		t.Errorf("status over HTTP: %+v", got)
	}
	d, err := e.w.CM.Discover(context.Background(), sunita, e.hospital.HIPID(), nil)
	if err != nil {
		t.Fatal(err)
	}
	e.w.WaitFor("on-discover", func() bool { d, _ = e.w.CM.Discovery(d.TransactionID); return d.Status != cm.DiscoveryPending })
	if d.Status != cm.DiscoveryFailed || d.Error == nil || d.Error.Code != "ABDM-1010" {
		t.Errorf("discovery at an HIP without records: %+v", d)
	}
}
