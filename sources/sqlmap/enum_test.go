package sqlmap

import (
	"testing"

	cipb "github.com/google/fhir/go/proto/google/fhir/proto/r4/core/resources/charge_item_go_proto"
	drpb "github.com/google/fhir/go/proto/google/fhir/proto/r4/core/resources/diagnostic_report_go_proto"
	docpb "github.com/google/fhir/go/proto/google/fhir/proto/r4/core/resources/document_reference_go_proto"
	encpb "github.com/google/fhir/go/proto/google/fhir/proto/r4/core/resources/encounter_go_proto"
	ispb "github.com/google/fhir/go/proto/google/fhir/proto/r4/core/resources/imaging_study_go_proto"
	invpb "github.com/google/fhir/go/proto/google/fhir/proto/r4/core/resources/invoice_go_proto"
	mrpb "github.com/google/fhir/go/proto/google/fhir/proto/r4/core/resources/medication_request_go_proto"
	obspb "github.com/google/fhir/go/proto/google/fhir/proto/r4/core/resources/observation_go_proto"
	procpb "github.com/google/fhir/go/proto/google/fhir/proto/r4/core/resources/procedure_go_proto"
	"google.golang.org/protobuf/proto"
)

// TestEveryCodeIsAnEnumValue sets every allowed code of every field that
// becomes a FHIR enum: a code schema.go allows but the proto does not know
// would silently leave the field unset.
func TestEveryCodeIsAnEnumValue(t *testing.T) {
	cases := []struct {
		resource, field string
		codes           []string
		msg             func() proto.Message
	}{
		{"Encounter", "status", nil, func() proto.Message { return &encpb.Encounter_StatusCode{} }},
		{"Observation", "status", nil, func() proto.Message { return &obspb.Observation_StatusCode{} }},
		{"DiagnosticReport", "status", nil, func() proto.Message { return &drpb.DiagnosticReport_StatusCode{} }},
		{"ImagingStudy", "status", nil, func() proto.Message { return &ispb.ImagingStudy_StatusCode{} }},
		{"MedicationRequest", "status", nil, func() proto.Message { return &mrpb.MedicationRequest_StatusCode{} }},
		{"MedicationRequest", "intent", nil, func() proto.Message { return &mrpb.MedicationRequest_IntentCode{} }},
		{"DocumentReference", "status", nil, func() proto.Message { return &docpb.DocumentReference_StatusCode{} }},
		{"Procedure", "status", nil, func() proto.Message { return &procpb.Procedure_StatusCode{} }},
		{"Invoice", "status", nil, func() proto.Message { return &invpb.Invoice_StatusCode{} }},
		{"ChargeItem", "status", nil, func() proto.Message { return &cipb.ChargeItem_StatusCode{} }},
		{"", "price component type", []string{"base", "discount", "tax"}, func() proto.Message { return &invpb.Invoice_LineItem_PriceComponent_TypeCode{} }},
	}
	for _, tc := range cases {
		codes := tc.codes
		if tc.resource != "" {
			codes = resourceFields[tc.resource][tc.field].codes
		}
		if len(codes) == 0 {
			t.Errorf("%s.%s: no codes", tc.resource, tc.field)
		}
		for _, c := range codes {
			m := tc.msg()
			setEnum(m, c)
			r := m.ProtoReflect()
			if v := r.Get(r.Descriptor().Fields().ByName("value")).Enum(); v == 0 {
				t.Errorf("%s.%s: code %q sets no enum value", tc.resource, tc.field, c)
			}
		}
	}
}
