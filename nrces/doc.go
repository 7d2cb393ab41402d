// Package nrces builds, reads and validates ABDM health records: FHIR R4
// document bundles that follow the NRCeS implementation guide for ABDM
// (package ndhm.in 6.5.0).
//
// # Record types
//
// ABDM knows eight kinds of health record, each a Composition profile:
// OPConsultRecord, DischargeSummaryRecord, DiagnosticReportRecord (lab, and
// imaging with ImagingStudy/DICOM references), PrescriptionRecord,
// ImmunizationRecord, WellnessRecord, HealthDocumentRecord and InvoiceRecord.
// [RecordType] names them; the rules each profile fixes (Composition.type
// code, section codes or titles, which resources each section may hold) are
// data tables in profiles.go and profiles_resources.go, each citing the FSH
// profile it comes from.
//
// # Building
//
// A [Builder] turns a [Document] — a plain Go description of one clinical
// document, independent of any source system — into a bundle:
//
//	b, err := nrces.NewBuilder(nrces.Config{})
//	built, err := b.Build(ctx, &nrces.Document{
//		Type:         nrces.PrescriptionRecord,
//		Date:         time.Now(),
//		Patient:      nrces.Patient{Name: "Asha Rao", ABHANumber: "91-1234-5678-9012"},
//		Author:       nrces.Practitioner{Name: "Dr. Mehta", HPRID: "71-0000-0000-0001"},
//		Organization: nrces.Organization{Name: "City Clinic", HFRID: "IN2710000001"},
//		Medications:  []nrces.MedicationRequest{ /* … */ },
//	})
//
// The bundle is type document with an identifier and timestamp, the
// Composition first, urn:uuid fullUrls, meta.profile on every resource, the
// fixed SNOMED CT codes with their exact displays, section entry types where
// a profile slices on them, and the ABHA, HPR and HFR identifiers. The R4
// model is google/fhir/go's protos: resources are built as typed messages,
// checked with fhirvalidate and written as jsonformat writes it. With a fixed clock
// and id generator (Config.Now, Config.NewID) the output is byte-for-byte
// reproducible.
//
// Every bundle passes the quality gate before Build returns it. One that
// fails comes back as a [*RejectedError] carrying the bundle and the
// findingList: it belongs on a review list, never with the HIU.
//
// # Quality gate
//
// [Gate.Check] validates any bundle given as JSON and returns [Finding]s
// with a FHIRPath-like location, a stable rule id and a severity. Rules:
//
//	fhir-json                 not a JSON object
//	fhir-r4                   base R4 (google/fhir): syntax, formats, unknown properties,
//	                          required codes, base cardinalities, literal reference types
//	fhir-empty                empty string, array or object, or a stray null
//	fhir-base64-whitespace    (warning) whitespace inside base64
//	nrces-bundle-type         resourceType Bundle with type document
//	nrces-bundle-meta         meta and meta.versionId (DocumentBundle)
//	nrces-bundle-identifier   identifier with system and value (bdl-9)
//	nrces-bundle-timestamp    timestamp (bdl-10)
//	nrces-composition-first   the first entry is the Composition (bdl-11)
//	nrces-entry               every entry has a resource
//	nrces-fullurl             fullUrl present, unique (bdl-7), a valid urn:uuid when it is one
//	nrces-fullurl-style       (warning) fullUrl is not urn:uuid
//	nrces-profile             (warning) meta.profile missing or http://
//	nrces-composition-profile the Composition claims one of the eight record profiles
//	nrces-composition-type    Composition.type: the fixed SNOMED coding, or the fixed text
//	nrces-composition-subject subject.reference present and a Patient
//	nrces-composition-encounter encounter present for OP and DS, and an Encounter
//	nrces-composition-author  author.reference where required, of an allowed type
//	nrces-composition-custodian custodian is an Organization
//	nrces-composition-attester attester.party of an allowed type
//	nrces-section-count       one section for single-section records, at least one
//	                          otherwise, each slice at most once
//	nrces-section-code        a section's fixed code, system and display
//	nrces-section-unknown     (warning) a section matching no slice (open slicing)
//	nrces-section-entry       entry.reference present
//	nrces-section-entry-type  entries point to the resource types the section takes;
//	                          entry.type present and right where entries are sliced (closed)
//	nrces-section-entry-count entry counts per section and per entry slice
//	nrces-reference-resolve   every reference resolves inside the bundle
//	nrces-reference-external  (warning) a reference to another server
//	nrces-required            an element a resource profile makes mandatory
//	nrces-coding              codings carry system, code and display; coding counts
//	nrces-code-system         codings use the systems a profile allows
//	nrces-choice-type         a choice type the profile excludes
//	nrces-value-type          Wellness observation values of the sub-profile's types
//	nrces-identifier          patients, practitioners, organisations have typed identifiers
//	nrces-identifier-system   identifier systems are absolute URIs in the right registry
//	nrces-identifier-sandbox  (warning) an ABDM sandbox namespace
//	nrces-abha-format         (warning) an ABHA id that is neither number nor address
//
// # NHCX bundles
//
// The same Builder makes the insurance bundles of the IG's NHCX module
// (type collection, no Composition): CoverageEligibilityRequest,
// Claim (pre-authorisation, enhancement, final claim with its earlier
// claims carried along), CommunicationResponse (documents a payer asked
// for) and PaymentAcknowledgement. Gate.Check recognises the six NHCX
// Bundle profiles, by their profile claim or, failing that, by their
// entries, and applies the nhcx-* rules listed in nhcx_gate.go (bundle
// type, entry slices, mandatory Claim, eligibility and Task elements,
// sequences, references) besides the shared fhir-* and nrces-* ones.
//
// Base R4 validation uses google/fhir's validating unmarshaller, with its
// known false rejections of conformant JSON (escaped slashes and whitespace
// in base64) normalised away first. It checks no terminology: codes are
// checked against the fixed values of the profiles, not against SNOMED CT
// or LOINC releases.
//
// `sangam fhir validate FILE...` runs the gate from the command line.
package nrces
