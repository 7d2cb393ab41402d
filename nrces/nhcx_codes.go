package nrces

// Code systems and codes of the NRCeS NHCX profiles (IG ndhm.in 6.5.0),
// read from ../shared/testdata/nhcx/nrces-fsh/codesystems/ and the HL7
// terminology the IG examples use.

// Code systems of the NHCX profiles.
const (
	SystemSupportingInfoCategory   = "https://nrces.in/ndhm/fhir/r4/CodeSystem/ndhm-supportinginfo-category"
	SystemSupportingInfoCode       = "https://nrces.in/ndhm/fhir/r4/CodeSystem/ndhm-supportinginfo-code"
	SystemRelatedClaimRelationship = "https://nrces.in/ndhm/fhir/r4/CodeSystem/ndhm-related-claim-relationship-code"
	SystemTaskCode                 = "https://nrces.in/ndhm/fhir/r4/CodeSystem/ndhm-task-codes"
	SystemTaskInputType            = "https://nrces.in/ndhm/fhir/r4/CodeSystem/ndhm-task-input-type-code"
	SystemTaskOutputValue          = "https://nrces.in/ndhm/fhir/r4/CodeSystem/ndhm-task-output-value"
	SystemProgramCode              = "https://nrces.in/ndhm/fhir/r4/CodeSystem/ndhm-program-code"
	SystemFinancialTaskCode        = "http://terminology.hl7.org/CodeSystem/financialtaskcode"
	SystemFinancialTaskInputType   = "http://terminology.hl7.org/CodeSystem/financialtaskinputtype"

	systemProcessPriority    = "http://terminology.hl7.org/CodeSystem/processpriority"
	systemDiagnosisType      = "http://terminology.hl7.org/CodeSystem/ex-diagnosistype"
	systemExRelatedClaim     = "http://terminology.hl7.org/CodeSystem/ex-relatedclaimrelationship"
	systemSubscriberRelation = "http://terminology.hl7.org/CodeSystem/subscriber-relationship"
	systemCoverageClass      = "http://terminology.hl7.org/CodeSystem/coverage-class"
	systemOrganizationType   = "http://terminology.hl7.org/CodeSystem/organization-type"
	systemCommunicationCat   = "http://terminology.hl7.org/CodeSystem/communication-category"
	systemHL7TaskCode        = "http://hl7.org/fhir/CodeSystem/task-code"
)

// SystemNHCXParticipantCode is the identifier system Sangam writes an NHCX
// participant code under (an insurer's Organization.identifier). Neither the
// IG nor NHA names one, and the NRCeS Organization profile needs a system, so
// this is Sangam's choice: the NHCX host plus a path saying what the value is.
const SystemNHCXParticipantCode = "https://nhcx.abdm.gov.in/participant-code"

// Claim types (ValueSet ndhm-claim-type, valuesets/ClaimType.fsh): the
// ones hospitals use most. Any SNOMED CT coding of that value set may be
// given instead.
var (
	ClaimTypeInpatient  = SNOMED("737481003", "Inpatient care management (procedure)")
	ClaimTypeOutpatient = SNOMED("737492002", "Outpatient care management (procedure)")
	ClaimTypeDayCare    = SNOMED("737850002", "Day care case management (procedure)")
)

// Diagnosis types for Claim.diagnosis.type: the NRCeS value set
// ndhm-diagnostic-type (SNOMED CT) and HL7's ex-diagnosistype, which payers
// also read.
var (
	DiagnosisTypePreliminary  = SNOMED("148006", "Preliminary diagnosis (contextual qualifier) (qualifier value)")
	DiagnosisTypeDifferential = SNOMED("47965005", "Differential diagnosis (contextual qualifier) (qualifier value)")
	DiagnosisTypeFinal        = SNOMED("89100005", "Final diagnosis (discharge) (contextual qualifier) (qualifier value)")
	DiagnosisTypeAdmitting    = Coding{systemDiagnosisType, "admitting", "Admitting Diagnosis"}
	DiagnosisTypePrincipal    = Coding{systemDiagnosisType, "principal", "Principal Diagnosis"}
	DiagnosisTypeDischarge    = Coding{systemDiagnosisType, "discharge", "Discharge Diagnosis"}
)

// Care team roles and qualifications (ndhm-care-team-role,
// ndhm-care-team-qualification).
var (
	CareTeamRoleHealthcareProfessional = SNOMED("223366009", "Healthcare professional (occupation)")
	CareTeamRoleConsultant             = SNOMED("768839008", "Consultant (occupation)")
	CareTeamRoleAnesthesiologist       = SNOMED("88189002", "Anesthesiologist (occupation)")
	CareTeamRoleAssignedPractitioner   = SNOMED("405623001", "Assigned practitioner (occupation)")
	CareTeamQualificationSpecialty     = SNOMED("394658006", "Clinical specialty (qualifier value)")
)

// SupportingInfoCategory returns the ndhm-supportinginfo-category coding
// for code (e.g. "INV" Document Type - Investigation, "HDS" Hospital
// discharge summary, "MB" Medical bill).
func SupportingInfoCategory(code string) (Coding, bool) {
	d, ok := supportingInfoCategories[code]
	return Coding{SystemSupportingInfoCategory, code, d}, ok
}

// SupportingInfoCode returns the ndhm-supportinginfo-code coding for code
// (e.g. "LIR" Lab Investigation Report, "RDR" Radiology Report, "FB" Final
// Bill, "DCR" Discharge Summary Report).
func SupportingInfoCode(code string) (Coding, bool) {
	d, ok := supportingInfoCodes[code]
	return Coding{SystemSupportingInfoCode, code, d}, ok
}

// relatedClaimRelationships are the Claim.related.relationship codes: the
// NRCeS ones (codesystems/RelatedClaimRelationship.fsh) and HL7's example
// ones the IG examples use for the earlier claims.
var relatedClaimRelationships = map[string]Coding{
	"enhancement": {SystemRelatedClaimRelationship, "enhancement", "Enhancement"},
	"settlement":  {SystemRelatedClaimRelationship, "settlement", "Settlement"},
	"prior":       {systemExRelatedClaim, "prior", "Prior Claim"},
	"associated":  {systemExRelatedClaim, "associated", "Associated Claim"},
}

var processPriorities = map[string]string{"stat": "Immediate", "normal": "Normal", "deferred": "Deferred"}

var subscriberRelationships = map[string]string{"child": "Child", "parent": "Parent", "spouse": "Spouse",
	"common": "Common Law Spouse", "other": "Other", "self": "Self", "injured": "Injured Party"}

// Task codes (ValueSet ndhm-task-codes: the NRCeS codes, HL7
// financialtaskcode and task-code), with displays.
var taskCodes = map[string]map[string]string{
	SystemTaskCode: {"nullify": "nullify", "deliver": "deliver", "search": "Search"},
	SystemFinancialTaskCode: {"cancel": "Cancel", "poll": "Poll", "release": "Release", "reprocess": "Reprocess",
		"status": "Status check"},
	systemHL7TaskCode: {"approve": "Activate/approve the focal resource", "fulfill": "Fulfill the focal request",
		"abort": "Mark the focal resource as no longer active", "replace": "Replace the focal resource with the input resource",
		"change": "Change the focal resource", "suspend": "Suspend the focal resource", "resume": "Re-activate the focal resource"},
}

// Task input types (ValueSet ndhm-task-input-type-code).
var taskInputTypes = map[string]map[string]string{
	SystemTaskInputType: {"productNumber": "ProductNumber", "claimNumber": "ClaimNumber", "initimationNumber": "InitimationNumber",
		"fromDate": "FromDate", "toDate": "ToDate", "financeYear": "FinanceYear", "serviceCode": "ServiceCode",
		"policyNumber": "PolicyNumber", "providerId": "ProviderId", "payerId": "PayerId", "document": "Document"},
	SystemFinancialTaskInputType: {"include": "Include", "exclude": "Exclude", "origresponse": "Original Response",
		"reference": "Reference Number", "item": "Item Number", "period": "Period", "status": "Status code"},
}

// taskOutputValues is CodeSystem ndhm-task-output-value.
var taskOutputValues = map[string]string{
	"paymentack":       "Payment is acknowledged",
	"claimcancelled":   "Requested claim is cancelled",
	"claimreinitiated": "Requested claim is reinitiated",
	"claimsuspended":   "Requested claim is suspended",
	"taskak":           "Requested task is acknowledged",
	"taskdelivered":    "Requested task is delivered",
}

// codesystems/SupportingInfoCategory.fsh
var supportingInfoCategories = map[string]string{
	"POI":  "Proof of identity",
	"POA":  "Proof of address",
	"DOB":  "Proof of Date of Birth",
	"POR":  "Proof of relation",
	"PHT":  "Photograph",
	"BVC":  "Benefiaciary verification card",
	"DEF":  "Declaration form",
	"SIG":  "Signature",
	"FCF":  "Filled claim form",
	"CER":  "Medical Certficate",
	"MB":   "Medical bill",
	"DIA":  "Diagnostic report",
	"HDS":  "Hospital discharge summary",
	"REF":  "Referal latter",
	"DEL":  "Doctor signed extention letter",
	"CD":   "Clinical document",
	"EID":  "Employee id card",
	"FIR":  "FIR copy",
	"CIL":  "Claim status intimation letter",
	"INF":  "Additional info related to claim ( conveying additional situation and condition information.)",
	"DIS":  "Discharge status and discharge to location detail",
	"ONS":  "Period, start or end dates of aspects of the Condition. (e.g. admission, discharge etc)",
	"REL":  "Related service",
	"EXC":  "Exception",
	"MAT":  "Materials Forwarded",
	"ATT":  "Attachment",
	"OTH":  "Other",
	"COI":  "Injury or accident detail",
	"VRE":  "Patient Reason for Visit",
	"CRD":  "Claim received",
	"NMI":  "Claim query detail",
	"TRD":  "Treatment detail",
	"IND":  "Indicator flag",
	"IMP":  "Document Type - Implant",
	"INV":  "Document Type - Investigation",
	"DRUG": "Document Type - Drug",
	"PCT":  "Document Type - Patient Consent",
	"DCT":  "Document Type - Doctor Consent",
	"HCT":  "Document Type - Hospital Consent",
}

// codesystems/SupportingInfoCode.fsh
var supportingInfoCodes = map[string]string{
	"AT":     "Attachment",
	"VRCF":   "Vehicle Registration Certificate / Smart card",
	"WB":     "Water Bill with address",
	"EB":     "Electricity Bill of Govt./private company (not older than 3 months)",
	"TB":     "Telephone Bill of a fixed line. (Any Service Provider)",
	"RA":     "Registered Sale/Lease (Rent) Agreement",
	"IAO":    "IT Assessment Order",
	"SRIC":   "Surrender ID Card (BLT etc.) issued by Govt. of India signed by IGP of the state",
	"PDS":    "PDS Card",
	"MNREGA": "MNREGA Job Card",
	"ACC":    "Army Canteen Card",
	"FED":    "Any other Central/ State government issued family entitlement document",
	"MCF":    "Marriage Certificate issued by the government",
	"DCB":    "Discharge card/ slip issued by Government hospitals for birth of a child",
	"CFIG":   "Certificate of Identity having photo issued by MP or MLA or MLC or Municipal Councillor or Gazetted Officer on UIDAI standard certificate format",
	"CFIP":   "Certificate of Identity having photo and relationship with HoF issued by Village Panchayat Head or Mukhiya or its equivalent authority (for rural areas)",
	"CFIE":   "Certificate of Identity containing Name, DOB and Photo issued by Recognized Educational Institution signed by Head of Institute on UIDAI standard certificate format",
	"CFIU":   "Certificate of identity containing Name, DOB and Photograph issued by Employees Provident Fund Organisation (EPFO) on UIDAI standard certificate format",
	"SSLC":   "SSLC Book/ Certificate",
	"MRU":    "Marksheet issued by any Government Board or University",
	"PIC":    "Government Photo ID Card/ Photo Identity Card issued by PSU containing DOB",
	"ESR":    "Extract of School Records issued by Head of School containing Name, Date of Birth and Photograph",
	"PS":     "Photograph of self",
	"PF":     "Photograph of family",
	"PD":     "Photograph of dead person",
	"PCA":    "Photograph (any other required for claims adjudication)",
	"SDF":    "Self signed declaration form",
	"HDF":    "Hospital stamped and signed hospital declaration form",
	"MDF":    "Any other consent form or miscellaneous declaration form",
	"WS":     "Self signature (wet signature) scanned copy",
	"HS":     "Hospital signature and stamp (scanned copy)",
	"MDC":    "Medical Certificate",
	"FB":     "Final Bill",
	"IB":     "Interim Bill",
	"ESB":    "Estimate Bill",
	"LIR":    "Lab Investigation Report",
	"RDR":    "Radiology Report",
	"IR":     "Imaging Report with study",
	"GAR":    "Genetic Assessment Report",
	"DRRL":   "Doctor Referral letter (to specialist)",
	"URL":    "Upward Referral Letter (referral from HWC, SC, PHC,CHC to District Hospital)",
	"DRL":    "Downward Referral Letter (referral from higher facility to the original referee facility)",
	"IHRL":   "Inter Hospital Referral Letter",
	"DRRLH":  "Doctor Referral letter (to hospital)",
	"DSTEL":  "Doctor signed treatment extension letter",
	"DSDEL":  "Doctor signed discharge extension letter",
	"PDRRL":  "Post discharge readmission request letter",
	"DRP":    "Doctor Prescription",
	"CSN":    "Consultation Summary Note",
	"DPN":    "Daily progress note",
	"NN":     "Nursing note",
	"OSN":    "OT Surgery Note",
	"FS":     "Flowsheet",
	"IMR":    "ICU monitoring reports with note",
	"MDN":    "Medication Diapensation Note",
	"CP":     "CarePlan",
	"ETN":    "Emergency Treatment Note",
	"BMR":    "Bedside monitoring report",
	"PCTR":   "Point of care testing report",
	"FIR":    "FIR report",
	"DTH":    "DischargeToHome (Discharge disposition status)",
	"DTM":    "DischargetoMortuary(death disposition)",
	"DTU":    "DischargeToUnknownLocation",
	"DTS":    "DischargeToDifferentState",
	"DTC":    "DischargeToDifferentCountry",
	"ADDD":   "Admission date -Discharge date",
	"DSDE":   "Discharge start-discharge end time",
	"PNR":    "PatientNormalRoom (start datetime- enddatetime)",
	"PER":    "PatientEmergencyRoom(start datetime-enddatetime)",
	"PSP":    "PatientSurgeryPerformed(startdatetime-enddatetime)",
	"PIS":    "PatientICUStay (startdatetime-enddatetime)",
	"PPD":    "ProcedurePerformedDetail",
	"PPDT":   "ProcedurePerformedDateTime",
	"SRD":    "ServiceRenderedDetail",
	"SRDT":   "ServiceRenderedDateTime",
	"IPD":    "InvestigationPerformedDetail",
	"IPDT":   "InvestigationPerformedDetailDateTime",
	"IPE":    "InsurancePolicyExclusion",
	"CPNC":   "CostlyProcedureNotCoveredInPolicy",
	"EMNC":   "ExpensiveMedicinesNotCoveredinPackage",
	"CDNC":   "ConsummablesAndDisposiblesNotcoveredinPolicy",
	"ED":     "EmploymentDetail",
	"CIA":    "Cause of Injury or Accident",
	"PCAI":   "Patient Condition at time of admission after injury",
	"VAD":    "Vehicle Acident detail",
	"FBD":    "Fire Burns detail",
	"SBD":    "Snake Bite detail",
	"ESD":    "Electric Shock detail",
	"CPSD":   "Consumption of Poisonous substance detail(FIR Registered or not)",
	"AHBD":   "Attack on human body detail (FIR Registered or not)",
	"ITPP":   "ImmediateTreatmentProvidedToPatientAfterAccident",
	"PCDT":   "AnyPreviousClaimsDueToAccident (previous claim detail)",
	"DOA":    "Date of Accident or Injury",
	"DHDA":   "Date-Time of Hospitalization Due to Accident",
	"EDT":    "EncounterDateTime",
	"ET":     "EncounterType",
	"RC":     "ReasonCode (encounter reason)",
	"EO":     "EncounterOutcome",
	"CRD":    "Claim received date time",
	"DD":     "document detail (submitted with claims)",
	"CNCR":   "courier number of claim reciept",
	"MLC":    "MLC Case (Boolean Y/N)",
	"MPC":    "MultiPayorClaim (Boolean Y/N)",
	"PSPD":   "Primary and Secondary Payor Detail (in case of Multi Payor claim)",
	"POSC":   "PrimaryorSecondaryClaim",
	"DCSPP":  "Details of claim settled by primary payor (in case of secondary claims - attachment)",
	"PIPC":   "PMJAYInsurancePortabilityCase (Y/N) (treatment received in a different state)",
	"PSD":    "PrimarySHADetails (SHA/TPA detail of state where PMJAY benefeciary belongs to)",
	"SSD":    "SecondarySHADetails (SHA/TPA detail of state where benefeciary received treatment)",
	"EI":     "EmploymentImpacted (Y/N) for long disabilities)",
	"EID":    "Employment impacted period (start date - end date)",
	"HI":     "HospitalizedIndicator (if patient was hospitalized or not - Y/N)",
	"MF":     "Materials Forwarded",
	"CQD":    "Claim query detail",
	"TD":     "Treatment detail",
	"ARC":    "Additional info related to claim ( conveying additional situation and condition information.)",
	"BCF":    "Birth Certificate issued by Registrar of Birth, Municipal Corporation and other notified local government bodies like Taluk, Tehsil etc.",
	"PBC":    "PMJAY Beneficiary Card",
	"IC":     "Insurance Card",
	"EMPID":  "Employment ID card",
	"PAL":    "Preauthorization approval letter",
	"CAL":    "Claim approval letter",
	"DCR":    "Discharge Summary Report",
	"DSR":    "Death Summary Report",
	"LAMA":   "Discharge Summary with LAMA",
	"DAMA":   "Discharge Summary with DAMA",
}
