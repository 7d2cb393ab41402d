package server

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/sangamhealth/sangam/views"
)

func TestNavFor(t *testing.T) {
	doctor := []views.NavLink{{Label: "Doctor", Href: "/doctor"}, {Label: "Patients", Href: "/patients"}, {Label: "Consent requests", Href: "/doctor/consents"}}
	tests := []struct {
		name    string
		roles   []role
		current string
		want    []views.NavLink
	}{
		{"front desk: its home only", []role{roleFrontDesk}, "/front-desk",
			[]views.NavLink{{Label: "Front desk", Href: "/front-desk", Current: true}}},
		{"doctor: home, patients, consent requests", []role{roleDoctor}, "/doctor/consents",
			[]views.NavLink{doctor[0], doctor[1], {Label: "Consent requests", Href: "/doctor/consents", Current: true}}},
		{"doctor and admin: the doctor's sections before Administration", []role{roleDoctor, roleAdmin}, "/admin",
			append(append([]views.NavLink{}, doctor...), views.NavLink{Label: "Administration", Href: "/admin", Current: true})},
		{"no roles", nil, "/", []views.NavLink{}},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, navFor(tt.roles, tt.current)); diff != "" {
			t.Errorf("%s: navFor (-want +got):\n%s", tt.name, diff)
		}
	}
}

func TestNavCurrent(t *testing.T) {
	tests := []struct {
		roles []role
		want  string
	}{
		{[]role{roleDoctor}, "/patients"},
		{[]role{roleAdmin, roleDoctor}, "/patients"},
		// The front desk has no Patients entry: its home is marked.
		{[]role{roleFrontDesk}, "/front-desk"},
	}
	for _, tt := range tests {
		if got := navCurrent(tt.roles, patientsPath, tt.roles[0].home()); got != tt.want {
			t.Errorf("navCurrent(%v, %q): got %q, want %q", tt.roles, patientsPath, got, tt.want)
		}
	}
}
