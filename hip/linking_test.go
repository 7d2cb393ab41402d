package hip_test

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"testing"

	"github.com/sangamhealth/sangam/abdm"
	"github.com/sangamhealth/sangam/hip"
	"github.com/sangamhealth/sangam/keys"
	"github.com/sangamhealth/sangam/patients"
	"github.com/sangamhealth/sangam/sources"
)

// Care contexts of one patient from two source systems (an HIS visit and
// a LIMS report) are linked with one link/carecontext carrying the stored
// token, grouped per HI type, and marked linked only after on_carecontext.
func TestLinkCareContextsFromTwoSources(t *testing.T) {
	w := newM1World(t, nil)
	ctx := context.Background()
	his, lims := w.source("his", "HIS"), w.source("lims", "LIMS")
	for _, rec := range []patients.SourceRecord{
		{FacilityID: w.facility, SourceSystemID: his, LocalID: "MRN-1", Name: "Asha Rao", Gender: "F", BirthYear: 1988,
			Mobile: "9876500001", ABHAAddress: "asha.rao@sbx", ABHANumber: "91-1111-2222-3333"},
		{FacilityID: w.facility, SourceSystemID: lims, LocalID: "LP-9", Name: "Asha Rao", Gender: "F", BirthYear: 1988,
			Mobile: "9876500001", ABHAAddress: "asha.rao@sbx"},
	} {
		if _, err := w.patients.Ingest(ctx, w.tenant, rec); err != nil {
			t.Fatal(err)
		}
	}

	// No token yet: the first care context asks for one and waits.
	visit := w.careContext(his, "his", "MRN-1", "V100", sources.OPConsultation)
	if st := w.linkState(visit.Reference); st.State != "waiting_token" && st.State != "sent" && st.State != "linked" {
		t.Fatalf("visit state %+v", st)
	}
	report := w.careContext(lims, "lims", "LP-9", "R200", sources.DiagnosticReport)
	w.eventually("both care contexts to be linked", func() (bool, error) {
		ls, err := w.svc.LinkStates(ctx, w.tenant, w.facility, visit.Reference, report.Reference)
		if err != nil || len(ls) != 2 {
			return false, err
		}
		return ls[0].State == "linked" && ls[1].State == "linked", nil
	})
	if n := w.gatewayCalls(abdm.PathGenerateToken); n != 1 {
		t.Errorf("generate-token calls: %d, want 1", n)
	}

	// The consent manager linked exactly these, under one patient reference.
	linked := w.sandbox.CM.Links("asha.rao@sbx", w.hipID)
	var refs []string
	for _, l := range linked {
		refs = append(refs, l.CareContextReference)
		if l.PatientReference != linked[0].PatientReference {
			t.Errorf("care contexts under different patient references: %+v", linked)
		}
	}
	slices.Sort(refs)
	if !slices.Equal(refs, []string{visit.Reference, report.Reference}) {
		t.Errorf("linked at the consent manager: %v", refs)
	}
	// Every link call carried X-LINK-TOKEN's patient, a digits-only ABHA
	// number and one group per HI type with a matching count.
	for _, m := range w.sandbox.Gateway.Messages(gatewayFilter(abdm.PathLinkCareContext)) {
		var body abdm.LinkCareContextRequest
		if err := json.Unmarshal(m.Body, &body); err != nil {
			t.Fatal(err)
		}
		if body.ABHAAddress != "asha.rao@sbx" || body.ABHANumber != "91111122223333" {
			t.Errorf("link body names %q / %q", body.ABHAAddress, body.ABHANumber)
		}
		seen := map[abdm.HIType]bool{}
		for _, g := range body.Patient {
			if seen[g.HIType] || g.Count != len(g.CareContexts) {
				t.Errorf("link body groups: %+v", body.Patient)
			}
			seen[g.HIType] = true
		}
	}
	// Context notify followed each link.
	w.eventually("context notifications", func() (bool, error) {
		ls, err := w.svc.LinkStates(ctx, w.tenant, w.facility, visit.Reference, report.Reference)
		if err != nil {
			return false, err
		}
		return ls[0].NotifyState == "notified" && ls[1].NotifyState == "notified", nil
	})

	// A later care context goes straight out with the stored token.
	before := w.gatewayCalls(abdm.PathLinkCareContext)
	next := w.careContext(his, "his", "MRN-1", "V101", sources.Prescription)
	if st := w.linkState(next.Reference); st.State != "sent" {
		t.Errorf("with a stored token the new care context is %q, want sent at once", st.State)
	}
	w.eventually("the new care context to be linked", func() (bool, error) {
		return w.linkState(next.Reference).State == "linked", nil
	})
	if n := w.gatewayCalls(abdm.PathGenerateToken); n != 1 {
		t.Errorf("generate-token calls after a later care context: %d, want 1", n)
	}
	if n := w.gatewayCalls(abdm.PathLinkCareContext); n != before+1 {
		t.Errorf("link calls for the later care context: %d, want 1", n-before)
	}
}

// A stored token the gateway refuses (ABDM-1026) never marks anything
// linked; it is dropped, a new one is asked for, and linking completes.
func TestRefusedLinkTokenIsReplaced(t *testing.T) {
	w := newM1World(t, nil)
	ctx := context.Background()
	his := w.source("his", "HIS")
	if _, err := w.patients.Ingest(ctx, w.tenant, patients.SourceRecord{
		FacilityID: w.facility, SourceSystemID: his, LocalID: "MRN-2", Name: "Vikram Singh", Gender: "M",
		BirthYear: 1975, ABHAAddress: "vikram.s@sbx", ABHANumber: "91-4444-5555-6666",
	}); err != nil {
		t.Fatal(err)
	}
	bogus := keys.Secret{Ref: keys.Ref{Tenant: w.tenant, Facility: w.facility, Purpose: keys.PurposeLinkToken, Name: "vikram.s@sbx"},
		Value: []byte("eyJhbGciOiJub25lIn0.eyJleHAiOjQxMDI0NDQ4MDB9.bad")}
	if err := w.keys.Put(ctx, bogus); err != nil {
		t.Fatal(err)
	}
	// The stored token is used at once; how far the refusal and the new
	// token have got by the time this returns depends on the job queue, so
	// the calls below, not an intermediate state, show the order.
	reg := w.careContext(his, "his", "MRN-2", "V7", sources.OPConsultation)
	w.eventually("the refusal, a new token and the link", func() (bool, error) {
		return w.linkState(reg.Reference).State == "linked", nil
	})
	// Both link calls were accepted (202); the bogus token was refused in
	// the on_carecontext callback.
	ok := 0
	for _, m := range w.sandbox.Gateway.Messages(gatewayFilter(abdm.PathLinkCareContext)) {
		if m.Status == 202 {
			ok++
		}
	}
	if n := w.gatewayCalls(abdm.PathGenerateToken); n != 1 || ok != 2 {
		t.Errorf("generate-token calls %d (want 1), accepted link calls %d (want 2: bogus, then good)", n, ok)
	}
	sec, err := w.linkToken("vikram.s@sbx")
	if err != nil || string(sec.Value) == string(bogus.Value) {
		t.Errorf("stored token after the refusal: %v (still the bogus one: %v)", err, err == nil && string(sec.Value) == string(bogus.Value))
	}
	if links := w.sandbox.CM.Links("vikram.s@sbx", w.hipID); len(links) != 1 {
		t.Errorf("consent manager links: %+v", links)
	}
}

func TestLinkCareContextNeedsAnABHA(t *testing.T) {
	w := newM1World(t, nil)
	ctx := context.Background()
	his := w.source("his", "HIS")
	if _, err := w.patients.Ingest(ctx, w.tenant, patients.SourceRecord{
		FacilityID: w.facility, SourceSystemID: his, LocalID: "MRN-3", Name: "No Abha", Gender: "M", BirthYear: 1960,
	}); err != nil {
		t.Fatal(err)
	}
	reg := w.careContext(his, "his", "MRN-3", "V1", sources.OPConsultation)
	if ls, err := w.svc.LinkStates(ctx, w.tenant, w.facility, reg.Reference); err != nil || len(ls) != 0 {
		t.Errorf("a care context of a patient without ABHA got link state %+v (%v)", ls, err)
	}
	if err := w.svc.LinkCareContext(ctx, w.tenant, w.facility, reg.Reference); !errors.Is(err, hip.ErrInvalid) {
		t.Errorf("LinkCareContext without ABHA: %v, want ErrInvalid", err)
	}
	if err := w.svc.LinkCareContext(ctx, w.tenant, w.facility, "his:visit:nope"); !errors.Is(err, hip.ErrNotFound) {
		t.Errorf("LinkCareContext of an unknown reference: %v, want ErrNotFound", err)
	}
}
