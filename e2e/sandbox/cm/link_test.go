package cm_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/sangamhealth/sangam/abdm"
	"github.com/sangamhealth/sangam/e2e/sandbox/cm"
	"github.com/sangamhealth/sangam/e2e/sandbox/cm/cmtest"
)

func TestHIPInitiatedLinkingLinksWithAValidToken(t *testing.T) {
	w := newWorld(t, nil)
	token := w.sunitaToken()

	// The token is an RS512 JWT verifiable with the gateway's published
	// link-token key, bound to the HIP and the patient.
	jwks := w.gw.JWKS()
	tok, err := jwt.ParseSigned(token, []jose.SignatureAlgorithm{jose.RS512})
	if err != nil {
		t.Fatalf("link token is not an RS512 JWT: %v", err)
	}
	keys := jwks.Key(tok.Headers[0].KeyID)
	if len(keys) != 1 || keys[0].Algorithm != string(jose.RS512) {
		t.Fatalf("link token kid %q is not the gateway's RS512 key", tok.Headers[0].KeyID)
	}
	var claims struct {
		jwt.Claims
		HIPID       string `json:"hipId"`
		ABHAAddress string `json:"abhaAddress"`
		ABHANumber  string `json:"abhaNumber"`
	}
	if err := tok.Claims(keys[0].Key, &claims); err != nil {
		t.Fatalf("link token signature: %v", err)
	}
	if claims.HIPID != sangamHIP || claims.ABHAAddress != sunita || claims.ABHANumber != sunitaDigits ||
		claims.Expiry.Time().Before(time.Now().AddDate(0, 5, 0)) {
		t.Errorf("link token claims: %+v", claims)
	}

	res := w.link(token, opd("VISIT-1"), lab("LAB-1"))
	if res.Error != nil || res.Status != "Successfully Linked care context" || res.ABHAAddress != sunita {
		t.Fatalf("on_carecontext: %+v", res)
	}
	links := w.cm.Links(sunita, "")
	if len(links) != 2 || links[0].CareContextReference != "VISIT-1" || links[0].HIType != "OPConsultation" ||
		links[1].CareContextReference != "LAB-1" || links[0].Via != cm.ViaHIP || links[0].HIPName != "Sangam OPD" {
		t.Fatalf("links after on_carecontext: %+v", links)
	}

	// The same token links later care contexts; all-linked again is ABDM-1056.
	if res := w.link(token, opd("VISIT-2")); res.Error != nil {
		t.Errorf("second link with the same token: %+v", res.Error)
	}
	if res := w.link(token, opd("VISIT-2")); res.Error == nil || res.Error.Code != "ABDM-1056" {
		t.Errorf("relinking a linked context: %+v", res.Error)
	}
	if n := len(w.cm.Links(sunita, sangamHIP)); n != 3 {
		t.Errorf("%d links; want 3", n)
	}

	// Context notify for a linked context succeeds, for an unknown one fails.
	notify := func(ref string) abdm.AcknowledgementResult {
		id := w.sangam.MustCall(abdm.Request{Path: abdm.PathLinkContextNotify, HIPID: sangamHIP, Body: abdm.ContextNotifyRequest{
			Notification: abdm.ContextNotification{Patient: abdm.Ref{ID: sunita}, HIP: abdm.Ref{ID: sangamHIP},
				CareContext: abdm.CareContextRef{PatientReference: "PAT-1", CareContextReference: ref},
				HITypes:     []abdm.HIType{abdm.HITypeOPConsultation}, Date: abdm.NewTime(time.Now())}}})
		var r abdm.AcknowledgementResult
		w.sangam.ResultOf(abdm.CallbackContextOnNotify, id).Decode(t, &r)
		return r
	}
	if r := notify("VISIT-1"); r.Error != nil || r.Acknowledgement == nil || r.Acknowledgement.Status != abdm.AckSuccess {
		t.Errorf("context notify for a linked context: %s", mustJSON(t, r))
	}
	if r := notify("NOT-LINKED"); r.Error == nil || r.Error.Code != "ABDM-1006" || r.Acknowledgement.Status != abdm.AckErrored {
		t.Errorf("context notify for an unknown context: %s", mustJSON(t, r))
	}
	if l := w.cm.Links(sunita, sangamHIP); l[0].NotifiedAt.IsZero() {
		t.Error("accepted context notify not recorded")
	}
}

func TestLinkCareContextRefusals(t *testing.T) {
	w := newWorld(t, nil)
	token := w.sunitaToken()
	ctx := context.Background()

	// Refusals that arrive in on_carecontext.
	call := func(name string, c *callSpec) {
		t.Helper()
		id := c.bridge(w).MustCall(abdm.Request{Path: abdm.PathLinkCareContext, HIPID: c.hip, LinkToken: c.token, Body: c.body})
		var res abdm.OnCareContextRequest
		c.bridge(w).ResultOf(abdm.CallbackOnCareContext, id).Decode(t, &res)
		if res.Error == nil || res.Error.Code != c.code {
			t.Errorf("%s: on_carecontext error %+v; want %s", name, res.Error, c.code)
		}
	}
	good := abdm.LinkCareContextRequest{ABHANumber: sunitaDigits, ABHAAddress: sunita, Patient: []abdm.PatientCareContexts{opd("V-1")}}
	forged := token[:strings.LastIndex(token, ".")+1] + "AAAA"
	countOff := opd("V-2")
	countOff.Count = 2
	meena := good
	meena.ABHAAddress, meena.ABHANumber = "meena.iyer@sbx", ""
	otherNumber := good
	otherNumber.ABHANumber = "91000000000044"
	call("forged token", &callSpec{hip: sangamHIP, token: forged, body: good, code: "ABDM-1026"})
	call("another HIP's token", &callSpec{other: true, hip: otherHIP, token: token, body: good, code: "ABDM-1063"})
	call("token of another patient", &callSpec{hip: sangamHIP, token: token, body: meena, code: "ABDM-1038"})
	call("ABHA number mismatch", &callSpec{hip: sangamHIP, token: token, body: otherNumber, code: "ABDM-1062"})
	call("count mismatch", &callSpec{hip: sangamHIP, token: token,
		body: abdm.LinkCareContextRequest{ABHAAddress: sunita, Patient: []abdm.PatientCareContexts{countOff}}, code: "ABDM-1037"})
	if n := len(w.cm.Links("", "")); n != 0 {
		t.Errorf("refused links recorded: %d", n)
	}

	// Refusals the sandbox answers synchronously.
	dashed := good
	dashed.ABHANumber = "91-0000-0000-0037"
	resp, err := w.sangam.Call(ctx, abdm.Request{Path: abdm.PathLinkCareContext, HIPID: sangamHIP, LinkToken: token, Body: dashed})
	if err == nil || resp.StatusCode != http.StatusBadRequest || len(resp.Body) != 0 {
		t.Errorf("dashed abhaNumber: err %v, response %+v; want 400 with an empty body", err, resp)
	}
	array := `{"abhaAddress":"sunita.rao@sbx","patient":[{"referenceNumber":"PAT-1","careContexts":[{"referenceNumber":"V-9"}],"hiType":["OPConsultation"],"count":1}]}`
	_, err = w.sangam.Call(ctx, abdm.Request{Path: abdm.PathLinkCareContext, HIPID: sangamHIP, LinkToken: token, Body: []byte(array)})
	if status, code := gatewayCode(t, err); status != http.StatusBadRequest || code != "ABDM-1006" {
		t.Errorf("array hiType: %d %s", status, code)
	}
	if got := w.cm.Refusals(); len(got) != 2 || got[0].Status != 400 || got[1].Code != "ABDM-1006" {
		t.Errorf("refusals: %+v", got)
	}
	// Neither reached the hook: no on_carecontext for them.
	time.Sleep(100 * time.Millisecond)
	if n := len(w.sangam.Received("/api/v3/link/on_carecontext")); n != 4 {
		t.Errorf("%d on_carecontext callbacks; want 4 (the four callback refusals only)", n)
	}
	if len(w.other.Received("/api/v3/link/on_carecontext")) != 1 {
		t.Error("the other hospital got no on_carecontext")
	}
}

type callSpec struct {
	other bool
	hip   string
	token string
	body  abdm.LinkCareContextRequest
	code  string
}

func (c *callSpec) bridge(w *world) *cmtest.Bridge {
	if c.other {
		return w.other
	}
	return w.sangam
}
