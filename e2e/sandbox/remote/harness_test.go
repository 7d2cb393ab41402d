package remote_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/sangamhealth/sangam/abdm"
	"github.com/sangamhealth/sangam/e2e/sandbox/cm"
	"github.com/sangamhealth/sangam/e2e/sandbox/cm/cmtest"
	"github.com/sangamhealth/sangam/e2e/sandbox/gateway"
	"github.com/sangamhealth/sangam/e2e/sandbox/phr"
	"github.com/sangamhealth/sangam/e2e/sandbox/remote"
	"github.com/sangamhealth/sangam/sharedtest"
)

const (
	sunita = "sunita.rao@sbx"
	meena  = "meena.iyer@sbx"
)

// fhirDir finds ../shared/testdata/fhir next to the repository root (the
// directory with go.mod), skipping the test when it is absent.
func fhirDir(t *testing.T) string {
	t.Helper()
	fhir := sharedtest.Path(t, "fhir")
	return fhir
}

type env struct {
	t        *testing.T
	w        *cmtest.World
	hospital *remote.Hospital
	inbox    *phr.Inbox
}

// start runs a World with the remote hospital mounted and registered.
func start(t *testing.T, records string) *env {
	t.Helper()
	e := &env{t: t, inbox: phr.NewInbox(nil)}
	var rc remote.Config
	e.w = cmtest.NewWorld(t, cmtest.WorldConfig{
		Clients: func(url string) []gateway.Client {
			rc = remote.Config{PublicURL: url, RecordsDir: records, OnlyPatients: []string{sunita, meena}}
			return []gateway.Client{rc.GatewayClient()}
		},
		CM: func(c *cm.Config) { c.SMS = e.inbox },
		Mount: func(w *cmtest.World, mux *http.ServeMux) {
			rc.Patients, rc.SMS = w.CM, e.inbox
			h, err := remote.New(rc)
			if err != nil {
				t.Fatalf("remote.New: %v", err)
			}
			t.Cleanup(func() { h.Close() })
			e.hospital = h
			mux.Handle(remote.Prefix+"/", h)
		},
	})
	return e
}

// waitRemote waits for a condition on the remote hospital.
func (e *env) waitRemote(what string, cond func() bool) {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := e.hospital.Wait(ctx, cond); err != nil {
		e.t.Fatalf("waiting for %s: %v", what, err)
	}
}

// linkAtRemote links every record of a patient at the remote HIP, the
// HIP-initiated way, and waits until the consent manager has them.
func (e *env) linkAtRemote(addr string) []remote.Record {
	e.t.Helper()
	l, err := e.hospital.LinkPatient(context.Background(), addr)
	if err != nil {
		e.t.Fatalf("LinkPatient: %v", err)
	}
	e.waitRemote("the remote link", func() bool {
		for _, cur := range e.hospital.HIPLinks() {
			if cur.ID == l.ID {
				l = cur
				return cur.Status == remote.LinkLinked || cur.Status == remote.LinkFailed
			}
		}
		return false
	})
	if l.Status != remote.LinkLinked {
		e.t.Fatalf("remote HIP-initiated link: %+v", l)
	}
	return l.Records
}

// sangamConsent asks for consent as Sangam's HIU and returns the request id.
func (e *env) sangamConsent(cr abdm.ConsentRequest) string {
	e.t.Helper()
	id := e.w.Sangam.MustCall(abdm.Request{Path: abdm.PathConsentRequestInit, HIUID: cmtest.SangamHIU, Body: abdm.ConsentRequestInitRequest{Consent: cr}})
	var res abdm.ConsentRequestOnInitRequest
	e.w.Sangam.ResultOf(abdm.CallbackConsentRequestOnInit, id).Decode(e.t, &res)
	if res.Error != nil {
		e.t.Fatalf("consent on-init: %+v", res.Error)
	}
	return res.ConsentRequest.ID
}

func allTypes() []abdm.HIType {
	return []abdm.HIType{
		abdm.HITypeOPConsultation, abdm.HITypePrescription, abdm.HITypeDiagnosticReport, abdm.HITypeDischargeSummary,
		abdm.HITypeImmunizationRecord, abdm.HITypeHealthDocumentRecord, abdm.HITypeWellnessRecord, abdm.HITypeInvoice,
	}
}

func consentFor(addr, hip string, types []abdm.HIType) abdm.ConsentRequest {
	purpose, _ := abdm.PurposeOf(abdm.PurposeCareManagement)
	now := time.Now().UTC()
	return abdm.ConsentRequest{
		Purpose: purpose, Patient: abdm.Ref{ID: addr}, HIP: &abdm.Party{ID: hip}, HIU: abdm.Party{ID: cmtest.SangamHIU},
		Requester: abdm.Requester{Name: "Dr. Mehta"}, HITypes: types,
		Permission: abdm.Permission{
			AccessMode:  abdm.AccessView,
			DateRange:   abdm.DateRange{From: abdm.NewTime(now.AddDate(-20, 0, 0)), To: abdm.NewTime(now)},
			DataEraseAt: abdm.NewTime(now.AddDate(0, 0, 7)),
			Frequency:   abdm.Frequency{Unit: abdm.FrequencyHour, Value: 1},
		},
	}
}
