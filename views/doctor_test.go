package views

import (
	"strings"
	"testing"
)

func TestDoctorPage(t *testing.T) {
	html := renderString(t, DoctorPage(Page{Title: "Doctor"}, DoctorHome{Facilities: []FacilityRef{{Name: "City", HFRID: "H1"}}}))
	for _, want := range []string{
		`<a href="/patients" data-testid="doctor-patients">Open the patient list</a>`,
		`<a href="/doctor/consents" data-testid="doctor-consents">Open consent requests</a>`,
		`City <span class="muted">HFR H1</span>`,
	} {
		if !strings.Contains(html, want) {
			t.Errorf("doctor page lacks %s", want)
		}
	}
	// Everything a doctor does is built: nothing is announced for later.
	if strings.Contains(html, "Coming in a later release") {
		t.Error("the doctor page still announces a feature for a later release")
	}
}
