package phr_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/sangamhealth/sangam/abdm"
	"github.com/sangamhealth/sangam/e2e/sandbox/cm"
	"github.com/sangamhealth/sangam/e2e/sandbox/cm/cmtest"
	"github.com/sangamhealth/sangam/e2e/sandbox/phr"
)

const sunita = "sunita.rao@sbx"

type env struct {
	t     *testing.T
	w     *cmtest.World
	app   *phr.App
	inbox *phr.Inbox
}

func start(t *testing.T) *env {
	t.Helper()
	e := &env{t: t, inbox: phr.NewInbox(nil)}
	e.w = cmtest.NewWorld(t, cmtest.WorldConfig{
		CM: func(c *cm.Config) {
			c.SMS = e.inbox
			c.Patients = []cm.Patient{{ABHAAddress: "walk.in@sbx", Name: "Walk In", Gender: "M", YearOfBirth: 1990, Mobile: "9000000777"}}
		},
		Mount: func(w *cmtest.World, mux *http.ServeMux) {
			app, err := phr.New(phr.Config{CM: w.CM, Inbox: e.inbox})
			if err != nil {
				t.Fatalf("phr.New: %v", err)
			}
			e.app = app
			mux.Handle(phr.Prefix+"/", app)
		},
	})
	return e
}

// do sends a JSON request to the app and decodes the answer into out.
func (e *env) do(method, path string, body any, out any) int {
	e.t.Helper()
	var rd io.Reader
	if body != nil {
		raw, _ := json.Marshal(body)
		rd = bytes.NewReader(raw)
	}
	req, _ := http.NewRequest(method, e.w.URL+path, rd)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if out != nil && len(raw) > 0 {
		if err := json.Unmarshal(raw, out); err != nil {
			e.t.Fatalf("%s %s: decoding %s: %v", method, path, raw, err)
		}
	}
	return resp.StatusCode
}

// form posts an HTML form without following the redirect.
func (e *env) form(path string, v url.Values) *http.Response {
	e.t.Helper()
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.PostForm(e.w.URL+path, v)
	if err != nil {
		e.t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

func (e *env) page(query string) string {
	e.t.Helper()
	resp, err := http.Get(e.w.URL + phr.Prefix + "/?" + query)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		e.t.Fatalf("page: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	return string(b)
}

const base = phr.Prefix + "/patients/" + sunita

func TestPatientsComeFromTheABHASandboxAndConfig(t *testing.T) {
	e := start(t)
	var got struct {
		Patients []cm.Patient  `json:"patients"`
		HIPs     []cm.Facility `json:"hips"`
	}
	if s := e.do("GET", phr.Prefix+"/patients", nil, &got); s != 200 {
		t.Fatalf("patients: %d", s)
	}
	addrs := map[string]bool{}
	for _, p := range got.Patients {
		addrs[p.ABHAAddress] = true
	}
	if !addrs[sunita] || !addrs["meena.iyer@sbx"] || !addrs["walk.in@sbx"] || len(got.HIPs) != 2 {
		t.Errorf("patients %v, hips %+v", addrs, got.HIPs)
	}
	if s := e.do("GET", phr.Prefix+"/patients/nobody@sbx", nil, nil); s != 404 {
		t.Errorf("unknown patient: %d", s)
	}
	if s := e.do("POST", phr.Prefix+"/patients/nobody@sbx/share", map[string]string{"hip_id": cmtest.SangamHIP, "counter_id": "A1"}, nil); s != 404 {
		t.Errorf("share as an unknown patient: %d", s)
	}
}

func TestShareOverJSONWaitsForTheToken(t *testing.T) {
	e := start(t)
	e.w.Sangam.ActAsHIP(&cmtest.HIP{HIPID: cmtest.SangamHIP, ABHAAddress: sunita, TokenNumber: "42"})
	var s cm.Share
	qr := cm.ShareQR(cmtest.SangamHIP, "OPD2")
	if st := e.do("POST", base+"/share?wait=5s", map[string]string{"qr": qr}, &s); st != 200 {
		t.Fatalf("share: %d", st)
	}
	if s.Status != cm.ShareToken || s.TokenNumber != "42" || s.CounterID != "OPD2" {
		t.Errorf("share answer: %+v", s)
	}
	var errBody map[string]string
	if st := e.do("POST", base+"/share", map[string]string{"hip_id": cmtest.SangamHIP, "counter_id": "bad counter!"}, &errBody); st != 400 || errBody["error"] == "" {
		t.Errorf("bad counter: %d %v", st, errBody)
	}
	if st := e.do("POST", base+"/share", map[string]string{"hip": "typo"}, nil); st != 400 {
		t.Errorf("unknown field: %d", st)
	}
	if st := e.do("POST", base+"/share?wait=1h", map[string]string{"qr": qr}, nil); st != 400 {
		t.Errorf("wait too long: %d", st)
	}
}

func TestDiscoverLinkAndConsentOverJSON(t *testing.T) {
	e := start(t)
	hip := &cmtest.HIP{
		HIPID: cmtest.SangamHIP, ABHAAddress: sunita, PatientRef: "PAT-1", PatientDisplay: "Sunita Rao", OTP: "135790",
		CareContexts: []cmtest.CareContext{{Reference: "VISIT-1", Display: "OPD 1", HIType: abdm.HITypeOPConsultation}},
	}
	e.w.Sangam.ActAsHIP(hip)
	e.w.Sangam.ActAsHIU(cmtest.SangamHIU)

	var d cm.Discovery
	if st := e.do("POST", base+"/discover?wait=5s", map[string]any{"hip_id": cmtest.SangamHIP,
		"identifiers": []abdm.Identifier{{Type: abdm.IdentifierMR, Value: "PAT-1"}}}, &d); st != 200 {
		t.Fatalf("discover: %d", st)
	}
	if d.Status != cm.DiscoveryDone || len(d.CareContexts) != 1 {
		t.Fatalf("discovery: %+v", d)
	}
	if st := e.do("POST", base+"/discoveries/"+d.TransactionID+"/link?wait=5s", map[string]any{}, &d); st != 200 || d.Link.Status != cm.LinkAwaitingOTP {
		t.Fatalf("link: %d %+v", st, d.Link)
	}
	if st := e.do("POST", base+"/discoveries/"+d.TransactionID+"/link", map[string]any{}, nil); st != 409 {
		t.Errorf("second link init: %d; want 409", st)
	}
	// The HIP texts the OTP through the sandbox's SMS gateway.
	if st := e.do("POST", phr.Prefix+"/sms", map[string]string{"phone": "+91 90000 00003", "from": "SANGAM", "text": "OTP 135790"}, nil); st != 202 {
		t.Fatalf("sms: %d", st)
	}
	var msgs struct {
		Messages []phr.SMS `json:"messages"`
	}
	e.do("GET", base+"/sms", nil, &msgs)
	if len(msgs.Messages) != 1 || msgs.Messages[0].Text != "OTP 135790" || msgs.Messages[0].Phone != "9000000003" {
		t.Fatalf("patient's messages: %+v", msgs)
	}
	if st := e.do("POST", base+"/discoveries/"+d.TransactionID+"/confirm?wait=5s", map[string]string{"otp": "135790"}, &d); st != 200 || d.Link.Status != cm.LinkLinked {
		t.Fatalf("confirm: %d %+v", st, d.Link)
	}
	var links struct {
		Links []cm.LinkedCareContext `json:"links"`
	}
	e.do("GET", base+"/links", nil, &links)
	if len(links.Links) != 1 || links.Links[0].CareContextReference != "VISIT-1" {
		t.Fatalf("links: %+v", links)
	}

	// Sangam's HIU asks for consent; the patient sees it and approves.
	purpose, _ := abdm.PurposeOf(abdm.PurposeCareManagement)
	cr := consentRequest(purpose)
	id := e.w.Sangam.MustCall(abdm.Request{Path: abdm.PathConsentRequestInit, HIUID: cmtest.SangamHIU, Body: abdm.ConsentRequestInitRequest{Consent: cr}})
	var onInit abdm.ConsentRequestOnInitRequest
	e.w.Sangam.ResultOf(abdm.CallbackConsentRequestOnInit, id).Decode(t, &onInit)
	var pending struct {
		Requests []cm.ConsentRequest `json:"consent_requests"`
	}
	e.do("GET", base+"/consent-requests?status=REQUESTED", nil, &pending)
	if len(pending.Requests) != 1 || pending.Requests[0].ID != onInit.ConsentRequest.ID {
		t.Fatalf("pending: %+v", pending)
	}
	var approved cm.ConsentRequest
	grant := map[string]any{"care_contexts": []map[string]string{{"hip_id": cmtest.SangamHIP, "care_context_reference": "VISIT-1"}}}
	if st := e.do("POST", base+"/consent-requests/"+onInit.ConsentRequest.ID+"/approve", grant, &approved); st != 200 || approved.Status != abdm.ConsentGranted {
		t.Fatalf("approve: %d %+v", st, approved)
	}
	e.w.Sangam.WaitFor(abdm.CallbackHIPConsentNotify, nil)
	e.w.Sangam.WaitFor(abdm.CallbackHIUConsentNotify, nil)

	var revoked cm.ConsentRequest
	if st := e.do("POST", base+"/consents/"+approved.ArtefactIDs[0]+"/revoke", nil, &revoked); st != 200 || revoked.Status != abdm.ConsentRevoked {
		t.Fatalf("revoke: %d %+v", st, revoked)
	}
	var ov phr.Overview
	e.do("GET", base, nil, &ov)
	if len(ov.Consents) != 1 || ov.Consents[0].Status != abdm.ConsentRevoked || len(ov.Links) != 1 || len(ov.Discoveries) != 1 {
		t.Errorf("overview: %+v", ov)
	}
}

func TestThePageDrivesTheFlowsWithPlainForms(t *testing.T) {
	e := start(t)
	e.w.Sangam.ActAsHIP(&cmtest.HIP{
		HIPID: cmtest.SangamHIP, ABHAAddress: sunita, PatientRef: "PAT-1", OTP: "246810", TokenNumber: "9",
		CareContexts: []cmtest.CareContext{{Reference: "VISIT-1", Display: "OPD 1", HIType: abdm.HITypeOPConsultation}},
	})
	e.w.Sangam.ActAsHIU(cmtest.SangamHIU)

	if p := e.page(""); !strings.Contains(p, "Sunita Rao (sunita.rao@sbx)") || strings.Contains(p, "Scan a counter QR") {
		t.Errorf("start page: patient picker missing or patient shown before choosing")
	}
	resp := e.form(base+"/share", url.Values{"hip_id": {cmtest.SangamHIP}, "counter_id": {"OPD1"}})
	if resp.StatusCode != http.StatusSeeOther || !strings.Contains(resp.Header.Get("Location"), "patient=sunita.rao%40sbx") {
		t.Fatalf("share form: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	p := e.page("patient=" + sunita)
	if !strings.Contains(p, "<strong>9</strong>") {
		t.Errorf("page does not show the queue token 9")
	}

	e.form(base+"/discover", url.Values{"hip_id": {cmtest.SangamHIP}})
	d := e.w.CM.Discoveries(sunita)[0]
	if !strings.Contains(e.page("patient="+sunita), `value="PAT-1|VISIT-1"`) {
		t.Fatalf("page does not offer VISIT-1 for linking (discovery %s)", d.Status)
	}
	e.form(base+"/discoveries/"+d.TransactionID+"/link", url.Values{"cc": {"PAT-1|VISIT-1"}})
	if !strings.Contains(e.page("patient="+sunita), `name="otp"`) {
		t.Fatal("page does not ask for the OTP")
	}
	resp = e.form(base+"/discoveries/"+d.TransactionID+"/confirm", url.Values{"otp": {"246810"}})
	if loc := resp.Header.Get("Location"); strings.Contains(loc, "error=") {
		t.Fatalf("confirm form: %s", loc)
	}
	if links := e.w.CM.Links(sunita, ""); len(links) != 1 {
		t.Fatalf("links after the confirm form: %+v", links)
	}

	purpose, _ := abdm.PurposeOf(abdm.PurposeCareManagement)
	e.w.Sangam.MustCall(abdm.Request{Path: abdm.PathConsentRequestInit, HIUID: cmtest.SangamHIU, Body: abdm.ConsentRequestInitRequest{Consent: consentRequest(purpose)}})
	e.w.WaitFor("the consent request", func() bool { return len(e.w.CM.ConsentRequests(cm.ConsentFilter{ABHAAddress: sunita})) == 1 })
	cr := e.w.CM.ConsentRequests(cm.ConsentFilter{ABHAAddress: sunita})[0]
	p = e.page("patient=" + sunita)
	if !strings.Contains(p, "Sangam Records") || !strings.Contains(p, cmtest.SangamHIP+"|PAT-1|VISIT-1") {
		t.Fatal("page does not show the consent request with the linked record")
	}
	// No record chosen: refused with a message, nothing granted.
	resp = e.form(base+"/consent-requests/"+cr.ID+"/approve", url.Values{})
	if !strings.Contains(resp.Header.Get("Location"), "error=") {
		t.Errorf("approve without records: %s", resp.Header.Get("Location"))
	}
	e.form(base+"/consent-requests/"+cr.ID+"/approve", url.Values{"cc": {cmtest.SangamHIP + "|PAT-1|VISIT-1"}})
	if got, _ := e.w.CM.ConsentRequest(cr.ID); got.Status != abdm.ConsentGranted {
		t.Fatalf("after the approve form: %s", got.Status)
	}
	if !strings.Contains(e.page("patient="+sunita), "Revoke") {
		t.Error("page offers no revoke for the granted consent")
	}
}

func consentRequest(purpose abdm.Purpose) abdm.ConsentRequest {
	return abdm.ConsentRequest{
		Purpose: purpose, Patient: abdm.Ref{ID: sunita}, HIU: abdm.Party{ID: cmtest.SangamHIU},
		Requester: abdm.Requester{Name: "Dr. Rao"}, HITypes: []abdm.HIType{abdm.HITypeOPConsultation},
		Permission: abdm.Permission{
			AccessMode:  abdm.AccessView,
			DateRange:   abdm.DateRange{From: abdm.NewTime(nowUTC().AddDate(-2, 0, 0)), To: abdm.NewTime(nowUTC())},
			DataEraseAt: abdm.NewTime(nowUTC().AddDate(0, 0, 30)),
			Frequency:   abdm.Frequency{Unit: abdm.FrequencyHour, Value: 1},
		},
	}
}

func nowUTC() time.Time { return time.Now().UTC() }

// Care contexts an HIP links with a link token show up in the app.
func TestHIPInitiatedLinksShowInTheApp(t *testing.T) {
	e := start(t)
	b := e.w.Sangam
	id := b.MustCall(abdm.Request{Path: abdm.PathGenerateToken, HIPID: cmtest.SangamHIP, Body: abdm.GenerateTokenRequest{
		ABHAAddress: sunita, Name: "Sunita Rao", Gender: "F", YearOfBirth: 1978}})
	var tok abdm.OnGenerateTokenRequest
	b.ResultOf(abdm.CallbackOnGenerateToken, id).Decode(t, &tok)
	id = b.MustCall(abdm.Request{Path: abdm.PathLinkCareContext, HIPID: cmtest.SangamHIP, LinkToken: tok.LinkToken,
		Body: abdm.LinkCareContextRequest{ABHAAddress: sunita, Patient: []abdm.PatientCareContexts{
			abdm.NewPatientCareContexts("PAT-9", "Sunita Rao", abdm.HITypeDischargeSummary, abdm.CareContext{ReferenceNumber: "IPD-9", Display: "Admission 9"})}}})
	var res abdm.OnCareContextRequest
	b.ResultOf(abdm.CallbackOnCareContext, id).Decode(t, &res)
	if res.Error != nil {
		t.Fatal(res.Error)
	}
	var links struct {
		Links []cm.LinkedCareContext `json:"links"`
	}
	e.do("GET", base+"/links", nil, &links)
	if len(links.Links) != 1 || links.Links[0].CareContextReference != "IPD-9" || links.Links[0].Via != cm.ViaHIP || links.Links[0].HIPName != "Sangam OPD" {
		t.Fatalf("links in the app: %+v", links)
	}
	if p := e.page("patient=" + sunita); !strings.Contains(p, "Admission 9") {
		t.Error("page does not list the linked admission")
	}
}
