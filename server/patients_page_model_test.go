package server

import (
	"testing"
	"time"

	"github.com/sangamhealth/sangam/patients"
	"github.com/sangamhealth/sangam/sources"
)

func TestBirthWithAge(t *testing.T) {
	now := time.Date(2026, 3, 12, 10, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		d    patients.Demographics
		want string
	}{
		{patients.Demographics{BirthDate: time.Date(1968, 3, 12, 0, 0, 0, 0, time.UTC), BirthYear: 1968}, "1968-03-12 (58 years)"},
		{patients.Demographics{BirthDate: time.Date(1968, 3, 13, 0, 0, 0, 0, time.UTC), BirthYear: 1968}, "1968-03-13 (57 years)"},
		{patients.Demographics{BirthDate: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), BirthYear: 2025}, "2025-01-01 (1 year)"},
		{patients.Demographics{BirthYear: 1990}, "1990 (about 36 years)"},
		{patients.Demographics{}, ""},
	} {
		if got := birthWithAge(tc.d, now); got != tc.want {
			t.Errorf("birthWithAge(%v): got %q, want %q", tc.d.Birth(), got, tc.want)
		}
	}
}

func TestSourceStatus(t *testing.T) {
	now := time.Now()
	for _, tc := range []struct {
		name        string
		st          sourceHealth
		want        string
		wantHealthy bool
	}{
		{"events only", sourceHealth{}, "Events only", true},
		{"never checked", sourceHealth{Connector: "sql", State: sources.State{Breaker: sources.BreakerClosed}}, "Not checked yet", true},
		{"open", sourceHealth{Connector: "sql", State: sources.State{Breaker: sources.BreakerOpen, LastFailure: now}}, "Failing: calls paused", false},
		{"half-open", sourceHealth{Connector: "fhir", State: sources.State{Breaker: sources.BreakerHalfOpen}}, "Recovering", false},
		{"failed last", sourceHealth{Connector: "sql", State: sources.State{Breaker: sources.BreakerClosed, LastSuccess: now.Add(-time.Minute), LastFailure: now}}, "Failing", false},
		{"recovered", sourceHealth{Connector: "sql", State: sources.State{Breaker: sources.BreakerClosed, LastSuccess: now, LastFailure: now.Add(-time.Minute)}}, "Healthy", true},
	} {
		got, healthy := sourceStatus(tc.st)
		if got != tc.want || healthy != tc.wantHealthy {
			t.Errorf("%s: got %q, %t; want %q, %t", tc.name, got, healthy, tc.want, tc.wantHealthy)
		}
	}
}

func TestMatchedByText(t *testing.T) {
	r := patients.SearchResult{MatchedBy: []string{patients.MatchedByABHANumber, patients.MatchedByMobile}, NameMatch: "spelling_variant"}
	if got, want := matchedByText(r), "ABHA number, Mobile, Name (spelling variant)"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if got := matchedByText(patients.SearchResult{NameMatch: "conflict"}); got != "" {
		t.Errorf("a conflicting name: got %q, want nothing", got)
	}
}
