package cm_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/sangamhealth/sangam/abdm"
	"github.com/sangamhealth/sangam/abdm/fidelius"
	"github.com/sangamhealth/sangam/e2e/sandbox/cm"
	"github.com/sangamhealth/sangam/e2e/sandbox/cm/cmtest"
	"github.com/sangamhealth/sangam/e2e/sandbox/gateway"
)

// hiRequest asks for data as Sangam's HIU and returns on-request.
func (w *world) hiRequest(consentID string, dr abdm.DateRange, km fidelius.KeyMaterial) abdm.HealthInformationOnRequest {
	w.t.Helper()
	body := map[string]any{"hiRequest": map[string]any{
		"consent": abdm.Ref{ID: consentID}, "dateRange": dr, "keyMaterial": km,
		"dataPushUrl": "https://sangam.example/bridge/acme/api/v3/hiu/data/push/" + consentID,
	}}
	id := w.sangam.MustCall(abdm.Request{Path: abdm.PathHealthInformationRequest, HIUID: sangamHIU, Body: body})
	var res abdm.HealthInformationOnRequest
	w.sangam.ResultOf(abdm.CallbackHIUHealthInformationOnRequest, id).Decode(w.t, &res)
	return res
}

func TestHealthInformationRequestReachesTheHIPWithTheHIUsKeyMaterial(t *testing.T) {
	w := grantedWorld(t, nil)
	ctx := context.Background()
	r, err := w.cm.Approve(ctx, sunita, w.consentInit(careRequest()), cm.Grant{})
	if err != nil {
		t.Fatal(err)
	}
	a, _ := w.cm.Consent(r.ArtefactIDs[0])
	key, err := fidelius.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	km := fidelius.NewKeyMaterial(key.PublicKey().Raw(), fidelius.NewNonce(), time.Now().Add(time.Hour))
	granted := a.Detail.Permission.DateRange

	res := w.hiRequest(a.ID, granted, km)
	if res.Error != nil || res.HIRequest == nil || res.HIRequest.SessionStatus != abdm.SessionRequested || res.HIRequest.TransactionID == "" {
		t.Fatalf("HIU on-request: %s", mustJSON(t, res))
	}
	txn := res.HIRequest.TransactionID

	cb := w.sangam.WaitFor(abdm.CallbackHIPHealthInformationRequest, nil)
	var hipReq abdm.HIPHealthInformationRequest
	cb.Decode(t, &hipReq)
	var raw struct {
		HIRequest struct {
			KeyMaterial fidelius.KeyMaterial `json:"keyMaterial"`
		} `json:"hiRequest"`
	}
	cb.Decode(t, &raw)
	if cb.HIPID != sangamHIP || hipReq.TransactionID != txn || hipReq.RequestID != "" || hipReq.HIRequest.Consent.ID != a.ID ||
		hipReq.HIRequest.DataPushURL != "https://sangam.example/bridge/acme/api/v3/hiu/data/push/"+a.ID || raw.HIRequest.KeyMaterial != km {
		t.Fatalf("HIP HI request: %s", cb.Body)
	}
	// The key material the HIP got is usable: the HIU's public key and nonce.
	pub, nonce, err := raw.HIRequest.KeyMaterial.Parse()
	if err != nil || !pub.Equal(key.PublicKey()) || nonce.String() != km.Nonce {
		t.Errorf("HIP key material does not parse back to the HIU's key: %v", err)
	}

	w.waitFor("the HIP's on-request", func() bool { tr, _ := w.cm.Transfer(txn); return tr.HIPAck != "" && tr.HIPDelivery != "pending" })

	// The HIP notifies after its push; a second identical notify is refused.
	notify := abdm.HealthInformationNotifyRequest{Notification: abdm.HealthInformationNotification{
		ConsentID: a.ID, TransactionID: txn, DoneAt: abdm.NewTime(time.Now()),
		Notifier: abdm.Notifier{Type: abdm.RoleHIP, ID: sangamHIP},
		StatusNotification: abdm.StatusNotification{SessionStatus: abdm.SessionTransferred, HIPID: sangamHIP,
			StatusResponses: []abdm.CareContextStatus{{CareContextReference: "VISIT-1", HIStatus: abdm.HIStatusDelivered}}},
	}}
	resp, err := w.sangam.Call(ctx, abdm.Request{Path: abdm.PathHealthInformationNotify, HIPID: sangamHIP, Body: notify})
	if err != nil || resp.StatusCode != http.StatusAccepted || !contains(resp.Body, abdm.NotifyAcceptedOK) {
		t.Fatalf("HIP notify: %v %+v", err, resp)
	}
	_, err = w.sangam.Call(ctx, abdm.Request{Path: abdm.PathHealthInformationNotify, HIPID: sangamHIP, Body: notify})
	if status, code := gatewayCode(t, err); status != http.StatusBadRequest || code != "ABDM-1101" {
		t.Errorf("second HIP notify: %d %s; want 400 ABDM-1101", status, code)
	}
	// The HIU's own notify for the same transaction is a different notifier.
	notify.Notification.Notifier = abdm.Notifier{Type: abdm.RoleHIU, ID: sangamHIU}
	notify.Notification.StatusNotification.SessionStatus = abdm.SessionReceived
	if _, err := w.sangam.Call(ctx, abdm.Request{Path: abdm.PathHealthInformationNotify, HIUID: sangamHIU, Body: notify}); err != nil {
		t.Fatalf("HIU notify: %v", err)
	}
	w.waitFor("both notifies", func() bool { tr, _ := w.cm.Transfer(txn); return len(tr.Notices) == 2 })
	tr, _ := w.cm.Transfer(txn)
	if tr.HIPAck != abdm.SessionAcknowledged || tr.Notices[0].NotifierType != "HIP" || tr.Notices[0].SessionStatus != "TRANSFERRED" ||
		tr.Notices[0].Statuses[0].HIStatus != "DELIVERED" || tr.Notices[1].NotifierType != "HIU" || tr.HIPDelivery != "delivered" {
		t.Errorf("transfer record: %s", mustJSON(t, tr))
	}

	// The same key material again is a duplicate request.
	if dup := w.hiRequest(a.ID, granted, km); dup.Error == nil || dup.Error.Code != "ABDM-1101" {
		t.Errorf("repeated HI request: %s", mustJSON(t, dup))
	}
}

func TestHealthInformationRequestRefusals(t *testing.T) {
	w := grantedWorld(t, nil)
	ctx := context.Background()
	r, err := w.cm.Approve(ctx, sunita, w.consentInit(careRequest()), cm.Grant{From: time.Now().AddDate(0, -1, 0)})
	if err != nil {
		t.Fatal(err)
	}
	a, _ := w.cm.Consent(r.ArtefactIDs[0])
	key, _ := fidelius.GenerateKey()
	fresh := func() fidelius.KeyMaterial {
		return fidelius.NewKeyMaterial(key.PublicKey().Raw(), fidelius.NewNonce(), time.Now().Add(time.Hour))
	}
	// The request's range, wider than what the patient granted: ABDM-1063.
	asked := careRequest().Permission.DateRange
	if res := w.hiRequest(a.ID, asked, fresh()); res.Error == nil || res.Error.Code != "ABDM-1063" {
		t.Errorf("range wider than the artefact: %s", mustJSON(t, res))
	}
	if res := w.hiRequest("no-such-consent", a.Detail.Permission.DateRange, fresh()); res.Error == nil || res.Error.Code != "ABDM-1112" {
		t.Errorf("unknown consent: %s", mustJSON(t, res))
	}
	bad := fresh()
	bad.DHPublicKey.KeyValue = "bm90IGEga2V5"
	if res := w.hiRequest(a.ID, a.Detail.Permission.DateRange, bad); res.Error == nil || res.Error.Code != "ABDM-1006" {
		t.Errorf("bad key: %s", mustJSON(t, res))
	}
	if _, err := w.cm.Revoke(ctx, sunita, a.ID); err != nil {
		t.Fatal(err)
	}
	if res := w.hiRequest(a.ID, a.Detail.Permission.DateRange, fresh()); res.Error == nil || res.Error.Code != "ABDM-1112" {
		t.Errorf("revoked consent: %s", mustJSON(t, res))
	}
	if n := len(w.sangam.Received(abdm.CallbackHIPHealthInformationRequest)); n != 0 {
		t.Errorf("refused requests reached the HIP %d times", n)
	}
	if n := len(w.cm.Transfers("")); n != 0 {
		t.Errorf("%d transfers recorded for refused requests", n)
	}
}

// The gateway's fault knobs apply to the consent manager's deliveries.
func TestDeliveryFaultsApplyToConsentManagerCallbacks(t *testing.T) {
	w := newWorld(t, nil)
	w.sangam.ActAsHIP(&cmtest.HIP{HIPID: sangamHIP, ABHAAddress: sunita, TokenNumber: "3"})
	if err := w.gw.SetFaults(sangamClient, faults(`{"paths":["/api/v3/hip/patient/share"],"drop_deliveries":1}`)); err != nil {
		t.Fatal(err)
	}
	s, err := w.cm.Share(context.Background(), sunita, sangamHIP, "C1")
	if err != nil {
		t.Fatal(err)
	}
	if s.Delivery != "dropped" || s.Status != cm.ShareFailed || len(w.sangam.Received("")) != 0 {
		t.Errorf("dropped share: %+v", s)
	}
	if s, _ := w.cm.Share(context.Background(), sunita, sangamHIP, "C1"); s.Delivery != "delivered" {
		t.Errorf("next share: %+v", s)
	}
}

func faults(s string) (f gateway.Faults) {
	if err := json.Unmarshal([]byte(s), &f); err != nil {
		panic(err)
	}
	return f
}
