package cm_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sangamhealth/sangam/abdm"
	"github.com/sangamhealth/sangam/e2e/sandbox/cm"
	"github.com/sangamhealth/sangam/e2e/sandbox/cm/cmtest"
)

// grantedWorld links two care contexts for Sunita at Sangam's HIP and one
// at the other hospital, with both bridges acting as well-behaved HIPs and
// Sangam as an HIU.
func grantedWorld(t *testing.T, tweak func(*cm.Config)) *world {
	t.Helper()
	w := newWorld(t, tweak)
	w.sangam.ActAsHIP(sunitaAtSangam())
	w.sangam.ActAsHIU(sangamHIU)
	w.other.ActAsHIP(&cmtest.HIP{HIPID: otherHIP})
	if res := w.link(w.sunitaToken(), opd("VISIT-1"), lab("LAB-1")); res.Error != nil {
		t.Fatal(res.Error)
	}
	// The other hospital links one record through its own token.
	id := w.other.MustCall(abdm.Request{Path: abdm.PathGenerateToken, HIPID: otherHIP, Body: abdm.GenerateTokenRequest{
		ABHAAddress: sunita, Name: "Sunita Rao", Gender: "F", YearOfBirth: 1978}})
	var tok abdm.OnGenerateTokenRequest
	w.other.ResultOf(abdm.CallbackOnGenerateToken, id).Decode(t, &tok)
	id = w.other.MustCall(abdm.Request{Path: abdm.PathLinkCareContext, HIPID: otherHIP, LinkToken: tok.LinkToken,
		Body: abdm.LinkCareContextRequest{ABHAAddress: sunita, Patient: []abdm.PatientCareContexts{
			abdm.NewPatientCareContexts("O-7", "S. Rao", abdm.HITypePrescription, abdm.CareContext{ReferenceNumber: "RX-1"})}}})
	var linked abdm.OnCareContextRequest
	w.other.ResultOf(abdm.CallbackOnCareContext, id).Decode(t, &linked)
	if linked.Error != nil {
		t.Fatal(linked.Error)
	}
	return w
}

func TestConsentGrantNotifiesHIPsAndHIUAndServesFetchAndStatus(t *testing.T) {
	w := grantedWorld(t, nil)
	ctx := context.Background()

	// "All HIPs": no hip in the request. Prescriptions are asked for too.
	cr := careRequest()
	cr.HIP = nil
	cr.HITypes = append(cr.HITypes, abdm.HITypePrescription)
	reqID := w.consentInit(cr)
	pending := w.cm.ConsentRequests(cm.ConsentFilter{ABHAAddress: sunita, Status: abdm.ConsentRequested})
	if len(pending) != 1 || pending[0].ID != reqID || pending[0].HIUName != "Sangam Records" {
		t.Fatalf("pending requests: %+v", pending)
	}

	got, err := w.cm.Approve(ctx, sunita, reqID, cm.Grant{})
	if err != nil {
		t.Fatalf("Approve: %v", err)
	}
	if got.Status != abdm.ConsentGranted || len(got.ArtefactIDs) != 2 {
		t.Fatalf("approved request: %+v", got)
	}

	// Each HIP gets its own artefact; the HIU gets both ids.
	var hipNote abdm.HIPConsentNotifyRequest
	w.sangam.WaitFor(abdm.CallbackHIPConsentNotify, nil).Decode(t, &hipNote)
	n := hipNote.Notification
	if n.Status != abdm.ConsentGranted || n.ConsentDetail == nil || n.ConsentDetail.HIP.ID != sangamHIP ||
		len(n.ConsentDetail.CareContexts) != 2 || n.ConsentDetail.Patient.ID != sunita || n.Signature == "" ||
		n.ConsentDetail.ConsentManager.ID != "sbx" || n.ConsentDetail.HIU.ID != sangamHIU {
		t.Errorf("HIP notify: %s", mustJSON(t, hipNote))
	}
	var otherNote abdm.HIPConsentNotifyRequest
	w.other.WaitFor(abdm.CallbackHIPConsentNotify, nil).Decode(t, &otherNote)
	if d := otherNote.Notification.ConsentDetail; d == nil || len(d.CareContexts) != 1 || d.CareContexts[0].CareContextReference != "RX-1" {
		t.Errorf("other HIP notify: %s", mustJSON(t, otherNote))
	}
	var hiuNote abdm.HIUConsentNotifyRequest
	cb := w.sangam.WaitFor(abdm.CallbackHIUConsentNotify, nil)
	cb.Decode(t, &hiuNote)
	if cb.HIUID != sangamHIU || hiuNote.Notification.Status != abdm.ConsentGranted || hiuNote.Notification.ConsentRequestID != reqID ||
		len(hiuNote.Notification.ConsentArtefacts) != 2 {
		t.Errorf("HIU notify: %s", cb.Body)
	}

	// Both acknowledgements are recorded.
	w.waitFor("the on-notify acks", func() bool {
		r, _ := w.cm.ConsentRequest(reqID)
		for _, a := range w.cm.Consents(cm.ConsentFilter{ConsentRequestID: reqID}) {
			if len(a.Notices) == 0 || a.Notices[0].Ack != "OK" {
				return false
			}
		}
		return len(r.Notices) == 1 && r.Notices[0].Ack == "OK"
	})

	// Fetch the artefact for Sangam's HIP.
	id := w.sangam.MustCall(abdm.Request{Path: abdm.PathConsentFetch, HIUID: sangamHIU, Body: abdm.ConsentFetchRequest{ConsentID: n.ConsentID}})
	var fetched abdm.ConsentOnFetchRequest
	w.sangam.ResultOf(abdm.CallbackConsentOnFetch, id).Decode(t, &fetched)
	if fetched.Error != nil || fetched.Consent == nil || fetched.Consent.Status != abdm.ConsentGranted ||
		fetched.Consent.ConsentDetail.ConsentID != n.ConsentID || fetched.Consent.Signature != n.Signature ||
		!slices.Equal(fetched.Consent.ConsentDetail.HITypes, cr.HITypes) {
		t.Errorf("on-fetch: %s", mustJSON(t, fetched))
	}
	// Another HIU cannot fetch it.
	id = w.other.MustCall(abdm.Request{Path: abdm.PathConsentFetch, HIUID: otherHIU, Body: abdm.ConsentFetchRequest{ConsentID: n.ConsentID}})
	var refused abdm.ConsentOnFetchRequest
	w.other.ResultOf(abdm.CallbackConsentOnFetch, id).Decode(t, &refused)
	if refused.Error == nil || refused.Consent != nil {
		t.Errorf("fetch by another HIU: %s", mustJSON(t, refused))
	}

	id = w.sangam.MustCall(abdm.Request{Path: abdm.PathConsentRequestStatus, HIUID: sangamHIU, Body: abdm.ConsentRequestStatusRequest{ConsentRequestID: reqID}})
	var status abdm.ConsentRequestOnStatusRequest
	w.sangam.ResultOf(abdm.CallbackConsentRequestOnStatus, id).Decode(t, &status)
	if status.Error != nil || status.ConsentRequest.Status != abdm.ConsentGranted || len(status.ConsentRequest.ConsentArtefacts) != 2 {
		t.Errorf("on-status: %s", mustJSON(t, status))
	}
}

func TestApproveWithAChosenSubsetAndNarrowedDates(t *testing.T) {
	w := grantedWorld(t, nil)
	ctx := context.Background()
	reqID := w.consentInit(careRequest())
	from := time.Now().UTC().AddDate(0, -1, 0).Truncate(time.Millisecond)

	if _, err := w.cm.Approve(ctx, sunita, reqID, cm.Grant{CareContexts: []cm.GrantedCareContext{{HIPID: otherHIP, CareContextReference: "RX-1"}}}); !errors.Is(err, cm.ErrInvalid) {
		t.Errorf("granting another HIP's record on a request for Sangam's HIP: %v", err)
	}
	if _, err := w.cm.Approve(ctx, sunita, reqID, cm.Grant{CareContexts: []cm.GrantedCareContext{{HIPID: sangamHIP, CareContextReference: "NOPE"}}}); !errors.Is(err, cm.ErrInvalid) {
		t.Errorf("granting an unlinked record: %v", err)
	}
	if _, err := w.cm.Approve(ctx, sunita, reqID, cm.Grant{From: from.AddDate(-5, 0, 0)}); !errors.Is(err, cm.ErrInvalid) {
		t.Errorf("widening the date range: %v", err)
	}
	if _, err := w.cm.Approve(ctx, "meena.iyer@sbx", reqID, cm.Grant{}); !errors.Is(err, cm.ErrNotFound) {
		t.Errorf("approving someone else's request: %v", err)
	}

	got, err := w.cm.Approve(ctx, sunita, reqID, cm.Grant{
		CareContexts: []cm.GrantedCareContext{{HIPID: sangamHIP, PatientReference: "PAT-1", CareContextReference: "LAB-1"}},
		HITypes:      []abdm.HIType{abdm.HITypeDiagnosticReport}, From: from,
	})
	if err != nil {
		t.Fatal(err)
	}
	a, _ := w.cm.Consent(got.ArtefactIDs[0])
	if len(got.ArtefactIDs) != 1 || len(a.Detail.CareContexts) != 1 || a.Detail.CareContexts[0].CareContextReference != "LAB-1" ||
		!a.Detail.Permission.DateRange.From.Equal(from) || !slices.Equal(a.Detail.HITypes, []abdm.HIType{abdm.HITypeDiagnosticReport}) {
		t.Errorf("narrowed artefact: %s", mustJSON(t, a.Detail))
	}
	if _, err := w.cm.Approve(ctx, sunita, reqID, cm.Grant{}); !errors.Is(err, cm.ErrConflict) {
		t.Errorf("approving twice: %v", err)
	}
}

func TestConsentInitRefusalsComeBackInOnInit(t *testing.T) {
	w := newWorld(t, nil)
	for _, c := range []struct {
		name string
		edit func(*abdm.ConsentRequest)
		code string
	}{
		{"unknown patient", func(r *abdm.ConsentRequest) { r.Patient.ID = "nobody@sbx" }, "ABDM-1170"},
		{"another bridge's HIU", func(r *abdm.ConsentRequest) { r.HIU.ID = otherHIU }, "ABDM-1040"},
		{"unknown HIP", func(r *abdm.ConsentRequest) { r.HIP = &abdm.Party{ID: "NOPE"} }, "ABDM-1035"},
		{"future to date", func(r *abdm.ConsentRequest) { r.Permission.DateRange.To = abdm.NewTime(time.Now().Add(time.Hour)) }, "ABDM-9999"},
		{"from after to", func(r *abdm.ConsentRequest) {
			r.Permission.DateRange.From = abdm.NewTime(time.Now().Add(-time.Minute))
			r.Permission.DateRange.To = abdm.NewTime(time.Now().Add(-time.Hour))
		}, "ABDM-9999"},
		{"past erase date", func(r *abdm.ConsentRequest) { r.Permission.DataEraseAt = abdm.NewTime(time.Now().Add(-time.Hour)) }, "ABDM-9999"},
		{"unknown purpose", func(r *abdm.ConsentRequest) { r.Purpose.Code = "FUN" }, "ABDM-1006"},
		{"no HI types", func(r *abdm.ConsentRequest) { r.HITypes = nil }, "ABDM-1006"},
	} {
		cr := careRequest()
		c.edit(&cr)
		res := w.consentInitResult(cr)
		if res.Error == nil || res.Error.Code != c.code || res.ConsentRequest != nil {
			t.Errorf("%s: on-init %s; want %s", c.name, mustJSON(t, res), c.code)
		}
	}
	if n := len(w.cm.ConsentRequests(cm.ConsentFilter{})); n != 0 {
		t.Errorf("%d consent requests created by refused inits", n)
	}
}

func TestDenyRevokeAndExpireNotifyBothSides(t *testing.T) {
	w := grantedWorld(t, nil)
	ctx := context.Background()

	// Deny: the HIU hears DENIED; no HIP hears anything.
	denied := w.consentInit(careRequest())
	if _, err := w.cm.Deny(ctx, sunita, denied, "not now"); err != nil {
		t.Fatal(err)
	}
	var note abdm.HIUConsentNotifyRequest
	w.sangam.WaitFor(abdm.CallbackHIUConsentNotify, func(cb cmtest.Callback) bool { return contains(cb.Body, denied) }).Decode(t, &note)
	if note.Notification.Status != abdm.ConsentDenied || len(note.Notification.ConsentArtefacts) != 0 ||
		note.Notification.Reason == nil || *note.Notification.Reason != "not now" {
		t.Errorf("deny notify: %s", mustJSON(t, note))
	}
	if _, err := w.cm.Revoke(ctx, sunita, denied); !errors.Is(err, cm.ErrConflict) {
		t.Errorf("revoking a denied request: %v", err)
	}

	// Revoke: both sides hear REVOKED with the artefact.
	granted := w.consentInit(careRequest())
	r, err := w.cm.Approve(ctx, sunita, granted, cm.Grant{})
	if err != nil {
		t.Fatal(err)
	}
	artefact := r.ArtefactIDs[0]
	if r, err = w.cm.Revoke(ctx, sunita, granted); err != nil || r.Status != abdm.ConsentRevoked {
		t.Fatalf("Revoke: %+v %v", r, err)
	}
	var hipNote abdm.HIPConsentNotifyRequest
	w.sangam.WaitFor(abdm.CallbackHIPConsentNotify, func(cb cmtest.Callback) bool { return contains(cb.Body, `"REVOKED"`) }).Decode(t, &hipNote)
	if hipNote.Notification.ConsentID != artefact || hipNote.Notification.ConsentDetail == nil || hipNote.Notification.ConsentDetail.Patient.ID != sunita {
		t.Errorf("HIP revoke notify: %s", mustJSON(t, hipNote))
	}
	w.sangam.WaitFor(abdm.CallbackHIUConsentNotify, func(cb cmtest.Callback) bool {
		return contains(cb.Body, `"REVOKED"`) && contains(cb.Body, artefact)
	})
	if a, _ := w.cm.Consent(artefact); a.Status != abdm.ConsentRevoked {
		t.Errorf("artefact after revoke: %s", a.Status)
	}

	// Expire a pending request through the control API's Go twin.
	pending := w.consentInit(careRequest())
	if r, err := w.cm.Expire(ctx, pending); err != nil || r.Status != abdm.ConsentExpired {
		t.Fatalf("Expire pending: %+v %v", r, err)
	}
	w.sangam.WaitFor(abdm.CallbackHIUConsentNotify, func(cb cmtest.Callback) bool {
		return contains(cb.Body, pending) && contains(cb.Body, `"EXPIRED"`)
	})
	if _, err := w.cm.Approve(ctx, sunita, pending, cm.Grant{}); !errors.Is(err, cm.ErrConflict) {
		t.Errorf("approving an expired request: %v", err)
	}
}

func TestExpiryIsAppliedWhenDue(t *testing.T) {
	w := grantedWorld(t, func(c *cm.Config) { c.ConsentRequestTTL = time.Hour })
	ctx := context.Background()
	pending := w.consentInit(careRequest())
	cr := careRequest()
	cr.Permission.DataEraseAt = abdm.NewTime(time.Now().Add(3 * time.Hour))
	granted := w.consentInit(cr)
	r, err := w.cm.Approve(ctx, sunita, granted, cm.Grant{})
	if err != nil {
		t.Fatal(err)
	}

	w.clock.Advance(2 * time.Hour) // past the request TTL, not past dataEraseAt
	w.cm.ExpireDue(ctx)
	if p, _ := w.cm.ConsentRequest(pending); p.Status != abdm.ConsentExpired {
		t.Errorf("pending request after its TTL: %s", p.Status)
	}
	if g, _ := w.cm.ConsentRequest(granted); g.Status != abdm.ConsentGranted {
		t.Errorf("granted request before dataEraseAt: %s", g.Status)
	}
	w.clock.Advance(2 * time.Hour)
	w.cm.ExpireDue(ctx)
	if a, _ := w.cm.Consent(r.ArtefactIDs[0]); a.Status != abdm.ConsentExpired {
		t.Errorf("artefact after dataEraseAt: %s", a.Status)
	}
	w.sangam.WaitFor(abdm.CallbackHIPConsentNotify, func(cb cmtest.Callback) bool { return contains(cb.Body, `"EXPIRED"`) })
	w.sangam.WaitFor(abdm.CallbackHIUConsentNotify, func(cb cmtest.Callback) bool {
		return contains(cb.Body, `"EXPIRED"`) && contains(cb.Body, r.ArtefactIDs[0])
	})
}

func contains(body []byte, s string) bool { return strings.Contains(string(body), s) }
