package remote_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/sangamhealth/sangam/abdm"
	"github.com/sangamhealth/sangam/abdm/fidelius"
	"github.com/sangamhealth/sangam/e2e/sandbox/cm"
	"github.com/sangamhealth/sangam/e2e/sandbox/cm/cmtest"
	"github.com/sangamhealth/sangam/e2e/sandbox/remote"
)

// sangamBundles are what the fake Sangam HIP serves, byte for byte
// (including the odd spacing, which a re-encoding would lose).
var sangamBundles = map[string][]byte{
	"VISIT-1": []byte("{\"resourceType\": \"Bundle\", \"id\": \"visit-1\",\n  \"type\": \"document\"}"),
	"LAB-1":   []byte("{\"resourceType\":\"Bundle\",\"id\":\"lab-1\",  \"type\":\"document\", \"note\":\"<&>\"}"),
}

// actAsPushingHIP makes the fake Sangam bridge serve HI requests the way
// Sangam's HIP must: acknowledge, encrypt each consented bundle for the
// HIU with a fresh key pair per page, push to dataPushUrl, notify.
func actAsPushingHIP(t *testing.T, b *cmtest.Bridge) {
	b.On(abdm.CallbackHIPHealthInformationRequest, func(ctx context.Context, cb cmtest.Callback) {
		var req struct {
			TransactionID string `json:"transactionId"`
			HIRequest     struct {
				Consent     abdm.Ref             `json:"consent"`
				DataPushURL string               `json:"dataPushUrl"`
				KeyMaterial fidelius.KeyMaterial `json:"keyMaterial"`
			} `json:"hiRequest"`
		}
		cb.Decode(t, &req)
		if _, err := b.Call(ctx, abdm.Request{Path: abdm.PathHIPHealthInformationOnRequest, HIPID: cmtest.SangamHIP, Body: abdm.HealthInformationOnRequest{
			HIRequest: &abdm.HIRequestAck{TransactionID: req.TransactionID, SessionStatus: abdm.SessionAcknowledged},
			Response:  abdm.ResponseRef{RequestID: cb.RequestID},
		}}); err != nil {
			t.Errorf("on-request: %v", err)
			return
		}
		hiuKey, hiuNonce, err := req.HIRequest.KeyMaterial.Parse()
		if err != nil {
			t.Errorf("HIU key material: %v", err)
			return
		}
		refs := []string{"VISIT-1", "LAB-1"}
		var statuses []abdm.CareContextStatus
		for i, ref := range refs {
			key, _ := fidelius.GenerateKey()
			nonce := fidelius.NewNonce()
			content, err := fidelius.Encrypt(key, hiuKey, nonce, hiuNonce, sangamBundles[ref])
			if err != nil {
				t.Errorf("encrypt: %v", err)
				return
			}
			page := map[string]any{
				"pageNumber": i + 1, "pageCount": len(refs), "transactionId": req.TransactionID,
				"entries":     []abdm.DataEntry{{Content: content, Media: abdm.MediaFHIRJSON, Checksum: "", CareContextReference: ref}},
				"keyMaterial": fidelius.NewKeyMaterial(key.PublicKey().X509(), nonce, time.Now().Add(time.Hour)),
			}
			raw, _ := json.Marshal(page)
			resp, err := http.Post(req.HIRequest.DataPushURL, "application/json", bytes.NewReader(raw))
			if err != nil {
				t.Errorf("push: %v", err)
				return
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusAccepted {
				t.Errorf("push answered %d %s", resp.StatusCode, body)
			}
			statuses = append(statuses, abdm.CareContextStatus{CareContextReference: ref, HIStatus: abdm.HIStatusDelivered})
		}
		_, _ = b.Call(ctx, abdm.Request{Path: abdm.PathHealthInformationNotify, HIPID: cmtest.SangamHIP, Body: abdm.HealthInformationNotifyRequest{
			Notification: abdm.HealthInformationNotification{ConsentID: req.HIRequest.Consent.ID, TransactionID: req.TransactionID,
				DoneAt: abdm.NewTime(time.Now()), Notifier: abdm.Notifier{Type: abdm.RoleHIP, ID: cmtest.SangamHIP},
				StatusNotification: abdm.StatusNotification{SessionStatus: abdm.SessionTransferred, HIPID: cmtest.SangamHIP, StatusResponses: statuses}},
		}})
	})
}

func TestRemoteHIUReceivesAndDecryptsSangamsPushes(t *testing.T) {
	e := start(t, "") // the remote HIP plays no part here
	w := e.w
	w.Sangam.ActAsHIP(&cmtest.HIP{HIPID: cmtest.SangamHIP})
	actAsPushingHIP(t, w.Sangam)
	ctx := context.Background()

	// Sangam's HIP links two records for Sunita.
	id := w.Sangam.MustCall(abdm.Request{Path: abdm.PathGenerateToken, HIPID: cmtest.SangamHIP, Body: abdm.GenerateTokenRequest{
		ABHAAddress: sunita, Name: "Sunita Rao", Gender: "F", YearOfBirth: 1978}})
	var tok abdm.OnGenerateTokenRequest
	w.Sangam.ResultOf(abdm.CallbackOnGenerateToken, id).Decode(t, &tok)
	id = w.Sangam.MustCall(abdm.Request{Path: abdm.PathLinkCareContext, HIPID: cmtest.SangamHIP, LinkToken: tok.LinkToken,
		Body: abdm.LinkCareContextRequest{ABHAAddress: sunita, Patient: []abdm.PatientCareContexts{
			abdm.NewPatientCareContexts("PAT-1", "Sunita Rao", abdm.HITypeOPConsultation, abdm.CareContext{ReferenceNumber: "VISIT-1"}),
			abdm.NewPatientCareContexts("PAT-1", "Sunita Rao", abdm.HITypeDiagnosticReport, abdm.CareContext{ReferenceNumber: "LAB-1"}),
		}}})
	var linked abdm.OnCareContextRequest
	w.Sangam.ResultOf(abdm.CallbackOnCareContext, id).Decode(t, &linked)
	if linked.Error != nil {
		t.Fatal(linked.Error)
	}

	// The other hospital asks for consent over its control API.
	in := remote.ConsentInput{ABHAAddress: sunita, HIPID: cmtest.SangamHIP, HITypes: []abdm.HIType{abdm.HITypeOPConsultation, abdm.HITypeDiagnosticReport}}
	raw, _ := json.Marshal(in)
	resp, err := http.Post(w.URL+remote.Prefix+"/hiu/consent-requests?wait=5s", "application/json", bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	var cr remote.ConsentRequest
	_ = json.NewDecoder(resp.Body).Decode(&cr)
	resp.Body.Close()
	if resp.StatusCode != 200 || cr.Status != string(abdm.ConsentRequested) || cr.ID == "" {
		t.Fatalf("remote consent request: %d %+v", resp.StatusCode, cr)
	}
	pending := w.CM.ConsentRequests(cm.ConsentFilter{ABHAAddress: sunita, Status: abdm.ConsentRequested})
	if len(pending) != 1 || pending[0].HIUID != e.hospital.HIUID() {
		t.Fatalf("the patient does not see the remote request: %+v", pending)
	}
	granted, err := w.CM.Approve(ctx, sunita, cr.ID, cm.Grant{})
	if err != nil {
		t.Fatal(err)
	}
	artefact := granted.ArtefactIDs[0]

	// The remote HIU fetches, requests, receives, decrypts and notifies on
	// its own.
	e.waitRemote("the decrypted data", func() bool {
		drs := e.hospital.DataRequests()
		return len(drs) == 1 && drs[0].Notified != ""
	})
	dr := e.hospital.DataRequests()[0]
	if dr.Status != "received" || dr.Notified != abdm.SessionReceived || dr.ConsentID != artefact || dr.HIPID != cmtest.SangamHIP || len(dr.Pages) != 2 {
		t.Fatalf("data request: %+v", dr)
	}
	for ref, want := range sangamBundles {
		got := e.hospital.Received(remote.ReceivedFilter{ConsentID: artefact, CareContextReference: ref})
		if len(got) != 1 || got[0].Error != "" || !bytes.Equal(got[0].Data, want) || got[0].TransactionID != dr.TransactionID {
			t.Errorf("received %s: %+v", ref, got)
		}
	}
	// The consent manager recorded both sides' notifies.
	w.WaitFor("the HIU notify", func() bool {
		tr, _ := w.CM.Transfer(dr.TransactionID)
		return len(tr.Notices) == 2
	})
	tr, _ := w.CM.Transfer(dr.TransactionID)
	var hiu *cm.TransferNotice
	for i := range tr.Notices {
		if tr.Notices[i].NotifierType == "HIU" {
			hiu = &tr.Notices[i]
		}
	}
	if hiu == nil || hiu.NotifierID != e.hospital.HIUID() || hiu.SessionStatus != abdm.SessionReceived || len(hiu.Statuses) != 2 || hiu.Statuses[0].HIStatus != abdm.HIStatusOK {
		t.Errorf("transfer notices: %+v", tr.Notices)
	}

	// Inspectable over HTTP: the bundle as JSON, per care context.
	resp, err = http.Get(w.URL + remote.Prefix + "/hiu/received?care_context_reference=LAB-1")
	if err != nil {
		t.Fatal(err)
	}
	var listed struct {
		Received []remote.Received `json:"received"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&listed)
	resp.Body.Close()
	if len(listed.Received) != 1 || !bytes.Contains(listed.Received[0].Bundle, []byte(`"lab-1"`)) || listed.Received[0].SHA256 == "" {
		t.Errorf("received over HTTP: %+v", listed)
	}

	// Revoking makes the remote HIU purge what it received.
	if _, err := w.CM.Revoke(ctx, sunita, artefact); err != nil {
		t.Fatal(err)
	}
	e.waitRemote("the purge", func() bool { return len(e.hospital.Received(remote.ReceivedFilter{})) == 0 })
	if a := e.hospital.Artefacts(); len(a) != 1 || a[0].Status != abdm.ConsentRevoked || !a[0].Purged {
		t.Errorf("artefact after revoke: %+v", a)
	}
}

func TestRemoteHIUPushURLRefusesStrangers(t *testing.T) {
	e := start(t, "")
	resp, err := http.Post(e.w.URL+remote.Prefix+"/hiu/push/not-a-key", "application/json", bytes.NewReader([]byte(`{}`)))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("push to an unknown key: %d", resp.StatusCode)
	}
	// The bridge refuses callbacks without the gateway's JWT.
	resp, err = http.Post(e.w.URL+remote.Prefix+"/bridge/api/v3/hip/patient/share", "application/json", bytes.NewReader([]byte(`{}`)))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("unsigned callback: %d", resp.StatusCode)
	}
}
