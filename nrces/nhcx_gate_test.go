package nrces

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/sangamhealth/sangam/sharedtest"
)

// The NRCeS NHCX examples adapted for the NHCX sandbox dummy payer
// (../shared/testdata/nhcx/SOURCES.md §1). They are the only NHCX bundles
// published as JSON; the other IG instances exist only as FSH.
const (
	exampleClaimBundle       = "nrces-nhcx__ClaimBundle-preauthorization-dummyPayer.json"
	exampleEligibilityBundle = "nrces-nhcx__CoverageEligibilityRequestBundle-validation-dummyPayer.json"
)

func nhcxExample(t *testing.T, name string) []byte {
	t.Helper()
	return nhcxExampleTB(t, name)
}

func nhcxExampleTB(tb testing.TB, name string) []byte {
	tb.Helper()
	return sharedtest.Read(tb, "nhcx", name)
}

func checkFindings(t *testing.T, data []byte) []Finding {
	t.Helper()
	fs, err := newTestGate(t).Check(context.Background(), data)
	if err != nil {
		t.Fatal(err)
	}
	return fs
}

func TestGateAcceptsNHCXExamples(t *testing.T) {
	for _, name := range []string{exampleClaimBundle, exampleEligibilityBundle} {
		t.Run(name, func(t *testing.T) {
			data := nhcxExample(t, name)
			if kind := nhcxKindOf(mustDecode(t, data)); kind == nil {
				t.Fatal("not recognised as an NHCX bundle")
			}
			for _, f := range checkFindings(t, data) {
				if f.Severity == SeverityError {
					t.Errorf("unexpected error: %s", f)
				} else {
					t.Logf("warning: %s", f)
				}
			}
		})
	}
}

func mustDecode(t *testing.T, data []byte) jobj {
	t.Helper()
	root, err := decodeBundleJSON(data)
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// TestGateRecognisesNHCXWithoutProfile checks a bundle that claims no
// profile is still judged by what it carries.
func TestGateRecognisesNHCXWithoutProfile(t *testing.T) {
	data := mutate(t, nhcxExample(t, exampleClaimBundle), func(b jobj) { delete(b, "meta") })
	if kind := nhcxKindOf(mustDecode(t, data)); kind != kindClaim {
		t.Fatalf("kind = %v, want ClaimBundle", kind)
	}
	warned := false
	for _, f := range checkFindings(t, data) {
		if f.Severity == SeverityError {
			t.Errorf("unexpected error: %s", f)
		}
		if f.Rule == "nhcx-profile" && f.Location == "Bundle.meta.profile" {
			warned = true
		}
	}
	if !warned {
		t.Error("no nhcx-profile warning for the missing profile claim")
	}
}

// TestGateRejectsOldHCXDocuments checks the HCX v0.x document bundles,
// which NHCX refuses, fail with the bundle-type rule rather than as broken
// health records.
func TestGateRejectsOldHCXDocuments(t *testing.T) {
	for _, name := range []string{
		"hcx-v0.x__Bundle-ClaimRequestDocument-example-01.json",
		"hcx-v0.x__Bundle-CoverageEligibilityRequestDocument-example-01.json",
	} {
		t.Run(name, func(t *testing.T) {
			found := false
			for _, f := range checkFindings(t, nhcxExample(t, name)) {
				if strings.HasPrefix(f.Rule, "nrces-composition") || strings.HasPrefix(f.Rule, "nrces-section") {
					t.Errorf("judged as a health record: %s", f)
				}
				if f.Rule == "nhcx-bundle-type" && f.Severity == SeverityError {
					found = true
				}
			}
			if !found {
				t.Error("no nhcx-bundle-type error")
			}
		})
	}
}

// builtNHCX returns bundles from the builders, for broken copies of the
// TaskBundles, which have no published JSON example.
func builtNHCX(t *testing.T) (reply, ack []byte) {
	t.Helper()
	b := newTestBuilder(t, fixedConfig())
	r, err := b.CommunicationResponse(context.Background(), sampleReply())
	if err != nil {
		t.Fatal(err)
	}
	a, err := b.PaymentAcknowledgement(context.Background(), sampleAck())
	if err != nil {
		t.Fatal(err)
	}
	return r.JSON, a.JSON
}

func TestGateRejectsBrokenNHCXCopies(t *testing.T) {
	claim := nhcxExample(t, exampleClaimBundle)
	cer := nhcxExample(t, exampleEligibilityBundle)
	reply, ack := builtNHCX(t)
	claimRes := func(b jobj) jobj { return entryResource(b, 0) }
	tests := []struct {
		name     string
		data     []byte
		change   func(t *testing.T, b jobj)
		rule     string
		location string // a prefix of the expected finding's location
	}{
		{
			name: "type document", data: claim,
			change: func(t *testing.T, b jobj) { b["type"] = "document" },
			rule:   "nhcx-bundle-type", location: "Bundle.type",
		},
		{
			name: "type transaction", data: cer,
			change: func(t *testing.T, b jobj) { b["type"] = "transaction" },
			rule:   "nhcx-bundle-type", location: "Bundle.type",
		},
		{
			name: "no Claim", data: claim,
			change: func(t *testing.T, b jobj) { b["entry"] = jarray(b, "entry")[1:] },
			rule:   "nhcx-entry-slice", location: "Bundle.entry",
		},
		{
			name: "two CoverageEligibilityRequests", data: cer,
			change: func(t *testing.T, b jobj) {
				e := jarray(b, "entry")
				dup := jobj{"fullUrl": "urn:uuid:0f6e1c52-93b2-4f55-8d8c-6a3c0a1e2b11", "resource": e[0].(jobj)["resource"]}
				b["entry"] = append(e, dup)
			},
			rule: "nhcx-entry-slice", location: "Bundle.entry",
		},
		{
			name: "diagnosis without type", data: claim,
			change: func(t *testing.T, b jobj) {
				delete(jarray(claimRes(b), "diagnosis")[0].(jobj), "type")
			},
			rule: "nhcx-required", location: "Bundle.entry[0].resource.diagnosis[0].type",
		},
		{
			name: "no diagnosis", data: claim,
			change: func(t *testing.T, b jobj) { delete(claimRes(b), "diagnosis") },
			rule:   "nhcx-required", location: "Bundle.entry[0].resource.diagnosis",
		},
		{
			name: "no claim identifier", data: claim,
			change: func(t *testing.T, b jobj) { delete(claimRes(b), "identifier") },
			rule:   "nhcx-required", location: "Bundle.entry[0].resource.identifier",
		},
		{
			name: "no insurer", data: claim,
			change: func(t *testing.T, b jobj) { delete(claimRes(b), "insurer") },
			rule:   "nhcx-required", location: "Bundle.entry[0].resource.insurer",
		},
		{
			name: "no items", data: claim,
			change: func(t *testing.T, b jobj) { delete(claimRes(b), "item") },
			rule:   "nhcx-required", location: "Bundle.entry[0].resource.item",
		},
		{
			name: "supportingInfo without code", data: claim,
			change: func(t *testing.T, b jobj) {
				claimRes(b)["supportingInfo"] = []any{jobj{
					"sequence": 1,
					"category": jobj{"coding": []any{jobj{"system": SystemSupportingInfoCategory, "code": "INV", "display": "Document Type - Investigation"}}},
				}}
			},
			rule: "nhcx-required", location: "Bundle.entry[0].resource.supportingInfo[0].code",
		},
		{
			name: "dangling reference", data: claim,
			change: func(t *testing.T, b jobj) {
				jobject(claimRes(b), "insurer")["reference"] = "urn:uuid:9d7a1b0e-55aa-4c1e-9a38-2f7b0f3d1c44"
			},
			rule: "nrces-reference-resolve", location: "Bundle.entry[0].resource.insurer.reference",
		},
		{
			name: "insurer is the patient", data: claim,
			change: func(t *testing.T, b jobj) {
				jobject(claimRes(b), "insurer")["reference"] = jstr(jobject(claimRes(b), "patient"), "reference")
			},
			rule: "nhcx-reference-type", location: "Bundle.entry[0].resource.insurer.reference",
		},
		{
			name: "care team role without display", data: claim,
			change: func(t *testing.T, b jobj) {
				ct := jarray(claimRes(b), "careTeam")[0].(jobj)
				delete(jarray(jobject(ct, "role"), "coding")[0].(jobj), "display")
			},
			rule: "nrces-coding", location: "Bundle.entry[0].resource.careTeam[0].role.coding[0]",
		},
		{
			name: "product without display", data: claim,
			change: func(t *testing.T, b jobj) {
				it := jarray(claimRes(b), "item")[1].(jobj)
				delete(jarray(jobject(it, "productOrService"), "coding")[0].(jobj), "display")
			},
			rule: "nrces-coding", location: "Bundle.entry[0].resource.item[1].productOrService.coding[0]",
		},
		{
			name: "diagnosis type without system", data: claim,
			change: func(t *testing.T, b jobj) {
				d := jarray(claimRes(b), "diagnosis")[0].(jobj)
				delete(jarray(jarray(d, "type")[0].(jobj), "coding")[0].(jobj), "system")
			},
			rule: "nrces-coding", location: "Bundle.entry[0].resource.diagnosis[0].type[0].coding[0]",
		},
		{
			name: "two related relationship codings", data: claim,
			change: func(t *testing.T, b jobj) {
				c := jobj{"system": SystemRelatedClaimRelationship, "code": "enhancement", "display": "Enhancement"}
				claimRes(b)["related"] = []any{jobj{"relationship": jobj{"coding": []any{c, c}}}}
			},
			rule: "nrces-coding", location: "Bundle.entry[0].resource.related[0].relationship.coding",
		},
		{
			name: "item refers to a missing care team member", data: claim,
			change: func(t *testing.T, b jobj) {
				jarray(claimRes(b), "item")[0].(jobj)["careTeamSequence"] = []any{7}
			},
			rule: "nhcx-claim-sequence", location: "Bundle.entry[0].resource.item[0].careTeamSequence[0]",
		},
		{
			name: "bad claim use", data: claim,
			change: func(t *testing.T, b jobj) { claimRes(b)["use"] = "enhancement" },
			rule:   "fhir-r4", location: "Bundle.entry[0].resource.use",
		},
		{
			name: "upper-case urn:uuid", data: claim,
			change: func(t *testing.T, b jobj) {
				e := jarray(b, "entry")[5].(jobj)
				e["fullUrl"] = "urn:uuid:" + strings.ToUpper(strings.TrimPrefix(jstr(e, "fullUrl"), "urn:uuid:"))
			},
			rule: "nrces-fullurl", location: "Bundle.entry[5].fullUrl",
		},
		{
			name: "repeated fullUrl", data: claim,
			change: func(t *testing.T, b jobj) {
				e := jarray(b, "entry")
				e[4].(jobj)["fullUrl"] = e[3].(jobj)["fullUrl"]
			},
			rule: "nrces-fullurl", location: "Bundle.entry[4].fullUrl",
		},
		{
			name: "entry without fullUrl", data: cer,
			change: func(t *testing.T, b jobj) { delete(jarray(b, "entry")[6].(jobj), "fullUrl") },
			rule:   "nrces-fullurl", location: "Bundle.entry[6].fullUrl",
		},
		{
			name: "bad purpose", data: cer,
			change: func(t *testing.T, b jobj) { entryResource(b, 0)["purpose"] = []any{"eligibility"} },
			rule:   "nhcx-eligibility-purpose", location: "Bundle.entry[0].resource.purpose[0]",
		},
		{
			name: "no purpose", data: cer,
			change: func(t *testing.T, b jobj) { delete(entryResource(b, 0), "purpose") },
			rule:   "nhcx-eligibility-purpose", location: "Bundle.entry[0].resource.purpose",
		},
		{
			name: "no insurance", data: cer,
			change: func(t *testing.T, b jobj) { delete(entryResource(b, 0), "insurance") },
			rule:   "nhcx-required", location: "Bundle.entry[0].resource.insurance",
		},
		{
			name: "no enterer", data: cer,
			change: func(t *testing.T, b jobj) { delete(entryResource(b, 0), "enterer") },
			rule:   "nhcx-required", location: "Bundle.entry[0].resource.enterer",
		},
		{
			name: "insurance coverage is the patient", data: cer,
			change: func(t *testing.T, b jobj) {
				cov := jobject(jarray(entryResource(b, 0), "insurance")[0].(jobj), "coverage")
				cov["reference"] = jstr(jobject(entryResource(b, 0), "patient"), "reference")
			},
			rule: "nhcx-reference-type", location: "Bundle.entry[0].resource.insurance[0].coverage.reference",
		},
		{
			name: "two request identifiers", data: cer,
			change: func(t *testing.T, b jobj) {
				r := entryResource(b, 0)
				r["identifier"] = append(jarray(r, "identifier"), jobj{"value": "7612346"})
			},
			rule: "nhcx-cardinality", location: "Bundle.entry[0].resource.identifier",
		},
		{
			name: "deliver task without input", data: reply,
			change: func(t *testing.T, b jobj) { delete(entryResource(b, 0), "input") },
			rule:   "nhcx-task-shape", location: "Bundle.entry[0].resource",
		},
		{
			name: "include input as text", data: reply,
			change: func(t *testing.T, b jobj) {
				in := jarray(entryResource(b, 0), "input")[0].(jobj)
				delete(in, "valueReference")
				in["valueString"] = "see attachment"
			},
			rule: "nhcx-task-input", location: "Bundle.entry[0].resource.input[0]",
		},
		{
			name: "task without code", data: reply,
			change: func(t *testing.T, b jobj) { delete(entryResource(b, 0), "code") },
			rule:   "nhcx-task-code", location: "Bundle.entry[0].resource.code",
		},
		{
			name: "two tasks", data: reply,
			change: func(t *testing.T, b jobj) {
				e := jarray(b, "entry")
				dup := jobj{"fullUrl": "urn:uuid:3b0f9c8e-2d2a-4d55-a0f5-6b8f1a2c3d4e", "resource": e[0].(jobj)["resource"]}
				b["entry"] = append(e, dup)
			},
			rule: "nhcx-entry-slice", location: "Bundle.entry",
		},
		{
			name: "payment ack without output", data: ack,
			change: func(t *testing.T, b jobj) { delete(entryResource(b, 0), "output") },
			rule:   "nhcx-task-shape", location: "Bundle.entry[0].resource",
		},
		{
			name: "unknown output value", data: ack,
			change: func(t *testing.T, b jobj) {
				out := jarray(entryResource(b, 0), "output")[0].(jobj)
				jarray(jobject(out, "valueCodeableConcept"), "coding")[0].(jobj)["code"] = "paid"
			},
			rule: "nhcx-task-output", location: "Bundle.entry[0].resource.output[0].valueCodeableConcept.coding[0].code",
		},
	}
	g := newTestGate(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := mutate(t, tt.data, func(b jobj) { tt.change(t, b) })
			fs, err := g.Check(context.Background(), data)
			if err != nil {
				t.Fatal(err)
			}
			found := false
			for _, f := range fs {
				if f.Rule == tt.rule && f.Severity == SeverityError && strings.HasPrefix(f.Location, tt.location) {
					found = true
				}
			}
			if !found {
				t.Errorf("no %s error at %s; findings:", tt.rule, tt.location)
				for _, f := range fs {
					t.Logf("  %s", f)
				}
			}
		})
	}
}

// TestGateNHCXWarnings checks the conventions the profiles do not enforce
// are reported, but do not stop a bundle.
func TestGateNHCXWarnings(t *testing.T) {
	claim := nhcxExample(t, exampleClaimBundle)
	tests := []struct {
		name     string
		change   func(b jobj)
		rule     string
		location string
	}{
		{
			name:   "total differs from the items",
			change: func(b jobj) { jobject(entryResource(b, 0), "total")["value"] = 71000 },
			rule:   "nhcx-claim-total", location: "Bundle.entry[0].resource.total",
		},
		{
			name: "settlement without pre-authorization reference",
			change: func(b jobj) {
				c := entryResource(b, 0)
				c["use"] = "claim"
				c["related"] = []any{jobj{
					"claim":        jobj{"identifier": jobj{"value": "7612345"}},
					"relationship": jobj{"coding": []any{jobj{"system": SystemRelatedClaimRelationship, "code": "settlement", "display": "Settlement"}}},
				}}
			},
			rule: "nhcx-claim-related", location: "Bundle.entry[0].resource.insurance",
		},
		{
			name: "enhancement with use claim",
			change: func(b jobj) {
				c := entryResource(b, 0)
				c["use"] = "claim"
				jarray(c, "insurance")[0].(jobj)["preAuthRef"] = []any{"123456"}
				c["related"] = []any{jobj{
					"reference":    jobj{"value": "123456"},
					"relationship": jobj{"coding": []any{jobj{"system": SystemRelatedClaimRelationship, "code": "enhancement", "display": "Enhancement"}}},
				}}
			},
			rule: "nhcx-claim-related", location: "Bundle.entry[0].resource.use",
		},
		{
			name:   "no bundle identifier",
			change: func(b jobj) { delete(b, "identifier") },
			rule:   "nhcx-bundle-identifier", location: "Bundle.identifier",
		},
		{
			name:   "claim claims no profile",
			change: func(b jobj) { delete(entryResource(b, 0), "meta") },
			rule:   "nhcx-profile", location: "Bundle.entry[0].resource.meta.profile",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs := checkFindings(t, mutate(t, claim, tt.change))
			found := false
			for _, f := range fs {
				if f.Severity == SeverityError {
					t.Errorf("unexpected error: %s", f)
				}
				if f.Rule == tt.rule && f.Severity == SeverityWarning && strings.HasPrefix(f.Location, tt.location) {
					found = true
				}
			}
			if !found {
				t.Errorf("no %s warning at %s; findings: %v", tt.rule, tt.location, fs)
			}
		})
	}
}

// payerBundle is a small bundle of the kind a payer sends, made here
// because the IG publishes these examples only as FSH: the focal resource,
// a patient and the insurer. The focal resource's patient, insurer and
// ownedBy, when present, are pointed at them.
func payerBundle(profile string, focal jobj) jobj {
	const (
		patientURL = "urn:uuid:6f1b8a64-3f0e-4b8e-9d8a-0c2f4e6a8b10"
		insurerURL = "urn:uuid:6f1b8a64-3f0e-4b8e-9d8a-0c2f4e6a8b11"
		focalURL   = "urn:uuid:6f1b8a64-3f0e-4b8e-9d8a-0c2f4e6a8b12"
	)
	for k, url := range map[string]string{"patient": patientURL, "insurer": insurerURL, "ownedBy": insurerURL} {
		if focal[k] != nil {
			focal[k] = jobj{"reference": url}
		}
	}
	patient := jobj{
		"resourceType": "Patient", "id": "6f1b8a64-3f0e-4b8e-9d8a-0c2f4e6a8b10",
		"meta":       jobj{"profile": []any{profileBase + "Patient"}},
		"identifier": []any{jobj{"type": coding(SystemV20203, "MR", "Medical record number"), "system": DefaultABHASystem, "value": "91-1234-5678-9012"}},
		"name":       []any{jobj{"text": "Asha Rao"}},
	}
	insurer := jobj{
		"resourceType": "Organization", "id": "6f1b8a64-3f0e-4b8e-9d8a-0c2f4e6a8b11",
		"meta":       jobj{"profile": []any{profileBase + "Organization"}},
		"identifier": []any{jobj{"type": coding(SystemV20203, "XX", "Organization identifier"), "system": SystemNHCXParticipantCode, "value": "1000003538@hcx"}},
		"name":       "XYZ Insurance Co. Ltd.",
	}
	return jobj{
		"resourceType": "Bundle", "id": "payer-example",
		"meta":       jobj{"profile": []any{profileBase + profile}},
		"identifier": jobj{"system": "https://xyzinsurance.in/bundle", "value": "b-1"},
		"type":       "collection", "timestamp": "2026-03-08T11:32:26+05:30",
		"entry": []any{
			jobj{"fullUrl": focalURL, "resource": focal},
			jobj{"fullUrl": patientURL, "resource": patient},
			jobj{"fullUrl": insurerURL, "resource": insurer},
		},
	}
}

func coding(system, code, display string) jobj {
	return jobj{"coding": []any{jobj{"system": system, "code": code, "display": display}}}
}

// TestGateNHCXPayerBundles checks the gate reads the bundles Sangam
// receives: a ClaimResponseBundle, a CoverageEligibilityResponseBundle and an
// InsurancePlanBundle, whole and broken.
func TestGateNHCXPayerBundles(t *testing.T) {
	claimResponse := func() jobj {
		return jobj{
			"resourceType": "ClaimResponse", "id": "6f1b8a64-3f0e-4b8e-9d8a-0c2f4e6a8b12",
			"meta":   jobj{"profile": []any{profileBase + "ClaimResponse"}},
			"status": "active", "type": coding("http://terminology.hl7.org/CodeSystem/claim-type", "institutional", "Institutional"),
			"use": "preauthorization", "patient": "", "created": "2026-03-08T12:00:00+05:30", "insurer": "",
			"outcome": "complete", "preAuthRef": "PA-99812",
			"addItem": []any{jobj{
				"productOrService": coding(SystemSNOMED, "309904001", "Intensive care unit"),
				"adjudication": []any{jobj{
					"category": coding("http://terminology.hl7.org/CodeSystem/adjudication", "eligible", "Eligible Amount"),
					"amount":   jobj{"value": 6000, "currency": "INR"},
				}},
			}},
		}
	}
	eligibilityResponse := func() jobj {
		return jobj{
			"resourceType": "CoverageEligibilityResponse", "id": "6f1b8a64-3f0e-4b8e-9d8a-0c2f4e6a8b12",
			"meta":   jobj{"profile": []any{profileBase + "CoverageEligibilityResponse"}},
			"status": "active", "purpose": []any{"benefits"}, "patient": "", "created": "2026-03-08T12:00:00+05:30",
			"request": jobj{"identifier": jobj{"value": "7612345"}}, "requestor": jobj{"display": "Sangam City Hospital"},
			"outcome": "complete", "insurer": "",
			"insurance": []any{jobj{
				"coverage": jobj{"display": "Policy 100217"}, "inforce": true,
				"item": []any{jobj{"productOrService": coding(SystemSNOMED, "418285008", "Angioplasty of blood vessel"), "authorizationRequired": true}},
			}},
		}
	}
	insurancePlan := func() jobj {
		return jobj{
			"resourceType": "InsurancePlan", "id": "6f1b8a64-3f0e-4b8e-9d8a-0c2f4e6a8b12",
			"meta":       jobj{"profile": []any{profileBase + "InsurancePlan"}},
			"identifier": []any{jobj{"value": "GOLD-5L"}}, "status": "active",
			"type": []any{coding("https://nrces.in/ndhm/fhir/r4/CodeSystem/ndhm-insuranceplan-type", "01", "Hospitalisation Indemnity Policy")},
			"name": "Gold 5 lakh", "period": jobj{"start": "2026-01-01"}, "ownedBy": "",
			"coverage": []any{jobj{"type": coding(SystemSNOMED, "737481003", "Inpatient care management (procedure)"), "benefit": []any{jobj{"type": coding(SystemSNOMED, "309904001", "Intensive care unit")}}}},
			"plan":     []any{jobj{"type": coding("https://nrces.in/ndhm/fhir/r4/CodeSystem/ndhm-plan-type", "01", "Individual")}},
		}
	}
	tests := []struct {
		name, profile string
		focal         func() jobj
		change        func(b jobj)
		rule          string // "" = no error expected
		location      string
	}{
		{name: "claim response", profile: "ClaimResponseBundle", focal: claimResponse},
		{name: "claim response added item without display", profile: "ClaimResponseBundle", focal: claimResponse,
			change: func(b jobj) {
				it := jarray(entryResource(b, 0), "addItem")[0].(jobj)
				delete(jarray(jobject(it, "productOrService"), "coding")[0].(jobj), "display")
			},
			rule: "nrces-coding", location: "Bundle.entry[0].resource.addItem[0].productOrService.coding[0]"},
		{name: "no claim response", profile: "ClaimResponseBundle", focal: claimResponse,
			change: func(b jobj) { b["entry"] = jarray(b, "entry")[1:] },
			rule:   "nhcx-entry-slice", location: "Bundle.entry"},
		{name: "eligibility response", profile: "CoverageEligibilityResponseBundle", focal: eligibilityResponse},
		{name: "eligibility response without requestor", profile: "CoverageEligibilityResponseBundle", focal: eligibilityResponse,
			change: func(b jobj) { delete(entryResource(b, 0), "requestor") },
			rule:   "nhcx-required", location: "Bundle.entry[0].resource.requestor"},
		{name: "insurance plan", profile: "InsurancePlanBundle", focal: insurancePlan},
		{name: "insurance plan without name", profile: "InsurancePlanBundle", focal: insurancePlan,
			change: func(b jobj) { delete(entryResource(b, 0), "name") },
			rule:   "nhcx-required", location: "Bundle.entry[0].resource.name"},
		{name: "insurance plan of two types", profile: "InsurancePlanBundle", focal: insurancePlan,
			change: func(b jobj) {
				r := entryResource(b, 0)
				r["type"] = append(jarray(r, "type"), jarray(r, "type")[0])
			},
			rule: "nhcx-cardinality", location: "Bundle.entry[0].resource.type"},
		{name: "insurance plan owned by the patient", profile: "InsurancePlanBundle", focal: insurancePlan,
			change: func(b jobj) {
				jobject(entryResource(b, 0), "ownedBy")["reference"] = jstr(jarray(b, "entry")[1].(jobj), "fullUrl")
			},
			rule: "nhcx-reference-type", location: "Bundle.entry[0].resource.ownedBy.reference"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := payerBundle(tt.profile, tt.focal())
			if tt.change != nil {
				tt.change(b)
			}
			data, err := json.Marshal(b)
			if err != nil {
				t.Fatal(err)
			}
			found := false
			fs := checkFindings(t, data)
			for _, f := range fs {
				if f.Severity != SeverityError {
					continue
				}
				if tt.rule == "" {
					t.Errorf("unexpected error: %s", f)
				}
				if f.Rule == tt.rule && strings.HasPrefix(f.Location, tt.location) {
					found = true
				}
			}
			if tt.rule != "" && !found {
				t.Errorf("no %s error at %s; findings: %v", tt.rule, tt.location, fs)
			}
		})
	}
}
