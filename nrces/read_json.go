package nrces

import (
	"bytes"
	"encoding/json"
	"reflect"
)

// The inbound model: every resource of a bundle decodes into one union
// struct, inResource, in a single encoding/json pass. It holds only what
// normalisation needs; unknown properties are skipped, which is the
// lenient reading of "unknown property". Elements whose JSON shape differs
// between resource types (Bundle.type is a code, Composition.type a
// CodeableConcept, Encounter.type an array; Organization.name is a string,
// Patient.name an array; …) use the tolerant types below, so one resource's
// shape never makes another's fail. What still has the wrong JSON type is
// skipped by encoding/json and reported (see normaliser.decode).

type inResource struct {
	ResourceType string        `json:"resourceType"`
	ID           inText        `json:"id"`
	Meta         *inMeta       `json:"meta"`
	Identifier   inIdentifiers `json:"identifier"`
	Contained    []inResource  `json:"contained"`
	Extension    []inExtension `json:"extension"`

	// Bundle
	Timestamp string    `json:"timestamp"`
	Entry     []inEntry `json:"entry"`

	// Shared by many resources.
	Status      inText       `json:"status"`
	Type        inConcepts   `json:"type"`
	Category    inConcepts   `json:"category"`
	Code        inConcepts   `json:"code"`
	Subject     *inReference `json:"subject"`
	Patient     *inReference `json:"patient"`
	Encounter   *inReference `json:"encounter"`
	Note        []inNote     `json:"note"`
	Title       string       `json:"title"`
	Date        string       `json:"date"`
	Description string       `json:"description"`
	Author      inReferences `json:"author"`
	BodySite    inConcepts   `json:"bodySite"`

	// Composition
	Custodian *inReference `json:"custodian"`
	Attester  []inAttester `json:"attester"`
	Section   []inSection  `json:"section"`

	// Patient, Practitioner, Organization, Endpoint
	Name      inNames         `json:"name"`
	Gender    string          `json:"gender"`
	BirthDate string          `json:"birthDate"`
	Address   json.RawMessage `json:"address"` // Endpoint.address is the URL; others are Address objects

	// Encounter
	Class           *inConcept   `json:"class"`
	Period          *inPeriod    `json:"period"`
	ReasonCode      []inConcept  `json:"reasonCode"`
	ServiceProvider *inReference `json:"serviceProvider"`

	// Condition, AllergyIntolerance
	ClinicalStatus     *inConcept   `json:"clinicalStatus"`
	VerificationStatus *inConcept   `json:"verificationStatus"`
	Severity           inConcepts   `json:"severity"`
	Criticality        string       `json:"criticality"`
	OnsetDateTime      string       `json:"onsetDateTime"`
	OnsetPeriod        *inPeriod    `json:"onsetPeriod"`
	OnsetString        string       `json:"onsetString"`
	OnsetAge           *inQuantity  `json:"onsetAge"`
	RecordedDate       string       `json:"recordedDate"`
	Reaction           []inReaction `json:"reaction"`

	// Observation (and DiagnosticReport, Medication*, Procedure timing)
	EffectiveDateTime string    `json:"effectiveDateTime"`
	EffectivePeriod   *inPeriod `json:"effectivePeriod"`
	EffectiveInstant  string    `json:"effectiveInstant"`
	Issued            string    `json:"issued"`
	inValue
	Interpretation   []inConcept   `json:"interpretation"`
	ReferenceRange   []inRefRange  `json:"referenceRange"`
	Component        []inComponent `json:"component"`
	HasMember        []inReference `json:"hasMember"`
	DataAbsentReason *inConcept    `json:"dataAbsentReason"`
	Performer        inPerformers  `json:"performer"`

	// MedicationRequest, MedicationStatement, MedicationAdministration
	MedicationCodeableConcept *inConcept   `json:"medicationCodeableConcept"`
	MedicationReference       *inReference `json:"medicationReference"`
	Intent                    string       `json:"intent"`
	AuthoredOn                string       `json:"authoredOn"`
	DosageInstruction         inDosages    `json:"dosageInstruction"`
	Dosage                    inDosages    `json:"dosage"`
	DateAsserted              string       `json:"dateAsserted"`

	// Immunization
	VaccineCode        *inConcept   `json:"vaccineCode"`
	OccurrenceDateTime string       `json:"occurrenceDateTime"`
	OccurrenceString   string       `json:"occurrenceString"`
	LotNumber          string       `json:"lotNumber"`
	Manufacturer       inReferences `json:"manufacturer"`
	ProtocolApplied    []inProtocol `json:"protocolApplied"`
	Route              *inConcept   `json:"route"`
	Recorded           string       `json:"recorded"`

	// Procedure
	PerformedDateTime string     `json:"performedDateTime"`
	PerformedString   string     `json:"performedString"`
	PerformedPeriod   *inPeriod  `json:"performedPeriod"`
	Outcome           inConcepts `json:"outcome"`

	// DiagnosticReport
	Result             []inReference  `json:"result"`
	Conclusion         string         `json:"conclusion"`
	ConclusionCode     []inConcept    `json:"conclusionCode"`
	PresentedForm      []inAttachment `json:"presentedForm"`
	Media              []inMediaLink  `json:"media"`
	ImagingStudy       []inReference  `json:"imagingStudy"`
	ResultsInterpreter []inReference  `json:"resultsInterpreter"`

	// DocumentReference, Media, Binary
	Content         inContents `json:"content"`
	DocStatus       string     `json:"docStatus"`
	ContentType     string     `json:"contentType"`
	Data            inBase64   `json:"data"`
	Modality        inConcepts `json:"modality"`
	CreatedDateTime string     `json:"createdDateTime"`
	CreatedPeriod   *inPeriod  `json:"createdPeriod"`

	// ImagingStudy
	Started  string        `json:"started"`
	Series   []inSeries    `json:"series"`
	Endpoint []inReference `json:"endpoint"`

	// Shown for resources without a kind of their own.
	Start          string             `json:"start"`
	ServiceType    inConcepts         `json:"serviceType"`
	Relationship   inConcepts         `json:"relationship"`
	Condition      json.RawMessage    `json:"condition"` // FamilyMemberHistory.condition; other shapes elsewhere
	Event          json.RawMessage    `json:"event"`     // AdverseEvent.event; Composition.event differs
	Recommendation []inRecommendation `json:"recommendation"`
	TotalGross     *inMoney           `json:"totalGross"`
	Activity       []inActivity       `json:"activity"` // CarePlan
	ReceivedTime   string             `json:"receivedTime"`
}

type inEntry struct {
	FullURL  string      `json:"fullUrl"`
	Resource *inResource `json:"resource"`
}

type inMeta struct {
	Profile []string `json:"profile"`
}

type inExtension struct {
	URL                  string     `json:"url"`
	ValueString          string     `json:"valueString"`
	ValueCodeableConcept *inConcept `json:"valueCodeableConcept"`
	ValueCoding          *inConcept `json:"valueCoding"`
}

// inConcept is a CodeableConcept or a Coding: the union of both shapes, so
// elements that are a Coding in one resource and a CodeableConcept in
// another (class, modality, …) read the same way.
type inConcept struct {
	Coding  []inCoding `json:"coding"`
	Text    string     `json:"text"`
	System  string     `json:"system"`
	Code    inText     `json:"code"`
	Display string     `json:"display"`
}

type inCoding struct {
	System  string `json:"system"`
	Code    inText `json:"code"`
	Display string `json:"display"`
}

// list returns the concept as inConcepts (none for nil).
func (c *inConcept) list() inConcepts {
	if c == nil {
		return nil
	}
	return inConcepts{*c}
}

// inConcepts accepts one concept, an array of them, or bare code strings
// (AllergyIntolerance.category, Bundle.type).
type inConcepts []inConcept

func (c *inConcepts) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || string(b) == "null" {
		return nil
	}
	switch b[0] {
	case '{':
		var one inConcept
		if err := json.Unmarshal(b, &one); err != nil {
			return err
		}
		*c = append(*c, one)
	case '[':
		var many []inConcept
		if err := json.Unmarshal(b, &many); err == nil {
			*c = append(*c, many...)
			return nil
		}
		// Bare codes among the elements (AllergyIntolerance.category).
		var raw []json.RawMessage
		if err := json.Unmarshal(b, &raw); err != nil {
			return err
		}
		for _, r := range raw {
			var more inConcepts
			if err := more.UnmarshalJSON(r); err != nil {
				return err
			}
			*c = append(*c, more...)
		}
	case '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*c = append(*c, inConcept{Code: inText(s)})
	}
	// Booleans and numbers (OperationDefinition.type) carry no concept.
	return nil
}

type inReference struct {
	Reference  string        `json:"reference"`
	Display    string        `json:"display"`
	Type       string        `json:"type"`
	Identifier *inIdentifier `json:"identifier"`
}

// inReferences accepts one reference or an array (CarePlan.author is one,
// Composition.author many); strings (Device.manufacturer) are ignored.
type inReferences []inReference

func (r *inReferences) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return nil
	}
	switch b[0] {
	case '{':
		var one inReference
		if err := json.Unmarshal(b, &one); err != nil {
			return err
		}
		*r = append(*r, one)
	case '[':
		var many []inReference
		if err := json.Unmarshal(b, &many); err != nil {
			return err
		}
		*r = append(*r, many...)
	}
	return nil
}

type inIdentifier struct {
	System string     `json:"system"`
	Value  inText     `json:"value"`
	Type   *inConcept `json:"type"`
	Use    string     `json:"use"`
}

// inIdentifiers accepts one identifier (Bundle, Composition) or an array.
type inIdentifiers []inIdentifier

func (ids *inIdentifiers) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return nil
	}
	switch b[0] {
	case '{':
		var one inIdentifier
		if err := json.Unmarshal(b, &one); err != nil {
			return err
		}
		*ids = append(*ids, one)
	case '[':
		var many []inIdentifier
		if err := json.Unmarshal(b, &many); err != nil {
			return err
		}
		*ids = append(*ids, many...)
	}
	return nil
}

type inHumanName struct {
	Text   string   `json:"text"`
	Family string   `json:"family"`
	Given  []string `json:"given"`
	Prefix []string `json:"prefix"`
	Suffix []string `json:"suffix"`
}

// inNames accepts Organization.name (a string) and Patient.name (HumanNames).
type inNames []inHumanName

func (n *inNames) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return nil
	}
	switch b[0] {
	case '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*n = append(*n, inHumanName{Text: s})
	case '{':
		var one inHumanName
		if err := json.Unmarshal(b, &one); err != nil {
			return err
		}
		*n = append(*n, one)
	case '[':
		var raw []json.RawMessage
		if err := json.Unmarshal(b, &raw); err != nil {
			return err
		}
		for _, r := range raw {
			if err := n.UnmarshalJSON(r); err != nil {
				return err
			}
		}
	}
	return nil
}

// inText is a string that also accepts a JSON number or boolean: HIS
// exports often write codes and identifier values as numbers.
type inText string

func (t *inText) UnmarshalJSON(b []byte) error {
	if len(b) == 0 {
		return nil
	}
	switch b[0] {
	case '"':
		if bytes.IndexByte(b, '\\') < 0 {
			*t = inText(b[1 : len(b)-1])
			return nil
		}
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*t = inText(s)
	case 'n':
	case '{', '[':
		return &json.UnmarshalTypeError{Value: "object or array", Type: reflect.TypeOf("")}
	default:
		*t = inText(b)
	}
	return nil
}

type inPeriod struct {
	Start string `json:"start"`
	End   string `json:"end"`
}

type inQuantity struct {
	Value      json.Number `json:"value"`
	Comparator string      `json:"comparator"`
	Unit       string      `json:"unit"`
	System     string      `json:"system"`
	Code       inText      `json:"code"`
}

type inRange struct {
	Low  *inQuantity `json:"low"`
	High *inQuantity `json:"high"`
}

type inRatio struct {
	Numerator   *inQuantity `json:"numerator"`
	Denominator *inQuantity `json:"denominator"`
}

// inValue is Observation.value[x] (and Observation.component.value[x]).
type inValue struct {
	ValueQuantity        *inQuantity `json:"valueQuantity"`
	ValueString          *string     `json:"valueString"`
	ValueCodeableConcept *inConcept  `json:"valueCodeableConcept"`
	ValueBoolean         *bool       `json:"valueBoolean"`
	ValueInteger         json.Number `json:"valueInteger"`
	ValueRange           *inRange    `json:"valueRange"`
	ValueRatio           *inRatio    `json:"valueRatio"`
	ValueDateTime        string      `json:"valueDateTime"`
	ValuePeriod          *inPeriod   `json:"valuePeriod"`
	ValueTime            string      `json:"valueTime"`
}

type inRefRange struct {
	Low  *inQuantity `json:"low"`
	High *inQuantity `json:"high"`
	Text string      `json:"text"`
	Type *inConcept  `json:"type"`
}

type inComponent struct {
	Code *inConcept `json:"code"`
	inValue
	Interpretation   []inConcept  `json:"interpretation"`
	ReferenceRange   []inRefRange `json:"referenceRange"`
	DataAbsentReason *inConcept   `json:"dataAbsentReason"`
}

type inNote struct {
	Text string `json:"text"`
}

type inAttester struct {
	Mode  string       `json:"mode"`
	Party *inReference `json:"party"`
}

type inSection struct {
	Title   string        `json:"title"`
	Text    *inNarrative  `json:"text"`
	Code    *inConcept    `json:"code"`
	Entry   []inReference `json:"entry"`
	Section []inSection   `json:"section"`
}

type inNarrative struct {
	Div string `json:"div"`
}

type inReaction struct {
	Manifestation []inConcept  `json:"manifestation"`
	Severity      string       `json:"severity"`
	Description   string       `json:"description"`
	Detail        *inReference `json:"detail"`
	Substance     *inConcept   `json:"substance"`
}

// inPerformer is a plain Reference (Observation, MedicationRequest) or a
// performer element with an actor (Procedure, Immunization).
type inPerformer struct {
	Reference string       `json:"reference"`
	Display   string       `json:"display"`
	Actor     *inReference `json:"actor"`
}

type inPerformers []inPerformer

func (p *inPerformers) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return nil
	}
	switch b[0] {
	case '{':
		var one inPerformer
		if err := json.Unmarshal(b, &one); err != nil {
			return err
		}
		*p = append(*p, one)
	case '[':
		var many []inPerformer
		if err := json.Unmarshal(b, &many); err != nil {
			return err
		}
		*p = append(*p, many...)
	}
	return nil
}

type inDosage struct {
	Text               string       `json:"text"`
	PatientInstruction string       `json:"patientInstruction"`
	Route              *inConcept   `json:"route"`
	Method             *inConcept   `json:"method"`
	Timing             *inTiming    `json:"timing"`
	AsNeededBoolean    *bool        `json:"asNeededBoolean"`
	DoseAndRate        []inDoseRate `json:"doseAndRate"`
	Dose               *inQuantity  `json:"dose"` // MedicationAdministration.dosage
	AdditionalInstr    []inConcept  `json:"additionalInstruction"`
}

type inTiming struct {
	Code   *inConcept `json:"code"`
	Repeat *struct {
		Frequency  json.Number `json:"frequency"`
		Period     json.Number `json:"period"`
		PeriodUnit string      `json:"periodUnit"`
	} `json:"repeat"`
}

type inDoseRate struct {
	DoseQuantity *inQuantity `json:"doseQuantity"`
}

// inDosages accepts MedicationStatement.dosage (array) and
// MedicationAdministration.dosage (one object).
type inDosages []inDosage

func (d *inDosages) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return nil
	}
	switch b[0] {
	case '{':
		var one inDosage
		if err := json.Unmarshal(b, &one); err != nil {
			return err
		}
		*d = append(*d, one)
	case '[':
		var many []inDosage
		if err := json.Unmarshal(b, &many); err != nil {
			return err
		}
		*d = append(*d, many...)
	}
	return nil
}

type inProtocol struct {
	DoseNumberPositiveInt  json.Number `json:"doseNumberPositiveInt"`
	DoseNumberString       string      `json:"doseNumberString"`
	Series                 string      `json:"series"`
	SeriesDosesPositiveInt json.Number `json:"seriesDosesPositiveInt"`
}

type inMediaLink struct {
	Comment string       `json:"comment"`
	Link    *inReference `json:"link"`
}

type inAttachment struct {
	ContentType string      `json:"contentType"`
	Language    string      `json:"language"`
	Data        inBase64    `json:"data"`
	URL         string      `json:"url"`
	Size        json.Number `json:"size"`
	Title       string      `json:"title"`
	Creation    string      `json:"creation"`
}

// inContent is a DocumentReference.content element ({attachment: …}) or,
// for Media.content, the Attachment itself.
type inContent struct {
	inAttachment
	Attachment *inAttachment `json:"attachment"`
}

type inContents []inContent

func (c *inContents) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return nil
	}
	switch b[0] {
	case '{':
		var one inContent
		if err := json.Unmarshal(b, &one); err != nil {
			return err
		}
		*c = append(*c, one)
	case '[':
		var many []inContent
		if err := json.Unmarshal(b, &many); err != nil {
			return err
		}
		*c = append(*c, many...)
	}
	return nil
}

type inSeries struct {
	UID         string        `json:"uid"`
	Modality    *inConcept    `json:"modality"`
	Description string        `json:"description"`
	BodySite    *inConcept    `json:"bodySite"`
	Endpoint    []inReference `json:"endpoint"`
	Instance    []struct {
		UID string `json:"uid"`
	} `json:"instance"`
}

type inRecommendation struct {
	VaccineCode    []inConcept `json:"vaccineCode"`
	ForecastStatus *inConcept  `json:"forecastStatus"`
}

type inActivity struct {
	Detail *struct {
		Code        *inConcept `json:"code"`
		Description string     `json:"description"`
	} `json:"detail"`
}

type inMoney struct {
	Value    json.Number `json:"value"`
	Currency string      `json:"currency"`
}

type inFamilyCondition struct {
	Code *inConcept `json:"code"`
}

// inBase64 is a base64Binary value, kept as the raw JSON string contents
// (escapes and all) and decoded when its attachment is normalised (see
// decodeBase64Value), so the repairs can be reported with their path. A
// long value was cut out before decoding (read_blobs.go) and is found by
// its placeholder's number.
type inBase64 struct {
	raw       []byte
	blob      int // 1 + index of the cut-out value; 0 when raw holds it
	set       bool
	notString bool
}

func (v *inBase64) UnmarshalJSON(b []byte) error {
	if len(b) == 0 || b[0] == 'n' {
		return nil
	}
	v.set = true
	if i, ok := blobIndex(b); ok {
		v.blob = i + 1
		return nil
	}
	if b[0] != '"' {
		v.notString = true
		v.raw = append([]byte(nil), b...)
		return nil
	}
	// encoding/json does not promise that b outlives this call.
	v.raw = append([]byte(nil), b[1:len(b)-1]...)
	return nil
}

// jsonUnmarshalLenient decodes an optional raw element, ignoring absence
// and wrong shapes (the caller falls back to other fields).
func jsonUnmarshalLenient(raw json.RawMessage, v any) error {
	if len(raw) == 0 {
		return nil
	}
	return json.Unmarshal(raw, v)
}
