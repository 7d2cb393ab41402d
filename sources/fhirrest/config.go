// Package fhirrest connects to source systems that already expose a FHIR R4
// REST API: patients are found by identifier (local id, ABHA number or
// address), phone or demographics; care contexts are date-filtered searches
// of the resources the config names; a care context's content is one search
// with _include/_revinclude.
//
// Resources come back as the server sent them, except that their ids and
// the references between them are rewritten to name-based UUIDs
// ("urn:uuid:<id>"), the form sources.Content promises, and Patient
// resources are left out: the document builder supplies the patient.
package fhirrest

import (
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"time"

	"github.com/sangamhealth/sangam/sources"
)

// Config is what a FHIR source's source_systems.config holds:
//
//	{"connector": "fhir", "base_url": "https://his.example.org/fhir", "token_env": "HIS_FHIR_TOKEN"}
//
// A patient's local id is the server's Patient id.
// Contexts defaults to outpatient and inpatient encounters, diagnostic
// reports and medication requests.
type Config struct {
	Connector string `json:"connector"`
	BaseURL   string `json:"base_url"`
	// TokenEnv names an environment variable holding a bearer token, when
	// the server needs one; the token is never stored in the database.
	TokenEnv string `json:"token_env"`
	// Timeout bounds each request (a Go duration); default 5s.
	Timeout string `json:"timeout"`
	// ABHANumberSystem and ABHAAddressSystem are the identifier systems
	// the server files ABHA numbers and addresses under.
	ABHANumberSystem  string `json:"abha_number_system"`
	ABHAAddressSystem string `json:"abha_address_system"`
	// Contexts lists the care-context types the server is searched for.
	Contexts []ContextConfig `json:"contexts"`
	// MaxPages bounds how many pages of one search are followed; default 10.
	MaxPages int `json:"max_pages"`
}

// ContextConfig is one care-context type: a resource searched by patient
// and date.
type ContextConfig struct {
	Type     string         `json:"type"`
	Resource string         `json:"resource"`
	HIType   sources.HIType `json:"hi_type"`
	// PatientParam and DateParam are the search parameters for the patient
	// and the date (patient / date for most resources).
	PatientParam string `json:"patient_param"`
	DateParam    string `json:"date_param"`
	// Search holds fixed search parameters, e.g. {"class": "AMB"}.
	Search map[string]string `json:"search"`
	// Include and RevInclude are added when fetching the context's
	// content, e.g. "DiagnosticReport:result", "Condition:encounter".
	Include    []string `json:"include"`
	RevInclude []string `json:"revinclude"`
}

// DefaultContexts are used when a config lists none.
func DefaultContexts() []ContextConfig {
	encounterRev := []string{"Condition:encounter", "Observation:encounter", "MedicationRequest:encounter",
		"DiagnosticReport:encounter", "DocumentReference:encounter", "Procedure:encounter"}
	return []ContextConfig{
		{Type: "opd", Resource: "Encounter", HIType: sources.OPConsultation, Search: map[string]string{"class": "AMB"},
			Include: []string{"Encounter:participant"}, RevInclude: encounterRev},
		{Type: "ipd", Resource: "Encounter", HIType: sources.DischargeSummary, Search: map[string]string{"class": "IMP"},
			Include: []string{"Encounter:participant"}, RevInclude: encounterRev},
		{Type: "report", Resource: "DiagnosticReport", HIType: sources.DiagnosticReport,
			Include: []string{"DiagnosticReport:result", "DiagnosticReport:results-interpreter"}},
		{Type: "rx", Resource: "MedicationRequest", HIType: sources.Prescription, DateParam: "authoredon",
			Include: []string{"MedicationRequest:requester", "MedicationRequest:medication"}},
	}
}

var (
	typeRE     = regexp.MustCompile(`^[a-z][a-z0-9_]{0,31}$`)
	resourceRE = regexp.MustCompile(`^[A-Z][A-Za-z]{1,63}$`)
)

// parseConfig reads and checks a source's config, filling defaults.
func parseConfig(raw json.RawMessage) (Config, time.Duration, error) {
	var c Config
	if err := json.Unmarshal(raw, &c); err != nil {
		return c, 0, fmt.Errorf("config is not valid JSON: %w", err)
	}
	u, err := url.Parse(c.BaseURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return c, 0, fmt.Errorf("base_url %q must be an http(s) URL", c.BaseURL)
	}
	timeout := 5 * time.Second
	if c.Timeout != "" {
		timeout, err = time.ParseDuration(c.Timeout)
		if err != nil || timeout <= 0 || timeout > time.Minute {
			return c, 0, fmt.Errorf("timeout %q must be a duration between 0 and 1m", c.Timeout)
		}
	}
	if c.ABHANumberSystem == "" {
		c.ABHANumberSystem = "https://healthid.abdm.gov.in"
	}
	if c.ABHAAddressSystem == "" {
		c.ABHAAddressSystem = "https://healthid.abdm.gov.in/abha-address"
	}
	if c.MaxPages <= 0 {
		c.MaxPages = 10
	}
	if len(c.Contexts) == 0 {
		c.Contexts = DefaultContexts()
	}
	seen := map[string]bool{}
	for i := range c.Contexts {
		cc := &c.Contexts[i]
		switch {
		case !typeRE.MatchString(cc.Type):
			return c, 0, fmt.Errorf("contexts[%d].type %q must be a short lower-case name", i, cc.Type)
		case seen[cc.Type]:
			return c, 0, fmt.Errorf("contexts[%d].type %q is listed twice", i, cc.Type)
		case !resourceRE.MatchString(cc.Resource):
			return c, 0, fmt.Errorf("contexts[%d].resource %q is not a FHIR resource type", i, cc.Resource)
		case !cc.HIType.IsKnown():
			return c, 0, fmt.Errorf("contexts[%d].hi_type %q is not an ABDM hiType", i, cc.HIType)
		}
		seen[cc.Type] = true
		if cc.PatientParam == "" {
			cc.PatientParam = "patient"
		}
		if cc.DateParam == "" {
			cc.DateParam = "date"
		}
	}
	return c, timeout, nil
}
