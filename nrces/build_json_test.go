package nrces

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // the zones these tests name, on any host

	"github.com/google/fhir/go/fhirversion"
	"github.com/google/fhir/go/jsonformat"
	c4 "github.com/google/fhir/go/proto/google/fhir/proto/r4/core/codes_go_proto"
	d4 "github.com/google/fhir/go/proto/google/fhir/proto/r4/core/datatypes_go_proto"
	aipb "github.com/google/fhir/go/proto/google/fhir/proto/r4/core/resources/allergy_intolerance_go_proto"
	bcrpb "github.com/google/fhir/go/proto/google/fhir/proto/r4/core/resources/bundle_and_contained_resource_go_proto"
	obspb "github.com/google/fhir/go/proto/google/fhir/proto/r4/core/resources/observation_go_proto"
	patpb "github.com/google/fhir/go/proto/google/fhir/proto/r4/core/resources/patient_go_proto"
	"google.golang.org/protobuf/proto"

	"github.com/sangamhealth/sangam/sharedtest"
)

// jsonBoth writes r with the fast writer and with jsonformat (on a copy:
// jsonformat rewrites references and extensions in place). ok is false when
// the fast writer leaves r to jsonformat.
func jsonBoth(t *testing.T, r proto.Message) (fast, want []byte, ok bool) {
	t.Helper()
	m, err := jsonformat.NewMarshaller(false, "", "", fhirversion.R4)
	if err != nil {
		t.Fatal(err)
	}
	want, err = m.MarshalResource(proto.Clone(r))
	fast, ferr := (&pjWriter{}).resource(r.ProtoReflect())
	if errors.Is(ferr, errPJUnsupported) {
		return nil, want, false
	}
	if ferr != nil || err != nil {
		t.Fatalf("fast writer: %v; jsonformat: %v", ferr, err)
	}
	return fast, want, true
}

func firstDiff(a, b []byte) string {
	i := 0
	for i < len(a) && i < len(b) && a[i] == b[i] {
		i++
	}
	from := max(0, i-60)
	return "fast …" + string(a[from:min(len(a), i+60)]) + "…\njsonformat …" + string(b[from:min(len(b), i+60)]) + "…"
}

// TestJSONWriterMatchesJSONFormat holds the builder's JSON writer to
// jsonformat's bytes: on every record type's bundle (which it must write
// itself, or Build loses its speed), on the IG's examples parsed by
// jsonformat (wherever it takes them on), and on awkward values.
func TestJSONWriterMatchesJSONFormat(t *testing.T) {
	t.Run("built", func(t *testing.T) {
		for _, tc := range sampleDocuments() {
			b := newTestBuilder(t, fixedConfig())
			s := &buildState{cfg: &b.cfg, doc: tc.doc, rule: recordRuleFor(tc.doc.Type), content: map[contentKey][]sectionEntry{}}
			bundle := s.bundle()
			if len(s.errs) > 0 {
				t.Fatalf("%s: %v", tc.name, s.errs)
			}
			fast, want, ok := jsonBoth(t, bundle)
			if !ok {
				_, err := (&pjWriter{}).resource(bundle.ProtoReflect())
				t.Errorf("%s: the builder's own bundle is left to jsonformat: %v", tc.name, err)
				continue
			}
			if !bytes.Equal(fast, want) {
				t.Errorf("%s differs:\n%s", tc.name, firstDiff(fast, want))
			}
		}
	})

	t.Run("examples", func(t *testing.T) {
		u, err := jsonformat.NewUnmarshaller("Asia/Kolkata", fhirversion.R4)
		if err != nil {
			t.Fatal(err)
		}
		var files []string
		for _, sub := range []string{filepath.Join("fhir", "abdm-fhir-ig-fsh"), filepath.Join("fhir-ig", "ndhm.in-6.5.0-sushi-from-fsh")} {
			fs, _ := filepath.Glob(filepath.Join(sharedtest.Path(t, sub), "*.json"))
			files = append(files, fs...)
		}
		parsed, written := 0, 0
		for _, f := range files {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			pb, err := u.UnmarshalR4(data)
			if err != nil {
				continue // not base R4 as jsonformat reads it
			}
			parsed++
			cr := pb
			chosen := cr.ProtoReflect().WhichOneof(cr.ProtoReflect().Descriptor().Oneofs().Get(0))
			res := cr.ProtoReflect().Get(chosen).Message().Interface()
			fast, want, ok := jsonBoth(t, res)
			if !ok {
				continue
			}
			written++
			if !bytes.Equal(fast, want) {
				t.Errorf("%s differs:\n%s", filepath.Base(f), firstDiff(fast, want))
			}
		}
		t.Logf("%d of %d files parsed; the fast writer wrote %d, equal to jsonformat's", parsed, len(files), written)
		if written < 50 {
			t.Errorf("the fast writer took on only %d of the %d examples", written, parsed)
		}
	})

	t.Run("values", func(t *testing.T) {
		kolkata, err := time.LoadLocation("Asia/Kolkata")
		if err != nil {
			t.Fatal(err)
		}
		at := time.Date(2024, 1, 5, 4, 30, 15, 123456000, time.UTC).UnixMicro()
		var obs []*obspb.Observation
		for _, s := range []string{"plain", `quote " and \ back`, "tab\tnew\nline\r\x01\x1f\b\f", "<b>&amp;</b>", "नमस्ते", "line\u2028sep\u2029", "bad \xff utf-8", ""} {
			obs = append(obs, &obspb.Observation{Id: &d4.Id{Value: "o1"},
				Status: &obspb.Observation_StatusCode{Value: c4.ObservationStatusCode_REGISTERED},
				Code:   &d4.CodeableConcept{Text: &d4.String{Value: s}},
				Value:  &obspb.Observation_ValueX{Choice: &obspb.Observation_ValueX_StringValue{StringValue: &d4.String{Value: s}}}})
		}
		for _, dec := range []string{"0", "-1.50", "1e3", "12.0E-2"} {
			obs = append(obs, &obspb.Observation{Value: &obspb.Observation_ValueX{Choice: &obspb.Observation_ValueX_Quantity{
				Quantity: &d4.Quantity{Value: &d4.Decimal{Value: dec}}}}})
		}
		for _, tz := range []string{"Z", "UTC", "+05:30", "-03:00", "Asia/Kolkata", "America/New_York"} {
			for p := d4.DateTime_YEAR; p <= d4.DateTime_MICROSECOND; p++ {
				obs = append(obs, &obspb.Observation{Effective: &obspb.Observation_EffectiveX{Choice: &obspb.Observation_EffectiveX_DateTime{
					DateTime: &d4.DateTime{ValueUs: at, Timezone: tz, Precision: p}}}})
			}
			for p := d4.Instant_SECOND; p <= d4.Instant_MICROSECOND; p++ {
				obs = append(obs, &obspb.Observation{Issued: &d4.Instant{ValueUs: at, Timezone: tz, Precision: p}})
			}
		}
		obs = append(obs,
			&obspb.Observation{Value: &obspb.Observation_ValueX{Choice: &obspb.Observation_ValueX_Boolean{Boolean: &d4.Boolean{Value: true}}}},
			&obspb.Observation{Value: &obspb.Observation_ValueX{Choice: &obspb.Observation_ValueX_Integer{Integer: &d4.Integer{Value: -42}}}},
			&obspb.Observation{Value: &obspb.Observation_ValueX{Choice: &obspb.Observation_ValueX_Time{Time: &d4.Time{ValueUs: 3723000000, Precision: d4.Time_SECOND}}}},
			&obspb.Observation{Status: &obspb.Observation_StatusCode{}},                                                                                         // unset code
			&obspb.Observation{Subject: &d4.Reference{Display: &d4.String{Value: "by name"}}},                                                                   // no reference
			&obspb.Observation{Subject: &d4.Reference{Reference: &d4.Reference_Uri{Uri: &d4.String{Value: "urn:uuid:1"}}}, Category: []*d4.CodeableConcept{{}}}, // empty element
			&obspb.Observation{Extension: []*d4.Extension{{Url: &d4.Uri{Value: "https://x"}, Value: &d4.Extension_ValueX{Choice: &d4.Extension_ValueX_StringValue{StringValue: &d4.String{Value: "v"}}}}}},
		)
		var res []proto.Message
		for _, o := range obs {
			res = append(res, o)
		}
		res = append(res, &aipb.AllergyIntolerance{Category: []*aipb.AllergyIntolerance_CategoryCode{
			{}, {Value: c4.AllergyIntoleranceCategoryCode_FOOD}}}, // a null kept in place
			&aipb.AllergyIntolerance{Category: []*aipb.AllergyIntolerance_CategoryCode{{}, {}}}) // nothing set: left out
		for i, o := range res {
			fast, want, ok := jsonBoth(t, o)
			if !ok {
				t.Errorf("value %d left to jsonformat", i)
				continue
			}
			if !bytes.Equal(fast, want) {
				t.Errorf("value %d differs:\n%s", i, firstDiff(fast, want))
			}
		}
		p := &patpb.Patient{BirthDate: &d4.Date{ValueUs: time.Date(1990, 3, 1, 0, 0, 0, 0, kolkata).UnixMicro(), Timezone: "Asia/Kolkata", Precision: d4.Date_DAY},
			Photo: []*d4.Attachment{{Data: &d4.Base64Binary{Value: []byte("\x00\xffbinary+/")}}}}
		if fast, want, ok := jsonBoth(t, p); !ok || !bytes.Equal(fast, want) {
			t.Errorf("patient: ok %v\n%s", ok, firstDiff(fast, want))
		}

		// Shapes it must leave to jsonformat rather than write differently.
		for name, r := range map[string]proto.Message{
			"primitive extension": &obspb.Observation{Code: &d4.CodeableConcept{Text: &d4.String{Value: "x",
				Extension: []*d4.Extension{{Url: &d4.Uri{Value: "https://x"}}}}}},
			"primitive id":     &obspb.Observation{Code: &d4.CodeableConcept{Text: &d4.String{Value: "x", Id: &d4.String{Value: "t"}}}},
			"typed reference":  &obspb.Observation{Subject: &d4.Reference{Reference: &d4.Reference_PatientId{PatientId: &d4.ReferenceId{Value: "p1"}}}},
			"fragment":         &obspb.Observation{Subject: &d4.Reference{Reference: &d4.Reference_Fragment{Fragment: &d4.String{Value: "p1"}}}},
			"bad decimal":      &obspb.Observation{Value: &obspb.Observation_ValueX{Choice: &obspb.Observation_ValueX_Quantity{Quantity: &d4.Quantity{Value: &d4.Decimal{Value: "1,5"}}}}},
			"unknown zone":     &obspb.Observation{Issued: &d4.Instant{ValueUs: at, Timezone: "Nowhere/Zone", Precision: d4.Instant_SECOND}},
			"no precision":     &obspb.Observation{Issued: &d4.Instant{ValueUs: at, Timezone: "Z"}},
			"nothing chosen":   &obspb.Observation{Value: &obspb.Observation_ValueX{}},
			"padded decimal":   &obspb.Observation{Value: &obspb.Observation_ValueX{Choice: &obspb.Observation_ValueX_Quantity{Quantity: &d4.Quantity{Value: &d4.Decimal{Value: " 1"}}}}},
			"empty contained":  &bcrpb.Bundle{Entry: []*bcrpb.Bundle_Entry{{Resource: &bcrpb.ContainedResource{}}}},
			"uninterpreted tz": &obspb.Observation{Issued: &d4.Instant{ValueUs: at, Timezone: "+5:30", Precision: d4.Instant_SECOND}},
			"unset code with extension": &aipb.AllergyIntolerance{Category: []*aipb.AllergyIntolerance_CategoryCode{
				{Extension: []*d4.Extension{{Url: &d4.Uri{Value: "https://g.co/fhir/StructureDefinition/primitiveHasNoValue"}}}}}},
			"has-no-value ext": &obspb.Observation{Code: &d4.CodeableConcept{Text: &d4.String{Extension: []*d4.Extension{{Url: &d4.Uri{Value: "https://g.co/fhir/StructureDefinition/primitiveHasNoValue"}}}}}},
		} {
			if _, err := (&pjWriter{}).resource(r.ProtoReflect()); !errors.Is(err, errPJUnsupported) {
				t.Errorf("%s: fast writer gave %v, want it left to jsonformat", name, err)
			}
		}
	})
}

// TestJSONWriterStringsAsEncodingJSON checks the writer's own string
// escaping against encoding/json's over every byte value.
func TestJSONWriterStringsAsEncodingJSON(t *testing.T) {
	var b strings.Builder
	for c := 0; c < 256; c++ {
		b.WriteByte(byte(c))
	}
	for _, s := range []string{b.String(), "a\u2028b", "é", "\u00e9\u0301", "😀"} {
		for i := range s {
			for j := i; j <= len(s) && j < i+4; j++ {
				sub := s[i:j]
				var want bytes.Buffer
				enc := jsonNewEncoderNoHTML(&want)
				if err := enc.Encode(sub); err != nil {
					t.Fatal(err)
				}
				if got := pjAppendString(nil, sub); string(got) != strings.TrimSuffix(want.String(), "\n") {
					t.Errorf("%q: wrote %s, encoding/json %s", sub, got, want.String())
				}
			}
		}
	}
}

func jsonNewEncoderNoHTML(w io.Writer) *json.Encoder {
	e := json.NewEncoder(w)
	e.SetEscapeHTML(false)
	return e
}
