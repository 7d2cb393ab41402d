package nrces

import "time"

// Inputs of the NHCX builders: plain Go descriptions of one insurance
// message, which the claims package fills from what it gathered across
// facilities. Amounts are FHIR decimals written as strings ("10000",
// "2450.50") so no float rounding creeps into a claim.

// Provider is the hospital or clinic that sends the message: an
// Organization identified by its HFR id.
type Provider struct {
	Name  string
	HFRID string
	// ROHINIID is the hospital's id in the insurers' registry of hospitals
	// (ROHINI, run by IIB), when it has one; payers match hospitals on it.
	ROHINIID    string
	Phone       string
	Email       string
	Identifiers []Identifier
}

// Insurer is the payer: an insurance company, TPA or state health agency.
type Insurer struct {
	Name string
	// ParticipantCode is the payer's NHCX participant code (the value sent as
	// x-hcx-recipient_code), e.g. "1000003538@hcx"; written under
	// SystemNHCXParticipantCode.
	ParticipantCode string
	// Identifiers are other ids, e.g. the IRDAI registration.
	Identifiers []Identifier
	Phone       string
	Email       string
}

// Coverage is the patient's policy with the insurer.
type Coverage struct {
	// PolicyNumber is Coverage.identifier.value; required.
	PolicyNumber string
	// PolicySystem is the namespace of the insurer's policy numbers, an
	// absolute URI such as "https://xyzinsurance.in/policynumber/";
	// optional.
	PolicySystem string
	// MemberID is the insured member's id on the card (Coverage.subscriberId).
	MemberID string
	// Status is active (default), cancelled, draft or entered-in-error.
	Status string
	// Type is Coverage.type; default v3-ActCode HIP "health insurance plan
	// policy", as the IG examples write.
	Type Coding
	// Relationship of the patient to the subscriber (subscriber-relationship):
	// self (default), spouse, child, parent, common, injured or other.
	Relationship string
	// SubscriberName names the policy holder when the patient is not the
	// subscriber (Relationship other than self).
	SubscriberName string
	// PlanID and PlanName describe the plan (Coverage.class of type plan).
	PlanID, PlanName string
	// Start and End are the policy period, YYYY-MM-DD.
	Start, End string
}

// Location is a place inside a facility (a ward, a wing), for
// CoverageEligibilityRequest.facility.
type Location struct {
	Name        string
	Description string
	// Identifier is the facility's own id of the place; optional.
	Identifier string
}

// EligibilityPurpose is a CoverageEligibilityRequest.purpose code.
type EligibilityPurpose string

// The four purposes R4 defines.
const (
	PurposeValidation       EligibilityPurpose = "validation"
	PurposeBenefits         EligibilityPurpose = "benefits"
	PurposeAuthRequirements EligibilityPurpose = "auth-requirements"
	PurposeDiscovery        EligibilityPurpose = "discovery"
)

// EligibilityRequest is a coverage eligibility check
// (CoverageEligibilityRequestBundle). Purposes, Patient, Enterer, Provider,
// Insurer and Coverage are required.
type EligibilityRequest struct {
	// Identifier is the request's business id; default a urn:uuid.
	Identifier Identifier
	Purposes   []EligibilityPurpose
	// Priority is a processpriority code: normal (default), stat or deferred.
	Priority string
	// Created defaults to now.
	Created time.Time
	// ServicedFrom and ServicedTo are when the services would be given;
	// optional.
	ServicedFrom, ServicedTo time.Time
	Patient                  Patient
	// Enterer is the practitioner entering the request; the NRCeS profile
	// makes CoverageEligibilityRequest.enterer 1..1.
	Enterer  Practitioner
	Provider Provider
	// Facility is where care is given; default a Location named after the
	// provider and managed by it.
	Facility *Location
	Insurer  Insurer
	Coverage Coverage
	// Items are the services asked about (auth-requirements, benefits).
	Items []EligibilityItem
}

// EligibilityItem is one service an eligibility request asks about.
type EligibilityItem struct {
	// ProductOrService needs system, code and display (ndhm-productorservice,
	// SNOMED CT).
	ProductOrService Coding
	Category         *Coding
	Quantity         *Quantity
	UnitPrice        string // decimal, in INR
	// Diagnoses are why the service is needed (ICD-10 or SNOMED CT).
	Diagnoses []Concept
}

// ClaimUse is Claim.use.
type ClaimUse string

// Claim uses of NHCX.
const (
	ClaimUsePreauthorization ClaimUse = "preauthorization"
	ClaimUseClaim            ClaimUse = "claim"
	ClaimUsePredetermination ClaimUse = "predetermination"
)

// ClaimRequest is a pre-authorization, enhancement, predetermination or
// final claim (ClaimBundle).
//
// An enhancement is Use preauthorization with a Related claim of
// relationship "enhancement"; a final claim after a pre-authorization is Use
// claim with Related "settlement". Both need PreAuthRef. Related claims given
// in full (RelatedClaim.Claim) are carried in the bundle, as the IG's
// enhancement and settlement examples do.
type ClaimRequest struct {
	Use ClaimUse
	// Identifier is the hospital's claim number, the same across the
	// pre-authorization, enhancement and final claim of one admission;
	// Value is required, System optional.
	Identifier Identifier
	// Type is Claim.type (ndhm-claim-type), e.g. ClaimTypeInpatient;
	// required.
	Type Coding
	// Status is active (default), cancelled, draft or entered-in-error.
	Status string
	// Priority is a processpriority code: normal (default), stat or deferred.
	Priority string
	// Created defaults to now.
	Created time.Time

	Patient  Patient
	Provider Provider
	Insurer  Insurer
	Coverage Coverage
	// PreAuthRef is the payer's pre-authorization reference
	// (ClaimResponse.preAuthRef), written to Claim.insurance.preAuthRef.
	PreAuthRef string
	Related    []RelatedClaim

	// Encounter is the admission or visit. Its period is the
	// Claim.billablePeriod, and items refer to it.
	Encounter *Encounter
	// CareTeam are the treating practitioners, in sequence order.
	CareTeam []CareTeamMember
	// Diagnoses: at least one, each with a type.
	Diagnoses  []Diagnosis
	Procedures []ClaimProcedure
	// Items: at least one.
	Items []ClaimItem
	// Total is Claim.total; default the sum of the items' Net. A total that
	// differs from that sum is refused.
	Total string
	// Currency defaults to INR.
	Currency       string
	SupportingInfo []SupportingInfo
}

// RelatedClaim is an earlier claim of the same episode.
type RelatedClaim struct {
	// Relationship is "enhancement" or "settlement" (ndhm-related-claim-
	// relationship-code), or "prior" or "associated" (HL7).
	Relationship string
	// Claim is the earlier claim as sent. It is carried in the bundle with
	// this claim's patient, provider, insurer and coverage (its own are not
	// read) and without its supporting documents, which the payer already
	// has. Its own Related claims are carried too.
	Claim *ClaimRequest
	// Identifier names the earlier claim when it is not carried (a logical
	// reference); used only when Claim is nil.
	Identifier Identifier
}

// CareTeamMember is one practitioner of the claim's care team.
type CareTeamMember struct {
	Practitioner Practitioner
	// Role defaults to CareTeamRoleHealthcareProfessional.
	Role          Coding
	Qualification *Coding
	Responsible   bool
}

// Diagnosis is one claim diagnosis.
type Diagnosis struct {
	// Code needs at least one ICD-10 or SNOMED CT coding, each with
	// system, code and display.
	Code Concept
	// Types: at least one, e.g. DiagnosisTypeAdmitting, DiagnosisTypeFinal.
	Types []Coding
	// OnAdmission is a present-on-admission coding; optional.
	OnAdmission *Coding
}

// ClaimProcedure is a procedure done or planned.
type ClaimProcedure struct {
	// Code: codings need system, code and display (SNOMED CT).
	Code Concept
	Date time.Time
}

// ClaimItem is one billed or estimated line.
type ClaimItem struct {
	// ProductOrService needs system, code and display (SNOMED CT,
	// ndhm-productorservice).
	ProductOrService Coding
	Category         *Coding
	ProgramCode      *Coding // ndhm-program-code
	Quantity         *Quantity
	UnitPrice        string // decimal
	// Net is the line total; default UnitPrice × Quantity.
	Net string
	// Serviced is the date the service was given; optional.
	Serviced time.Time
	// Location is the place of service, e.g. SNOMED 309904001 "Intensive
	// care unit"; optional.
	Location *Coding
	// CareTeam, Diagnoses, Procedures and Information are 1-based indexes
	// into the claim's CareTeam, Diagnoses, Procedures and SupportingInfo.
	CareTeam, Diagnoses, Procedures, Information []int
}

// SupportingInfo is one piece of supporting information: usually a document
// (discharge summary, lab report, bill), or a value.
type SupportingInfo struct {
	// Category is from ndhm-supportinginfo-category (SupportingInfoCategory);
	// system, code and display required.
	Category Coding
	// Code is from ndhm-supportinginfo-code (SupportingInfoCode) or SNOMED
	// CT; system, code and display required.
	Code Coding
	// Document becomes a DocumentReference the entry points to.
	Document *ClaimDocument
	// Text is a value given as text (valueString), when there is no
	// document.
	Text string
	// Start and End time the information (timingPeriod), e.g. an ICU stay;
	// optional.
	Start, End time.Time
}

// ClaimDocument is a clinical or billing document sent as evidence.
type ClaimDocument struct {
	File File
	// Type is DocumentReference.type, e.g. SNOMED 4241000179101
	// "Laboratory report"; optional.
	Type        Concept
	Description string
	Date        time.Time
	// Origin is the facility the document comes from, its custodian and
	// author; default the claim's provider. A patient's evidence often comes
	// from several facilities of a group, and the payer must see whose
	// document each is.
	Origin *Provider
	// Author is the practitioner who wrote it; optional.
	Author *Practitioner
}

// CommunicationReply answers a payer's communication request (a TaskBundle
// whose Task delivers a Communication). Provider, Insurer and Request are
// required, and a Message or at least one Attachment.
type CommunicationReply struct {
	// Identifier is the Communication's business id; default a urn:uuid.
	Identifier Identifier
	// Sent defaults to now.
	Sent     time.Time
	Provider Provider
	Insurer  Insurer
	// Patient is the subject; optional.
	Patient *Patient
	// Request identifies the payer's CommunicationRequest being answered
	// (Communication.basedOn by identifier); Value required.
	Request Identifier
	// Claim identifies the claim the exchange is about (Communication.about
	// by identifier); optional.
	Claim       Identifier
	Message     string
	Attachments []File
}

// PaymentAck acknowledges a payer's payment notice (a TaskBundle whose Task
// is a completed status check with output paymentack). Provider, Insurer
// and PaymentNotice are required.
type PaymentAck struct {
	// Identifier is the Task's business id; default a urn:uuid.
	Identifier Identifier
	// Authored defaults to now.
	Authored time.Time
	Provider Provider
	Insurer  Insurer
	// PaymentNotice identifies the payer's PaymentNotice (Task.focus by
	// identifier); Value required.
	PaymentNotice Identifier
	// Claim identifies the claim paid (Task.basedOn by identifier);
	// optional.
	Claim Identifier
	// Description defaults to "Payment acknowledged".
	Description string
}
