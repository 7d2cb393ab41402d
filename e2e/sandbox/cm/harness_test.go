package cm_test

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/sangamhealth/sangam/abdm"
	"github.com/sangamhealth/sangam/e2e/sandbox/cm"
	"github.com/sangamhealth/sangam/e2e/sandbox/cm/cmtest"
	"github.com/sangamhealth/sangam/e2e/sandbox/gateway"
)

const (
	sangamClient = cmtest.SangamClient
	sangamHIP    = cmtest.SangamHIP
	sangamHIU    = cmtest.SangamHIU
	otherHIP     = cmtest.OtherHIP
	otherHIU     = cmtest.OtherHIU
	sunita       = "sunita.rao@sbx" // a seeded ABHA account of the ABHA sandbox
	sunitaDigits = "91000000000037"
)

// world is a cmtest.World with short names for the tests of this package.
type world struct {
	t      *testing.T
	gw     *gateway.Gateway
	cm     *cm.CM
	clock  *cmtest.Clock
	sangam *cmtest.Bridge
	other  *cmtest.Bridge
	w      *cmtest.World
}

func newWorld(t *testing.T, tweak func(*cm.Config)) *world {
	t.Helper()
	cw := cmtest.NewWorld(t, cmtest.WorldConfig{CM: tweak})
	return &world{t: t, gw: cw.Gateway, cm: cw.CM, clock: cw.Clock, sangam: cw.Sangam, other: cw.Other, w: cw}
}

// waitFor waits until cond holds, failing the test after 10 s.
func (w *world) waitFor(what string, cond func() bool) {
	w.t.Helper()
	w.w.WaitFor(what, cond)
}

// sunitaToken asks for a link token for Sunita at Sangam's HIP and returns
// it.
func (w *world) sunitaToken() string {
	w.t.Helper()
	n := abdm.NumericID(sunitaDigits)
	id := w.sangam.MustCall(abdm.Request{Path: abdm.PathGenerateToken, HIPID: sangamHIP, Body: abdm.GenerateTokenRequest{
		ABHANumber: &n, ABHAAddress: sunita, Name: "Sunita Rao", Gender: abdm.GenderFemale, YearOfBirth: 1978,
	}})
	var res abdm.OnGenerateTokenRequest
	w.sangam.ResultOf(abdm.CallbackOnGenerateToken, id).Decode(w.t, &res)
	if res.Error != nil || res.LinkToken == "" {
		w.t.Fatalf("on-generate-token: %+v", res)
	}
	return res.LinkToken
}

// link links care contexts for Sunita at Sangam's HIP with token and
// returns the on_carecontext result.
func (w *world) link(token string, groups ...abdm.PatientCareContexts) abdm.OnCareContextRequest {
	w.t.Helper()
	id := w.sangam.MustCall(abdm.Request{Path: abdm.PathLinkCareContext, HIPID: sangamHIP, LinkToken: token,
		Body: abdm.LinkCareContextRequest{ABHANumber: sunitaDigits, ABHAAddress: sunita, Patient: groups}})
	var res abdm.OnCareContextRequest
	w.sangam.ResultOf(abdm.CallbackOnCareContext, id).Decode(w.t, &res)
	return res
}

func opd(ref string) abdm.PatientCareContexts {
	return abdm.NewPatientCareContexts("PAT-1", "Sunita Rao", abdm.HITypeOPConsultation,
		abdm.CareContext{ReferenceNumber: ref, Display: "OPD " + ref})
}

func lab(ref string) abdm.PatientCareContexts {
	return abdm.NewPatientCareContexts("PAT-1", "Sunita Rao", abdm.HITypeDiagnosticReport,
		abdm.CareContext{ReferenceNumber: ref, Display: "Lab " + ref})
}

// consentInit asks for consent as Sangam's HIU and returns the consent
// request id from on-init (failing on an error).
func (w *world) consentInit(cr abdm.ConsentRequest) string {
	w.t.Helper()
	res := w.consentInitResult(cr)
	if res.Error != nil || res.ConsentRequest == nil {
		w.t.Fatalf("consent on-init: %+v", res.Error)
	}
	return res.ConsentRequest.ID
}

func (w *world) consentInitResult(cr abdm.ConsentRequest) abdm.ConsentRequestOnInitRequest {
	w.t.Helper()
	id := w.sangam.MustCall(abdm.Request{Path: abdm.PathConsentRequestInit, HIUID: sangamHIU, Body: abdm.ConsentRequestInitRequest{Consent: cr}})
	var res abdm.ConsentRequestOnInitRequest
	w.sangam.ResultOf(abdm.CallbackConsentRequestOnInit, id).Decode(w.t, &res)
	return res
}

// careRequest is a consent request for Sunita's OPD and lab records at
// Sangam's HIP over the last year.
func careRequest() abdm.ConsentRequest {
	purpose, _ := abdm.PurposeOf(abdm.PurposeCareManagement)
	now := time.Now().UTC()
	return abdm.ConsentRequest{
		Purpose: purpose, Patient: abdm.Ref{ID: sunita}, HIP: &abdm.Party{ID: sangamHIP},
		HIU:       abdm.Party{ID: sangamHIU},
		Requester: abdm.Requester{Name: "Dr. Mehta", Identifier: &abdm.RequesterIdentifier{Type: "REGNO", Value: "MH1001"}},
		HITypes:   []abdm.HIType{abdm.HITypeOPConsultation, abdm.HITypeDiagnosticReport},
		Permission: abdm.Permission{
			AccessMode:  abdm.AccessView,
			DateRange:   abdm.DateRange{From: abdm.NewTime(now.AddDate(-1, 0, 0)), To: abdm.NewTime(now)},
			DataEraseAt: abdm.NewTime(now.AddDate(0, 1, 0)),
			Frequency:   abdm.Frequency{Unit: abdm.FrequencyHour, Value: 1},
		},
	}
}

// gatewayCode is the ABDM code of a gateway refusal.
func gatewayCode(t *testing.T, err error) (int, string) {
	t.Helper()
	var e *abdm.Error
	if !errors.As(err, &e) {
		t.Fatalf("want an *abdm.Error, got %v", err)
	}
	return e.HTTPStatus, e.Code
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
