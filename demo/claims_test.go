package demo_test

import (
	"context"
	"encoding/json"
	"maps"
	"math/big"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/fhir/go/jsonformat/fhirvalidate"
	d4pb "github.com/google/fhir/go/proto/google/fhir/proto/r4/core/datatypes_go_proto"
	"github.com/google/go-cmp/cmp"

	"github.com/sangamhealth/sangam/database/databasetest"
	"github.com/sangamhealth/sangam/demo"
	"github.com/sangamhealth/sangam/sources"
	"github.com/sangamhealth/sangam/sources/mappings"
	"github.com/sangamhealth/sangam/sources/sqlmap"
)

func TestClaimsCaseIsOnePersonOfTheDemo(t *testing.T) {
	c := demo.Claims()
	people := demo.People()
	last := people[len(people)-1]
	if diff := cmp.Diff(c.Person, last); diff != "" {
		t.Errorf("Claims().Person is not People()'s last (-claims +people):\n%s", diff)
	}
	if last.ID != demo.ClaimsPersonID || last.ABHANumber == "" || last.ABHAAddress == "" || last.Address == "" || last.PinCode == "" {
		t.Errorf("claims person = %+v, want %s with ABHA number, address and PIN", last, demo.ClaimsPersonID)
	}
	for _, p := range people[:len(people)-1] {
		if p.ABHANumber == last.ABHANumber || p.ABHAAddress == last.ABHAAddress || p.Mobile == last.Mobile {
			t.Errorf("%s shares the claims person's ABHA or mobile", p.ID)
		}
	}
	g := demo.KaveriHealth()
	if len(c.Stays) != 2 || c.Stays[0].HFRID != g.Facilities[0].HFRID || c.Stays[1].HFRID != g.Facilities[1].HFRID {
		t.Fatalf("stays = %+v, want the first two facilities of the group", c.Stays)
	}
	if !c.Stays[0].Discharged.Before(c.Stays[1].Admitted) {
		t.Errorf("the Bengaluru stay (%s) does not come before the Mysuru one (%s)", c.Stays[0].Discharged, c.Stays[1].Admitted)
	}
}

// claimsSources opens the claims person's source systems through their
// mapping files, as Sangam's registry would, keyed by facility/source code.
func claimsSources(t *testing.T) map[string]*sqlmap.Connector {
	t.Helper()
	db := databasetest.New(t)
	ctx := context.Background()
	// A tenant of its own: the package's other tests load the group
	// itself and expect to be first.
	g := demo.KaveriHealth()
	g.Slug, g.Name = "kaveri-claims", "Kaveri Health Group (claims test)"
	for i := range g.Facilities {
		g.Facilities[i].HIPID += "-CL"
	}
	if _, err := demo.Load(ctx, db.Owner, g); err != nil {
		t.Fatal(err)
	}
	if _, err := demo.LoadSources(ctx, db.Owner, g, "DATABASE_URL"); err != nil {
		t.Fatal(err)
	}
	opener := sqlmap.NewOpener(sqlmap.OpenerConfig{Mappings: mappings.FS, LookupEnvFunc: func(k string) (string, bool) {
		return db.URL, k == "DATABASE_URL"
	}})
	t.Cleanup(opener.Close)
	out := map[string]*sqlmap.Connector{}
	for _, r := range demo.Claims().Person.Records {
		key := r.FacilityHFRID + "/" + r.SourceCode
		if out[key] != nil {
			continue
		}
		cfg, err := json.Marshal(demo.SourceConfig(r.Vendor, r.FacilityHFRID, "DATABASE_URL"))
		if err != nil {
			t.Fatal(err)
		}
		c, err := opener.Open(ctx, sources.System{ID: key, FacilityID: r.FacilityHFRID, FacilityHFRID: r.FacilityHFRID, Code: r.SourceCode, Vendor: r.Vendor, Config: cfg})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(c.Close)
		out[key] = c.(*sqlmap.Connector)
	}
	return out
}

// TestClaimsCaseHasEvidenceAtBothFacilities reads the claims person back
// through the demo's connectors: each stay's diagnoses in ICD-10, its
// procedure, lab reports, the Bengaluru ultrasound report, both discharge
// summaries, and at Mysuru the bills, whose lines add up and which point
// at the HIS's encounter.
func TestClaimsCaseHasEvidenceAtBothFacilities(t *testing.T) {
	conns := claimsSources(t)
	ctx := context.Background()
	c := demo.Claims()
	from, to := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

	// Every record of the person is found by its id, and lists its care
	// contexts.
	contexts := map[string]map[string]sources.CareContext{} // hfr -> reference
	for _, r := range c.Person.Records {
		conn := conns[r.FacilityHFRID+"/"+r.SourceCode]
		if err := conn.Check(ctx); err != nil {
			t.Fatalf("%s: mapping does not fit: %v", r.Vendor, err)
		}
		found, err := conn.FindPatients(ctx, sources.PatientQuery{LocalID: r.LocalID})
		if err != nil || len(found) != 1 || !strings.EqualFold(found[0].Name, c.Person.Name) {
			t.Fatalf("%s/%s %s: found %+v (%v)", r.FacilityHFRID, r.SourceCode, r.LocalID, found, err)
		}
		ccs, err := conn.CareContexts(ctx, r.LocalID, from, to)
		if err != nil {
			t.Fatal(err)
		}
		if contexts[r.FacilityHFRID] == nil {
			contexts[r.FacilityHFRID] = map[string]sources.CareContext{}
		}
		for _, cc := range ccs {
			contexts[r.FacilityHFRID][cc.Reference] = cc
		}
	}
	first, second := c.Stays[0], c.Stays[1]
	wantRefs := map[string][]string{first.HFRID: {"his:admission:" + first.Admission, "ris:study:" + first.Studies[0]}, second.HFRID: {"his:ipd:" + second.Admission}}
	for i, s := range c.Stays {
		for _, v := range s.Visits {
			wantRefs[s.HFRID] = append(wantRefs[s.HFRID], "his:"+[]string{"visit", "opd"}[i]+":"+v)
		}
		for _, o := range s.LabOrders {
			wantRefs[s.HFRID] = append(wantRefs[s.HFRID], "lims:order:"+o)
		}
		for _, b := range s.Bills {
			wantRefs[s.HFRID] = append(wantRefs[s.HFRID], "billing:bill:"+b)
		}
	}
	for hfr, refs := range wantRefs {
		for _, ref := range refs {
			if _, ok := contexts[hfr][ref]; !ok {
				t.Errorf("%s: no care context %s; have %v", hfr, ref, slices.Sorted(maps.Keys(contexts[hfr])))
			}
		}
	}
	if len(second.Bills) != 2 || contexts[second.HFRID]["billing:bill:"+second.Bills[1]].HIType != sources.Invoice {
		t.Errorf("Mysuru bills %v: want two, of hiType Invoice", second.Bills)
	}

	fetch := func(hfr, ref string) *sources.Content {
		t.Helper()
		code, cref, err := sources.ParseReference(ref)
		if err != nil {
			t.Fatal(err)
		}
		content, err := conns[hfr+"/"+code].Fetch(ctx, cref)
		if err != nil {
			t.Fatalf("%s %s: %v", hfr, ref, err)
		}
		for _, r := range content.Resources {
			if err := fhirvalidate.Validate(r); err != nil {
				t.Errorf("%s: invalid resource: %v", ref, err)
			}
		}
		return content
	}

	// Both stays: ICD-10 diagnoses, the procedure, a discharge summary,
	// and the encounter numbered as the HIS numbers it.
	for i, s := range c.Stays {
		typ := map[int]string{0: "admission", 1: "ipd"}[i]
		content := fetch(s.HFRID, "his:"+typ+":"+s.Admission)
		var icd, procs []string
		summaries, admission := 0, ""
		for _, r := range content.Resources {
			switch {
			case r.GetCondition() != nil:
				for _, k := range r.GetCondition().GetCode().GetCoding() {
					if k.GetSystem().GetValue() == "http://hl7.org/fhir/sid/icd-10" && k.GetDisplay().GetValue() != "" {
						icd = append(icd, k.GetCode().GetValue())
					}
				}
			case r.GetProcedure() != nil:
				p := r.GetProcedure()
				for _, k := range p.GetCode().GetCoding() {
					if k.GetSystem().GetValue() == "http://snomed.info/sct" {
						procs = append(procs, k.GetCode().GetValue())
					}
				}
				if p.GetPerformed().GetPeriod().GetStart() == nil || p.GetEncounter() == nil || len(p.GetPerformer()) == 0 {
					t.Errorf("%s: procedure without period, encounter or performer: %v", s.HFRID, p)
				}
			case r.GetDocumentReference() != nil:
				if strings.Contains(string(r.GetDocumentReference().GetContent()[0].GetAttachment().GetData().GetValue()), "Diagnosis:") {
					summaries++
				}
			case r.GetEncounter() != nil:
				admission = r.GetEncounter().GetIdentifier()[0].GetValue().GetValue()
			}
		}
		if diff := cmp.Diff(s.Diagnoses, icd); diff != "" {
			t.Errorf("%s: ICD-10 diagnoses (-want +got):\n%s", s.HFRID, diff)
		}
		if diff := cmp.Diff(s.Procedures, procs); diff != "" || len(procs) == 0 {
			t.Errorf("%s: procedures (-want +got):\n%s", s.HFRID, diff)
		}
		if summaries != 1 || admission != s.Admission {
			t.Errorf("%s: %d discharge summaries, encounter numbered %q; want 1 and %s", s.HFRID, summaries, admission, s.Admission)
		}
	}

	// Bengaluru's ultrasound report reads as the radiologist wrote it.
	study := fetch(first.HFRID, "ris:study:"+first.Studies[0])
	reported := false
	for _, r := range study.Resources {
		if dr := r.GetDiagnosticReport(); dr != nil && strings.Contains(dr.GetConclusion().GetValue(), "Acute appendicitis") && len(dr.GetImagingStudy()) == 1 {
			reported = true
		}
	}
	if !reported {
		t.Error("the Bengaluru ultrasound has no report concluding acute appendicitis")
	}

	// The Mysuru stay's bill: an IPD invoice whose lines and totals agree,
	// with the caesarean package, billed against the HIS's encounter.
	bill := fetch(second.HFRID, "billing:bill:"+second.Bills[1])
	lines, total := new(big.Rat), (*big.Rat)(nil)
	var packages []string
	groups := map[string]bool{}
	encounter := ""
	for _, r := range bill.Resources {
		switch {
		case r.GetInvoice() != nil:
			inv := r.GetInvoice()
			if inv.GetIdentifier()[0].GetValue().GetValue() != second.Bills[1] || inv.GetType().GetCoding()[0].GetCode().GetValue() != "02" {
				t.Errorf("invoice %v of type %v, want %s of type 02 IPD", inv.GetIdentifier(), inv.GetType(), second.Bills[1])
			}
			total = rat(t, inv.GetTotalGross())
			if len(inv.GetLineItem()) < 8 {
				t.Errorf("the stay's bill has %d lines; want it itemised", len(inv.GetLineItem()))
			}
		case r.GetChargeItem() != nil:
			ci := r.GetChargeItem()
			lines.Add(lines, rat(t, ci.GetPriceOverride()))
			groups[ci.GetCode().GetCoding()[0].GetDisplay().GetValue()] = true
			for _, k := range ci.GetProduct().GetCodeableConcept().GetCoding() {
				if k.GetSystem().GetValue() == "https://demo.sangam.health/hbp-package" {
					packages = append(packages, k.GetCode().GetValue())
				}
			}
		case r.GetEncounter() != nil:
			encounter = r.GetEncounter().GetIdentifier()[0].GetValue().GetValue()
		}
	}
	if total == nil || lines.Cmp(total) != 0 || lines.Sign() <= 0 {
		t.Errorf("bill total %v, lines add up to %v", total, lines.FloatString(2))
	}
	if !cmp.Equal(packages, []string{"MO024A"}) {
		t.Errorf("packages billed = %v, want the caesarean section package", packages)
	}
	for _, g := range []string{"IPD", "Nursing Charges", "Consultation", "Pathology", "Medicines", "Others"} {
		if !groups[g] {
			t.Errorf("no %s line on the stay's bill (have %v)", g, groups)
		}
	}
	if encounter != second.Admission {
		t.Errorf("bill is for encounter %q, want the HIS's %s", encounter, second.Admission)
	}
}

func rat(t *testing.T, m *d4pb.Money) *big.Rat {
	t.Helper()
	r, ok := new(big.Rat).SetString(m.GetValue().GetValue())
	if !ok || m.GetCurrency().GetValue() != "INR" {
		t.Fatalf("amount %v is not a decimal in INR", m)
	}
	return r
}
