package nrces

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

// Inputs as the claims package would give them: one admission at the
// group's main hospital, with evidence from its diagnostic centre.

var (
	admission    = time.Date(2026, 3, 7, 11, 0, 0, 0, testIST)
	mainHospital = Provider{Name: "Sangam City Hospital", HFRID: "IN2710000123", ROHINIID: "8900012345",
		Phone: "+918000000000", Email: "tpa@sangam.example"}
	diagnosticCentre = Provider{Name: "Sangam Diagnostics, Baner", HFRID: "IN2710000456", Phone: "+918000000001"}
	sampleInsurer    = Insurer{Name: "XYZ Insurance Co. Ltd.", ParticipantCode: "1000003538@hcx", Phone: "+912426341234"}
	sampleCoverage   = Coverage{PolicyNumber: "100217", PolicySystem: "https://xyzinsurance.in/policynumber/",
		MemberID: "ABC123456BI007", PlanID: "GOLD-5L", PlanName: "Gold 5 lakh family floater", End: "2027-03-17"}
	nhcxPatient = Patient{Name: "Adarsh Agrawal", Gender: "male", BirthDate: "1981-01-12", Phone: "+919818512600",
		ABHANumber: "91-1234-5678-9012"}
	cardiologist = Practitioner{Name: "Dr. Aayush Agrawal", HPRID: "71-1521-3828-3227"}
	radiologist  = Practitioner{Name: "Dr. Meera Iyer", HPRID: "71-9000-1111-2222"}
)

func mustCoding(c Coding, ok bool) Coding {
	if !ok {
		panic("unknown code " + c.Code)
	}
	return c
}

// samplePreauth is the pre-authorization of an angioplasty, with the
// angiography report from the diagnostic centre and the estimate from the
// hospital.
func samplePreauth() *ClaimRequest {
	return &ClaimRequest{
		Use:        ClaimUsePreauthorization,
		Identifier: Identifier{System: "https://sangam.example/claims", Value: "CLM-2026-000042"},
		Type:       ClaimTypeInpatient,
		Created:    admission.Add(time.Hour),
		Patient:    nhcxPatient,
		Provider:   mainHospital,
		Insurer:    sampleInsurer,
		Coverage:   sampleCoverage,
		Encounter: &Encounter{Class: "IMP", Status: "in-progress", Start: admission,
			Identifier: &Identifier{System: "https://sangam.example/ip", Value: "IP-7781"}},
		CareTeam: []CareTeamMember{
			{Practitioner: cardiologist, Role: CareTeamRoleConsultant, Qualification: &CareTeamQualificationSpecialty, Responsible: true},
		},
		Diagnoses: []Diagnosis{{
			Code:  ConceptOf(ICD10("I21.9", "Acute myocardial infarction, unspecified"), SNOMED("22298006", "Myocardial infarction")),
			Types: []Coding{DiagnosisTypeAdmitting, DiagnosisTypePreliminary},
		}},
		Procedures: []ClaimProcedure{{Code: ConceptOf(SNOMED("418285008", "Angioplasty of blood vessel")), Date: admission.Add(6 * time.Hour)}},
		Items: []ClaimItem{
			{ProductOrService: SNOMED("77343006", "Angiography"), UnitPrice: "10000", Serviced: admission,
				CareTeam: []int{1}, Diagnoses: []int{1}, Information: []int{1}},
			{ProductOrService: SNOMED("418285008", "Angioplasty of blood vessel"), UnitPrice: "40000",
				CareTeam: []int{1}, Procedures: []int{1}},
			{ProductOrService: SNOMED("309904001", "Intensive care unit"), Quantity: &Quantity{Value: "3", Unit: "day"},
				UnitPrice: "2000.50", Location: &Coding{SystemSNOMED, "309904001", "Intensive care unit"}},
		},
		SupportingInfo: []SupportingInfo{
			{
				Category: mustCoding(SupportingInfoCategory("INV")),
				Code:     mustCoding(SupportingInfoCode("RDR")),
				Document: &ClaimDocument{
					File:   File{ContentType: "application/pdf", Data: samplePDF, Title: "Coronary angiography report", Created: admission},
					Type:   ConceptOf(SNOMED("4261000179100", "Radiology report")),
					Date:   admission.Add(2 * time.Hour),
					Origin: &diagnosticCentre, Author: &radiologist,
				},
			},
			{
				Category: mustCoding(SupportingInfoCategory("MB")),
				Code:     mustCoding(SupportingInfoCode("ESB")),
				Document: &ClaimDocument{
					File: File{ContentType: "application/pdf", Data: samplePDF, Title: "Estimate", Created: admission},
					Date: admission.Add(3 * time.Hour),
				},
			},
			{
				Category: mustCoding(SupportingInfoCategory("ONS")),
				Code:     mustCoding(SupportingInfoCode("PIS")),
				Start:    admission, End: admission.Add(72 * time.Hour),
				Text: "ICU stay planned for 3 days",
			},
		},
	}
}

// sampleEnhancement asks for more after the stay grew.
func sampleEnhancement(preauth *ClaimRequest) *ClaimRequest {
	c := *preauth
	c.Created = admission.Add(72 * time.Hour)
	c.PreAuthRef = "PA-99812"
	c.Related = []RelatedClaim{{Relationship: "enhancement", Claim: preauth}}
	c.Items = append(append([]ClaimItem(nil), preauth.Items...), ClaimItem{
		ProductOrService: SNOMED("309904001", "Intensive care unit"), Quantity: &Quantity{Value: "2", Unit: "day"}, UnitPrice: "2000.50",
	})
	c.SupportingInfo = []SupportingInfo{{
		Category: mustCoding(SupportingInfoCategory("DIA")),
		Code:     mustCoding(SupportingInfoCode("LIR")),
		Document: &ClaimDocument{
			File:   File{ContentType: "application/pdf", Data: samplePDF, Title: "Troponin I", Created: admission.Add(70 * time.Hour)},
			Origin: &diagnosticCentre,
		},
	}}
	for i := range c.Items {
		c.Items[i].Information = nil
	}
	return &c
}

// sampleFinal settles the episode after discharge.
func sampleFinal(enhancement *ClaimRequest) *ClaimRequest {
	c := *enhancement
	c.Use = ClaimUseClaim
	c.Created = admission.Add(6 * 24 * time.Hour)
	c.Related = []RelatedClaim{{Relationship: "settlement", Claim: enhancement}}
	enc := *enhancement.Encounter
	enc.Status, enc.End = "finished", admission.Add(5*24*time.Hour)
	c.Encounter = &enc
	c.Diagnoses = []Diagnosis{{
		Code:  ConceptOf(ICD10("I21.9", "Acute myocardial infarction, unspecified")),
		Types: []Coding{DiagnosisTypeDischarge, DiagnosisTypeFinal},
	}}
	c.SupportingInfo = []SupportingInfo{
		{
			Category: mustCoding(SupportingInfoCategory("HDS")),
			Code:     mustCoding(SupportingInfoCode("DCR")),
			Document: &ClaimDocument{File: File{ContentType: "application/pdf", Data: samplePDF, Title: "Discharge summary"}},
		},
		{
			Category: mustCoding(SupportingInfoCategory("MB")),
			Code:     mustCoding(SupportingInfoCode("FB")),
			Document: &ClaimDocument{File: File{ContentType: "application/pdf", Data: samplePDF, Title: "Final bill"}},
		},
	}
	return &c
}

func sampleEligibility(purpose EligibilityPurpose) *EligibilityRequest {
	return &EligibilityRequest{
		Purposes: []EligibilityPurpose{purpose},
		Created:  admission.Add(-time.Hour),
		Patient:  nhcxPatient,
		Enterer:  cardiologist,
		Provider: mainHospital,
		Facility: &Location{Name: "Cardiac wing, second floor", Identifier: "B1-S.F2"},
		Insurer:  sampleInsurer,
		Coverage: sampleCoverage,
		Items: []EligibilityItem{{
			ProductOrService: SNOMED("418285008", "Angioplasty of blood vessel"),
			UnitPrice:        "40000",
			Diagnoses:        []Concept{ConceptOf(ICD10("I21.9", "Acute myocardial infarction, unspecified"))},
		}},
	}
}

func sampleReply() *CommunicationReply {
	return &CommunicationReply{
		Provider: mainHospital, Insurer: sampleInsurer, Patient: &nhcxPatient,
		Request:     Identifier{System: "https://xyzinsurance.in/communication", Value: "4524657454"},
		Claim:       Identifier{System: "https://sangam.example/claims", Value: "CLM-2026-000042"},
		Message:     "Angiography report attached as asked.",
		Attachments: []File{{ContentType: "application/pdf", Data: samplePDF, Title: "Angiography report", Language: "en-IN"}},
	}
}

func sampleAck() *PaymentAck {
	return &PaymentAck{
		Provider: mainHospital, Insurer: sampleInsurer,
		PaymentNotice: Identifier{System: "https://xyzinsurance.in/paymentnotice", Value: "PN-000881"},
		Claim:         Identifier{System: "https://sangam.example/claims", Value: "CLM-2026-000042"},
	}
}

// gateClean checks a built bundle again with a fresh gate, as a receiver
// would, and fails on any error.
func gateClean(t *testing.T, data []byte) jobj {
	t.Helper()
	fs, err := newTestGate(t).Check(context.Background(), data)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fs {
		if f.Severity == SeverityError {
			t.Errorf("gate error: %s", f)
		} else {
			t.Logf("warning: %s", f)
		}
	}
	root, err := decodeBundleJSON(data)
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// resourcesOf returns the bundle's resources of type typ.
func resourcesOf(root jobj, typ string) []jobj {
	var out []jobj
	for _, e := range jarray(root, "entry") {
		if r := jobject(e.(jobj), "resource"); jstr(r, "resourceType") == typ {
			out = append(out, r)
		}
	}
	return out
}

// fullURLOf returns the fullUrl of the entry holding res.
func fullURLOf(root jobj, res jobj) string {
	for _, e := range jarray(root, "entry") {
		if eo := e.(jobj); jstr(jobject(eo, "resource"), "id") == jstr(res, "id") {
			return jstr(eo, "fullUrl")
		}
	}
	return ""
}

func checkEnvelopeShape(t *testing.T, root jobj, profile, focal string) {
	t.Helper()
	if got := jstr(root, "type"); got != "collection" {
		t.Errorf("Bundle.type = %q, want collection", got)
	}
	if p := jprofiles(root); len(p) != 1 || p[0] != profileBase+profile {
		t.Errorf("Bundle.meta.profile = %v, want %s", p, profileBase+profile)
	}
	if sec := jarray(jobject(root, "meta"), "security"); len(sec) != 1 || jstr(sec[0].(jobj), "code") != "V" {
		t.Errorf("Bundle.meta.security = %v, want v3-Confidentiality V", sec)
	}
	if ts := jstr(root, "timestamp"); !strings.HasSuffix(ts, "+05:30") {
		t.Errorf("Bundle.timestamp = %q, want +05:30", ts)
	}
	if id := jobject(root, "identifier"); jstr(id, "system") == "" || jstr(id, "value") == "" {
		t.Errorf("Bundle.identifier = %v, want system and value", id)
	}
	if got := jstr(entryResource(root, 0), "resourceType"); got != focal {
		t.Errorf("first entry is %s, want %s", got, focal)
	}
	for i, e := range jarray(root, "entry") {
		if u := jstr(e.(jobj), "fullUrl"); !urnUUIDPattern.MatchString(u) {
			t.Errorf("entry[%d].fullUrl = %q, want urn:uuid", i, u)
		}
	}
}

// TestClaimEpisode builds the pre-authorization, the enhancement and the
// final claim of one admission and checks each bundle passes the gate and
// carries what the payer needs.
func TestClaimEpisode(t *testing.T) {
	b := newTestBuilder(t, fixedConfig())
	ctx := context.Background()
	preauth := samplePreauth()
	enh := sampleEnhancement(preauth)
	final := sampleFinal(enh)

	t.Run("preauthorization", func(t *testing.T) {
		built, err := b.Claim(ctx, preauth)
		if err != nil {
			t.Fatal(err)
		}
		root := gateClean(t, built.JSON)
		checkEnvelopeShape(t, root, "ClaimBundle", "Claim")
		claim := entryResource(root, 0)
		if got := jstr(claim, "use"); got != "preauthorization" {
			t.Errorf("use = %q", got)
		}
		// 10000 + 40000 + 3 × 2000.50
		if got := jnumber(jobject(claim, "total")["value"]); got != "56001.50" {
			t.Errorf("total = %s, want 56001.50", got)
		}
		if got := jnumber(jobject(jarray(claim, "item")[2].(jobj), "net")["value"]); got != "6001.50" {
			t.Errorf("item[2].net = %s, want 6001.50", got)
		}
		if bp := jobject(claim, "billablePeriod"); !strings.HasPrefix(jstr(bp, "start"), "2026-03-07T11:00:00+05:30") {
			t.Errorf("billablePeriod = %v", bp)
		}
		// Two facilities, each its own Organization with its HFR id; the
		// radiology report is the diagnostic centre's, the estimate the
		// hospital's.
		orgs := map[string]string{} // HFR id → fullUrl
		for _, o := range resourcesOf(root, "Organization") {
			for _, id := range jarray(o, "identifier") {
				if io := id.(jobj); jstr(io, "system") == DefaultHFRSystem {
					orgs[jstr(io, "value")] = fullURLOf(root, o)
				}
			}
		}
		if len(orgs) != 2 || orgs[mainHospital.HFRID] == "" || orgs[diagnosticCentre.HFRID] == "" {
			t.Fatalf("provider organisations by HFR id = %v, want the hospital and the diagnostic centre", orgs)
		}
		docs := resourcesOf(root, "DocumentReference")
		if len(docs) != 2 {
			t.Fatalf("%d DocumentReferences, want 2", len(docs))
		}
		wantCustodian := map[string]string{
			"Coronary angiography report": orgs[diagnosticCentre.HFRID],
			"Estimate":                    orgs[mainHospital.HFRID],
		}
		for _, d := range docs {
			att := jobject(jarray(d, "content")[0].(jobj), "attachment")
			title := jstr(att, "title")
			if got := jstr(jobject(d, "custodian"), "reference"); got != wantCustodian[title] {
				t.Errorf("%s: custodian %s, want %s", title, got, wantCustodian[title])
			}
			if jstr(att, "contentType") != "application/pdf" || jstr(att, "data") == "" {
				t.Errorf("%s: attachment %v lacks contentType or data", title, att)
			}
		}
		si := jarray(claim, "supportingInfo")
		if len(si) != 3 {
			t.Fatalf("%d supportingInfo, want 3", len(si))
		}
		cat := jarray(jobject(si[0].(jobj), "category"), "coding")[0].(jobj)
		if jstr(cat, "system") != SystemSupportingInfoCategory || jstr(cat, "code") != "INV" || jstr(cat, "display") == "" {
			t.Errorf("supportingInfo[0].category = %v", cat)
		}
		if got := len(resourcesOf(root, "Practitioner")); got != 2 {
			t.Errorf("%d Practitioners, want 2 (cardiologist, radiologist)", got)
		}
	})

	t.Run("enhancement", func(t *testing.T) {
		built, err := b.Claim(ctx, enh)
		if err != nil {
			t.Fatal(err)
		}
		root := gateClean(t, built.JSON)
		claims := resourcesOf(root, "Claim")
		if len(claims) != 2 {
			t.Fatalf("%d Claims, want the enhancement and the pre-authorization", len(claims))
		}
		rel := jarray(claims[0], "related")[0].(jobj)
		c := jarray(jobject(rel, "relationship"), "coding")[0].(jobj)
		if jstr(c, "system") != SystemRelatedClaimRelationship || jstr(c, "code") != "enhancement" || jstr(c, "display") != "Enhancement" {
			t.Errorf("related.relationship = %v", c)
		}
		if got := jstr(jobject(rel, "claim"), "reference"); got != fullURLOf(root, claims[1]) {
			t.Errorf("related.claim = %s, want the carried pre-authorization %s", got, fullURLOf(root, claims[1]))
		}
		if got := jarray(jarray(claims[0], "insurance")[0].(jobj), "preAuthRef"); len(got) != 1 || got[0] != "PA-99812" {
			t.Errorf("insurance.preAuthRef = %v", got)
		}
		if len(jarray(claims[1], "supportingInfo")) != 0 {
			t.Errorf("the carried pre-authorization repeats its supporting documents")
		}
	})

	t.Run("final", func(t *testing.T) {
		built, err := b.Claim(ctx, final)
		if err != nil {
			t.Fatal(err)
		}
		root := gateClean(t, built.JSON)
		claims := resourcesOf(root, "Claim")
		if len(claims) != 3 {
			t.Fatalf("%d Claims, want final, enhancement and pre-authorization", len(claims))
		}
		uses := []string{jstr(claims[0], "use"), jstr(claims[1], "use"), jstr(claims[2], "use")}
		if uses[0] != "claim" || uses[1] != "preauthorization" || uses[2] != "preauthorization" {
			t.Errorf("uses = %v", uses)
		}
		code := func(c jobj) string {
			return jstr(jarray(jobject(jarray(c, "related")[0].(jobj), "relationship"), "coding")[0].(jobj), "code")
		}
		if code(claims[0]) != "settlement" || code(claims[1]) != "enhancement" {
			t.Errorf("relationships = %s, %s; want settlement, enhancement", code(claims[0]), code(claims[1]))
		}
		if got := len(resourcesOf(root, "Patient")); got != 1 {
			t.Errorf("%d Patients, want 1 shared by all claims", got)
		}
		if end := jstr(jobject(claims[0], "billablePeriod"), "end"); !strings.HasPrefix(end, "2026-03-12") {
			t.Errorf("billablePeriod.end = %q, want the discharge", end)
		}
	})
}

func TestCoverageEligibilityRequestEveryPurpose(t *testing.T) {
	b := newTestBuilder(t, fixedConfig())
	for _, p := range []EligibilityPurpose{PurposeValidation, PurposeBenefits, PurposeAuthRequirements, PurposeDiscovery} {
		t.Run(string(p), func(t *testing.T) {
			built, err := b.CoverageEligibilityRequest(context.Background(), sampleEligibility(p))
			if err != nil {
				t.Fatal(err)
			}
			root := gateClean(t, built.JSON)
			checkEnvelopeShape(t, root, "CoverageEligibilityRequestBundle", "CoverageEligibilityRequest")
			cer := entryResource(root, 0)
			if got := jarray(cer, "purpose"); len(got) != 1 || got[0] != string(p) {
				t.Errorf("purpose = %v", got)
			}
			loc := resourcesOf(root, "Location")
			if len(loc) != 1 || jstr(jobject(cer, "facility"), "reference") != fullURLOf(root, loc[0]) {
				t.Errorf("facility does not point to the Location")
			}
			cov := resourcesOf(root, "Coverage")
			if len(cov) != 1 || jstr(cov[0], "subscriberId") != "ABC123456BI007" {
				t.Fatalf("coverage = %v", cov)
			}
			if cl := jarray(cov[0], "class"); len(cl) != 1 || jstr(cl[0].(jobj), "value") != "GOLD-5L" {
				t.Errorf("coverage class = %v", cl)
			}
			var insurerHasCode bool
			for _, o := range resourcesOf(root, "Organization") {
				for _, id := range jarray(o, "identifier") {
					if jstr(id.(jobj), "value") == "1000003538@hcx" {
						insurerHasCode = true
					}
				}
			}
			if !insurerHasCode {
				t.Error("no Organization carries the insurer's participant code")
			}
		})
	}
	t.Run("default facility", func(t *testing.T) {
		req := sampleEligibility(PurposeValidation)
		req.Facility, req.Items = nil, nil
		built, err := b.CoverageEligibilityRequest(context.Background(), req)
		if err != nil {
			t.Fatal(err)
		}
		root := gateClean(t, built.JSON)
		if loc := resourcesOf(root, "Location"); len(loc) != 1 || jstr(loc[0], "name") != mainHospital.Name {
			t.Errorf("default facility = %v", loc)
		}
	})
}

func TestCommunicationResponse(t *testing.T) {
	b := newTestBuilder(t, fixedConfig())
	built, err := b.CommunicationResponse(context.Background(), sampleReply())
	if err != nil {
		t.Fatal(err)
	}
	root := gateClean(t, built.JSON)
	checkEnvelopeShape(t, root, "TaskBundle", "Task")
	task := entryResource(root, 0)
	if !hasCoding(jobject(task, "code"), SystemTaskCode, "deliver") || jstr(task, "status") != "completed" {
		t.Errorf("task code/status = %v / %s", jobject(task, "code"), jstr(task, "status"))
	}
	in := jarray(task, "input")[0].(jobj)
	comms := resourcesOf(root, "Communication")
	if len(comms) != 1 || jstr(jobject(in, "valueReference"), "reference") != fullURLOf(root, comms[0]) {
		t.Fatalf("task input does not deliver the Communication")
	}
	if !hasCoding(jobject(in, "type"), SystemFinancialTaskInputType, "include") {
		t.Errorf("input type = %v", jobject(in, "type"))
	}
	basedOn := jobject(jarray(comms[0], "basedOn")[0].(jobj), "identifier")
	if jstr(basedOn, "value") != "4524657454" {
		t.Errorf("basedOn = %v", basedOn)
	}
	if len(jarray(comms[0], "payload")) != 2 {
		t.Errorf("payload = %v, want the message and the attachment", jarray(comms[0], "payload"))
	}
}

func TestPaymentAcknowledgement(t *testing.T) {
	b := newTestBuilder(t, fixedConfig())
	built, err := b.PaymentAcknowledgement(context.Background(), sampleAck())
	if err != nil {
		t.Fatal(err)
	}
	root := gateClean(t, built.JSON)
	checkEnvelopeShape(t, root, "TaskBundle", "Task")
	task := entryResource(root, 0)
	if !hasCoding(jobject(task, "code"), SystemFinancialTaskCode, "status") || jstr(task, "status") != "completed" {
		t.Errorf("task code/status = %v / %s", jobject(task, "code"), jstr(task, "status"))
	}
	out := jarray(task, "output")[0].(jobj)
	if !hasCoding(jobject(out, "valueCodeableConcept"), SystemTaskOutputValue, "paymentack") {
		t.Errorf("output = %v", out)
	}
	if got := jstr(jobject(jobject(task, "focus"), "identifier"), "value"); got != "PN-000881" {
		t.Errorf("focus = %v", jobject(task, "focus"))
	}
}

func TestNHCXBuildIsDeterministic(t *testing.T) {
	build := func() []byte {
		b := newTestBuilder(t, fixedConfig())
		built, err := b.Claim(context.Background(), sampleFinal(sampleEnhancement(samplePreauth())))
		if err != nil {
			t.Fatal(err)
		}
		return built.JSON
	}
	if a, c := build(), build(); !bytes.Equal(a, c) {
		t.Error("two builds with a fixed clock and ids differ")
	}
}

// TestNHCXMissingInput checks each builder refuses incomplete input with
// an ErrInvalidDocument naming the field.
func TestNHCXMissingInput(t *testing.T) {
	b := newTestBuilder(t, fixedConfig())
	ctx := context.Background()
	claim := func(change func(c *ClaimRequest)) func() error {
		return func() error {
			c := samplePreauth()
			change(c)
			_, err := b.Claim(ctx, c)
			return err
		}
	}
	eligibility := func(change func(r *EligibilityRequest)) func() error {
		return func() error {
			r := sampleEligibility(PurposeBenefits)
			change(r)
			_, err := b.CoverageEligibilityRequest(ctx, r)
			return err
		}
	}
	tests := []struct {
		name string
		run  func() error
		want string // in the error message
	}{
		{"claim number", claim(func(c *ClaimRequest) { c.Identifier = Identifier{} }), "Identifier.Value is required"},
		{"claim type", claim(func(c *ClaimRequest) { c.Type = Coding{} }), "Type is required"},
		{"claim use", claim(func(c *ClaimRequest) { c.Use = "" }), "Use \"\" is not preauthorization"},
		{"bad claim use", claim(func(c *ClaimRequest) { c.Use = "settlement" }), "Use \"settlement\" is not"},
		{"no diagnosis", claim(func(c *ClaimRequest) { c.Diagnoses = nil }), "Diagnoses needs at least one"},
		{"diagnosis without type", claim(func(c *ClaimRequest) { c.Diagnoses[0].Types = nil }), "Diagnoses[0].Types needs at least one"},
		{"diagnosis text only", claim(func(c *ClaimRequest) { c.Diagnoses[0].Code = TextConcept("heart attack") }), "Diagnoses[0].Code needs an ICD-10 or SNOMED CT coding"},
		{"diagnosis without display", claim(func(c *ClaimRequest) { c.Diagnoses[0].Code.Codings[0].Display = "" }), "Diagnoses[0].Code.Codings[0] needs system, code and display"},
		{"no items", claim(func(c *ClaimRequest) { c.Items = nil }), "Items needs at least one"},
		{"item without display", claim(func(c *ClaimRequest) { c.Items[0].ProductOrService.Display = "" }), "Items[0].ProductOrService needs system, code and display"},
		{"item without price", claim(func(c *ClaimRequest) { c.Items[1].UnitPrice = "" }), "Items[1] needs Net or a decimal UnitPrice"},
		{"item links", claim(func(c *ClaimRequest) { c.Items[0].CareTeam = []int{2} }), "Items[0].CareTeam: 2 is not between 1 and 1"},
		{"wrong total", claim(func(c *ClaimRequest) { c.Total = "70000" }), "Total 70000 differs from the sum of the items' Net, 56001.50"},
		{"supporting info without code", claim(func(c *ClaimRequest) { c.SupportingInfo[0].Code = Coding{} }), "SupportingInfo[0].Code needs system, code and display"},
		{"supporting info without category display", claim(func(c *ClaimRequest) { c.SupportingInfo[1].Category.Display = "" }), "SupportingInfo[1].Category needs system, code and display"},
		{"document without data", claim(func(c *ClaimRequest) { c.SupportingInfo[0].Document.File.Data = nil }), "SupportingInfo[0].Document.File needs ContentType and Data"},
		{"document origin without HFR id", claim(func(c *ClaimRequest) { c.SupportingInfo[0].Document.Origin = &Provider{Name: "Lab"} }), "SupportingInfo[0].Document.Origin.HFRID is required"},
		{"insurer code", claim(func(c *ClaimRequest) { c.Insurer.ParticipantCode = "" }), "Insurer.ParticipantCode is required"},
		{"provider HFR id", claim(func(c *ClaimRequest) { c.Provider.HFRID = "" }), "Provider.HFRID is required"},
		{"policy number", claim(func(c *ClaimRequest) { c.Coverage.PolicyNumber = "" }), "Coverage.PolicyNumber is required"},
		{"patient name", claim(func(c *ClaimRequest) { c.Patient.Name = "" }), "Patient.Name is required"},
		{"care team identifier", claim(func(c *ClaimRequest) { c.CareTeam[0].Practitioner.HPRID = "" }), "CareTeam[0].Practitioner needs an identifier"},
		{"enhancement without preauth ref", claim(func(c *ClaimRequest) {
			c.Related = []RelatedClaim{{Relationship: "enhancement", Identifier: Identifier{Value: "CLM-2026-000042"}}}
		}), "PreAuthRef is required with a enhancement relation"},
		{"settlement of a preauthorization", claim(func(c *ClaimRequest) {
			c.PreAuthRef = "PA-1"
			c.Related = []RelatedClaim{{Relationship: "settlement", Identifier: Identifier{Value: "CLM-2026-000042"}}}
		}), "Related[0]: a settlement is a claim"},
		{"unknown relationship", claim(func(c *ClaimRequest) {
			c.Related = []RelatedClaim{{Relationship: "replaces", Identifier: Identifier{Value: "X"}}}
		}), "Related[0].Relationship \"replaces\""},
		{"related without target", claim(func(c *ClaimRequest) {
			c.Related = []RelatedClaim{{Relationship: "prior"}}
		}), "Related[0] needs the earlier Claim or its Identifier"},
		{"embedded claim checked", claim(func(c *ClaimRequest) {
			prior := samplePreauth()
			prior.Items = nil
			c.PreAuthRef = "PA-1"
			c.Related = []RelatedClaim{{Relationship: "enhancement", Claim: prior}}
		}), "Related[0].Claim.Items needs at least one"},
		{"no purpose", eligibility(func(r *EligibilityRequest) { r.Purposes = nil }), "Purposes needs at least one"},
		{"bad purpose", eligibility(func(r *EligibilityRequest) { r.Purposes = []EligibilityPurpose{"eligibility"} }), "Purposes[0]"},
		{"no enterer", eligibility(func(r *EligibilityRequest) { r.Enterer = Practitioner{} }), "Enterer needs an identifier"},
		{"eligibility item", eligibility(func(r *EligibilityRequest) { r.Items[0].ProductOrService = Coding{} }), "Items[0].ProductOrService needs system, code and display"},
		{"bad priority", eligibility(func(r *EligibilityRequest) { r.Priority = "urgent" }), "Priority \"urgent\" is not a valid code"},
		{"bad relationship", eligibility(func(r *EligibilityRequest) { r.Coverage.Relationship = "cousin" }), "Coverage.Relationship \"cousin\""},
		{"bad policy end", eligibility(func(r *EligibilityRequest) { r.Coverage.End = "17/03/2027" }), "Coverage.End"},
		{"reply without request", func() error {
			r := sampleReply()
			r.Request = Identifier{}
			_, err := b.CommunicationResponse(ctx, r)
			return err
		}, "Request.Value is required"},
		{"empty reply", func() error {
			r := sampleReply()
			r.Message, r.Attachments = "", nil
			_, err := b.CommunicationResponse(ctx, r)
			return err
		}, "a reply needs a Message or at least one Attachment"},
		{"ack without notice", func() error {
			a := sampleAck()
			a.PaymentNotice = Identifier{}
			_, err := b.PaymentAcknowledgement(ctx, a)
			return err
		}, "PaymentNotice.Value is required"},
		{"nil claim", func() error { _, err := b.Claim(ctx, nil); return err }, "no claim"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.run()
			if !errors.Is(err, ErrInvalidDocument) {
				t.Fatalf("err = %v, want ErrInvalidDocument", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want it to say %q", err, tt.want)
			}
		})
	}
}

// TestNHCXBuildGoesThroughTheGate checks a bundle the builder cannot see
// is wrong still stops at the gate: an HFR namespace on a patient.
func TestNHCXBuildGoesThroughTheGate(t *testing.T) {
	b := newTestBuilder(t, fixedConfig())
	c := samplePreauth()
	c.Patient.Identifiers = []Identifier{{Type: idTypeMR, System: DefaultHFRSystem, Value: "MRN-1"}}
	_, err := b.Claim(context.Background(), c)
	var rej *RejectedError
	if !errors.As(err, &rej) {
		t.Fatalf("err = %v, want a *RejectedError", err)
	}
	found := false
	for _, f := range rej.Findings {
		if f.Rule == "nrces-identifier-system" && f.Severity == SeverityError {
			found = true
		}
	}
	if !found || len(rej.Bundle) == 0 {
		t.Errorf("rejection %v lacks the identifier finding or the bundle", rej)
	}
}

func TestNHCXBuildHonoursContext(t *testing.T) {
	b := newTestBuilder(t, fixedConfig())
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := b.Claim(ctx, samplePreauth()); !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
}
