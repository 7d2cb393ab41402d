package cm_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/sangamhealth/sangam/abdm"
	"github.com/sangamhealth/sangam/e2e/sandbox/cm"
	"github.com/sangamhealth/sangam/e2e/sandbox/cm/cmtest"
)

func sunitaAtSangam() *cmtest.HIP {
	return &cmtest.HIP{
		HIPID: sangamHIP, ABHAAddress: sunita, PatientRef: "PAT-1", PatientDisplay: "Sunita Rao", OTP: "424242",
		CareContexts: []cmtest.CareContext{
			{Reference: "VISIT-1", Display: "OPD 10-Jan", HIType: abdm.HITypeOPConsultation},
			{Reference: "LAB-1", Display: "CBC 10-Jan", HIType: abdm.HITypeDiagnosticReport},
		},
	}
}

func TestUserInitiatedDiscoveryAndLinking(t *testing.T) {
	w := newWorld(t, nil)
	w.sangam.ActAsHIP(sunitaAtSangam())
	ctx := context.Background()

	d, err := w.cm.Discover(ctx, sunita, sangamHIP, []abdm.Identifier{{Type: abdm.IdentifierMR, Value: "PAT-1"}})
	if err != nil {
		t.Fatalf("Discover: %v", err)
	}
	cb := w.sangam.WaitFor(abdm.CallbackDiscover, nil)
	var req abdm.DiscoverRequest
	cb.Decode(t, &req)
	if req.TransactionID != d.TransactionID || req.Patient.ID != sunita || req.Patient.YearOfBirth != 1978 ||
		!slices.Contains(req.Patient.VerifiedIdentifiers, abdm.Identifier{Type: abdm.IdentifierMobile, Value: "+919000000003"}) ||
		!slices.Contains(req.Patient.VerifiedIdentifiers, abdm.Identifier{Type: abdm.IdentifierABHANumber, Value: "91-0000-0000-0037"}) ||
		len(req.Patient.UnverifiedIdentifiers) != 1 || cb.HIPID != sangamHIP {
		t.Errorf("discover callback: %s", cb.Body)
	}

	w.waitFor("on-discover", func() bool { d, _ := w.cm.Discovery(d.TransactionID); return d.Status != cm.DiscoveryPending })
	d, _ = w.cm.Discovery(d.TransactionID)
	if d.Status != cm.DiscoveryDone || len(d.CareContexts) != 2 || d.CareContexts[1].HIType != "DiagnosticReport" ||
		d.CareContexts[0].PatientReference != "PAT-1" || !slices.Equal(d.MatchedBy, []string{"ABHA_ADDRESS"}) {
		t.Fatalf("discovery after on-discover: %+v", d)
	}

	// Link only the OPD visit.
	d, err = w.cm.LinkInit(ctx, sunita, d.TransactionID, []cm.CareContextRef{{CareContextReference: "VISIT-1"}})
	if err != nil {
		t.Fatalf("LinkInit: %v", err)
	}
	var init abdm.LinkInitRequest
	w.sangam.WaitFor(abdm.CallbackLinkInit, nil).Decode(t, &init)
	if init.TransactionID != d.TransactionID || init.ABHAAddress != sunita || !slices.Equal(cmtest.Refs(init.Patient), []string{"VISIT-1"}) ||
		init.Patient[0].Count != 1 {
		t.Errorf("link init callback: %+v", init)
	}
	if _, err := w.cm.LinkInit(ctx, sunita, d.TransactionID, nil); !errors.Is(err, cm.ErrConflict) {
		t.Errorf("second link init: %v; want a conflict (ABDM-1104)", err)
	}
	w.waitFor("on-init", func() bool { d, _ := w.cm.Discovery(d.TransactionID); return d.Link.Status != cm.LinkInitiating })
	d, _ = w.cm.Discovery(d.TransactionID)
	if d.Link.Status != cm.LinkAwaitingOTP || d.Link.ReferenceNumber == "" || d.Link.CommunicationMedium != "MOBILE" {
		t.Fatalf("link after on-init: %+v", d.Link)
	}

	// A wrong OTP comes back as an error; the patient can try again.
	if _, err := w.cm.LinkConfirm(ctx, sunita, d.TransactionID, "000000"); err != nil {
		t.Fatal(err)
	}
	w.waitFor("on-confirm", func() bool { d, _ := w.cm.Discovery(d.TransactionID); return d.Link.Status != cm.LinkConfirming })
	d, _ = w.cm.Discovery(d.TransactionID)
	if d.Link.Status != cm.LinkAwaitingOTP || d.Link.Error == nil || len(w.cm.Links(sunita, "")) != 0 {
		t.Fatalf("link after a wrong OTP: %+v", d.Link)
	}
	var confirm abdm.LinkConfirmRequest
	w.sangam.WaitFor(abdm.CallbackLinkConfirm, nil).Decode(t, &confirm)
	if confirm.Confirmation.LinkRefNumber != d.Link.ReferenceNumber || confirm.Confirmation.Token != "000000" {
		t.Errorf("confirm callback: %+v", confirm)
	}

	if _, err := w.cm.LinkConfirm(ctx, sunita, d.TransactionID, "424242"); err != nil {
		t.Fatal(err)
	}
	w.waitFor("linked", func() bool { d, _ := w.cm.Discovery(d.TransactionID); return d.Link.Status == cm.LinkLinked })
	links := w.cm.Links(sunita, sangamHIP)
	if len(links) != 1 || links[0].CareContextReference != "VISIT-1" || links[0].Via != cm.ViaUser || links[0].Display != "OPD 10-Jan" {
		t.Errorf("links after confirm: %+v", links)
	}
	if _, err := w.cm.LinkConfirm(ctx, sunita, d.TransactionID, "424242"); !errors.Is(err, cm.ErrConflict) {
		t.Errorf("confirm after linking: %v; want a conflict (ABDM-1105)", err)
	}
}

func TestDiscoveryNotFoundAndOtherPatients(t *testing.T) {
	w := newWorld(t, nil)
	w.sangam.ActAsHIP(sunitaAtSangam())
	ctx := context.Background()
	d, err := w.cm.Discover(ctx, "meena.iyer@sbx", sangamHIP, nil)
	if err != nil {
		t.Fatal(err)
	}
	w.waitFor("on-discover", func() bool { d, _ := w.cm.Discovery(d.TransactionID); return d.Status != cm.DiscoveryPending })
	d, _ = w.cm.Discovery(d.TransactionID)
	if d.Status != cm.DiscoveryFailed || d.Error == nil || d.Error.Code != "ABDM-1010" {
		t.Errorf("discovery of an unknown patient: %+v", d)
	}
	if _, err := w.cm.LinkInit(ctx, "meena.iyer@sbx", d.TransactionID, nil); !errors.Is(err, cm.ErrConflict) {
		t.Errorf("link init after a failed discovery: %v", err)
	}
	// One patient cannot act on another's discovery.
	if _, err := w.cm.LinkInit(ctx, sunita, d.TransactionID, nil); !errors.Is(err, cm.ErrNotFound) {
		t.Errorf("link init on someone else's discovery: %v", err)
	}
	if got := w.cm.Discoveries(sunita); len(got) != 0 {
		t.Errorf("Sunita sees %d discoveries", len(got))
	}
}
