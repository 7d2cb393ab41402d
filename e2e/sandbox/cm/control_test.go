package cm_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/sangamhealth/sangam/abdm"
	"github.com/sangamhealth/sangam/e2e/sandbox/cm"
)

func (w *world) control(method, path string, body any, out any) int {
	w.t.Helper()
	var raw []byte
	if body != nil {
		raw, _ = json.Marshal(body)
	}
	req, _ := http.NewRequest(method, w.w.URL+"/_sandbox/cm"+path, bytes.NewReader(raw))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		w.t.Fatal(err)
	}
	defer resp.Body.Close()
	if out != nil {
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			w.t.Fatalf("%s %s: %v", method, path, err)
		}
	}
	return resp.StatusCode
}

func TestControlAPI(t *testing.T) {
	w := grantedWorld(t, nil)
	reqID := w.consentInit(careRequest())

	var patients struct {
		Patients []cm.Patient `json:"patients"`
	}
	if w.control("GET", "/patients", nil, &patients) != 200 || len(patients.Patients) < 3 {
		t.Errorf("patients: %+v", patients)
	}
	var links struct {
		Links []cm.LinkedCareContext `json:"links"`
	}
	if w.control("GET", "/links?abha_address="+sunita+"&hip_id="+sangamHIP, nil, &links) != 200 || len(links.Links) != 2 {
		t.Errorf("links: %+v", links)
	}
	var tokens struct {
		Tokens []cm.LinkToken `json:"link_tokens"`
	}
	if w.control("GET", "/link-tokens", nil, &tokens) != 200 || len(tokens.Tokens) != 2 {
		t.Errorf("link tokens: %+v", tokens)
	}
	var reqs struct {
		Requests []cm.ConsentRequest `json:"consent_requests"`
	}
	if w.control("GET", "/consent-requests?status=REQUESTED", nil, &reqs) != 200 || len(reqs.Requests) != 1 {
		t.Errorf("consent requests: %+v", reqs)
	}

	// Expire the pending request over HTTP: the HIU hears EXPIRED.
	var expired cm.ConsentRequest
	if w.control("POST", "/consents/"+reqID+"/expire", nil, &expired) != 200 || expired.Status != abdm.ConsentExpired {
		t.Errorf("expire: %+v", expired)
	}
	w.sangam.WaitFor(abdm.CallbackHIUConsentNotify, nil)
	var errBody map[string]string
	if s := w.control("POST", "/consents/"+reqID+"/expire", nil, &errBody); s != http.StatusConflict {
		t.Errorf("expiring twice: %d %v", s, errBody)
	}
	if s := w.control("POST", "/consents/nope/expire", nil, &errBody); s != http.StatusNotFound {
		t.Errorf("expiring an unknown consent: %d", s)
	}

	// Blocks.
	if s := w.control("POST", "/blocks", map[string]string{"hip_id": sangamHIP, "abha_address": sunita}, nil); s != 200 {
		t.Errorf("block: %d", s)
	}
	if s := w.control("POST", "/blocks", map[string]string{"hip": "typo"}, nil); s != 400 {
		t.Errorf("bad block: %d", s)
	}
	var blocks struct {
		Blocks []cm.Block `json:"blocks"`
	}
	w.control("GET", "/blocks", nil, &blocks)
	if len(blocks.Blocks) != 1 {
		t.Errorf("blocks: %+v", blocks)
	}
	w.control("DELETE", "/blocks?hip_id="+sangamHIP+"&abha_address="+sunita, nil, nil)
	w.control("GET", "/blocks", nil, &blocks)
	if len(blocks.Blocks) != 0 {
		t.Errorf("blocks after delete: %+v", blocks)
	}

	if s := w.control("POST", "/reset", nil, nil); s != http.StatusNoContent {
		t.Fatalf("reset: %d", s)
	}
	if n := len(w.cm.Links("", "")); n != 0 {
		t.Errorf("%d links after reset", n)
	}
	// Hooks survive a reset: a fresh token is still answered.
	if tok := w.sunitaToken(); tok == "" {
		t.Error("no token after reset")
	}
}
