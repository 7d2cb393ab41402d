package server

import (
	"fmt"
	"strings"
	"time"

	"github.com/sangamhealth/sangam/abdm"
	"github.com/sangamhealth/sangam/hiu"
	"github.com/sangamhealth/sangam/patients"
	"github.com/sangamhealth/sangam/views"
)

// purposeOrder is the ABDM purposes in the order the form lists them:
// the one doctors use first.
var purposeOrder = []string{
	abdm.PurposeCareManagement, abdm.PurposeBreakTheGlass, abdm.PurposePublicHealth,
	abdm.PurposeHealthcarePayment, abdm.PurposeDiseaseResearch, abdm.PurposeSelfRequested,
}

// hiTypeLabels names the ABDM health information types for doctors.
var hiTypeLabels = map[abdm.HIType]string{
	abdm.HITypeOPConsultation:       "OP consultations",
	abdm.HITypeDiagnosticReport:     "Lab and imaging reports",
	abdm.HITypeDischargeSummary:     "Discharge summaries",
	abdm.HITypePrescription:         "Prescriptions",
	abdm.HITypeImmunizationRecord:   "Immunisations",
	abdm.HITypeHealthDocumentRecord: "Other documents",
	abdm.HITypeWellnessRecord:       "Wellness records",
	abdm.HITypeInvoice:              "Invoices",
}

var hiTypeOrder = []abdm.HIType{
	abdm.HITypeOPConsultation, abdm.HITypeDiagnosticReport, abdm.HITypeDischargeSummary,
	abdm.HITypePrescription, abdm.HITypeImmunizationRecord, abdm.HITypeHealthDocumentRecord,
	abdm.HITypeWellnessRecord, abdm.HITypeInvoice,
}

// defaultConsentForm asks for the last two years, for a consent that
// lasts a month.
func defaultConsentForm(now time.Time) views.ConsentForm {
	today := now.In(indiaTime)
	return views.ConsentForm{
		Purpose: abdm.PurposeCareManagement,
		From:    today.AddDate(-2, 0, 0).Format(time.DateOnly),
		To:      today.Format(time.DateOnly),
		Expiry:  today.AddDate(0, 1, 0).Format(time.DateOnly),
	}
}

func purposeChoices(selected string) []views.Choice {
	out := make([]views.Choice, 0, len(purposeOrder))
	for _, code := range purposeOrder {
		p, _ := abdm.PurposeOf(code)
		out = append(out, views.Choice{Value: code, Label: p.Text + " (" + code + ")", Checked: code == selected})
	}
	return out
}

// hiTypeChoicesFrom ticks the given types; nil (a fresh form) ticks all.
func hiTypeChoicesFrom(types []string) []views.Choice {
	out := make([]views.Choice, 0, len(hiTypeOrder))
	for _, t := range hiTypeOrder {
		checked := types == nil
		for _, x := range types {
			checked = checked || x == string(t)
		}
		out = append(out, views.Choice{Value: string(t), Label: hiTypeLabels[t], Checked: checked})
	}
	return out
}

// patientChoices offers each ABHA address of the matched patients; a
// patient without one cannot be asked through ABDM and is left out.
func patientChoices(rs []patients.SearchResult) []views.Choice {
	var out []views.Choice
	for _, r := range rs {
		for _, id := range r.Patient.Identifiers {
			if id.Kind != "abha_address" {
				continue
			}
			label := r.Patient.Summary.Name
			if b := r.Patient.Summary.Birth(); b != "" {
				label += " (" + b + ")"
			}
			out = append(out, views.Choice{Value: r.Patient.ID + "|" + id.Value, Label: label + " · " + id.Value})
		}
	}
	if len(out) == 1 {
		out[0].Checked = true
	}
	return out
}

func patientChoiceLabel(v string) string {
	_, addr, _ := strings.Cut(v, "|")
	return addr
}

// consentTableModel shows each request with what is really happening:
// how long an unanswered request has waited, when the answer came.
func consentTableModel(reqs []hiu.ConsentRequest, now time.Time) views.ConsentTable {
	var t views.ConsentTable
	for _, r := range reqs {
		p, _ := abdm.PurposeOf(r.Purpose)
		labels := make([]string, 0, len(r.HITypes))
		for _, h := range r.HITypes {
			labels = append(labels, labelOrCode(h))
		}
		row := views.ConsentRow{
			Patient:   r.PatientABHAAddress,
			Purpose:   p.Text,
			HITypes:   strings.Join(labels, ", "),
			Requested: shortClock(r.CreatedAt),
		}
		row.Status, row.StatusClass, row.Detail = consentStatusText(r, now)
		t.Rows = append(t.Rows, row)
	}
	return t
}

func labelOrCode(h string) string {
	if l, ok := hiTypeLabels[abdm.HIType(h)]; ok {
		return l
	}
	return h
}

func consentStatusText(r hiu.ConsentRequest, now time.Time) (status, class, detail string) {
	switch r.Status {
	case hiu.StatusSending:
		if r.LastError != "" {
			return "Not sent yet", "warn", "The consent manager has not taken the request yet (retrying): " + r.LastError
		}
		return "Sending", "wait", "Being sent to the consent manager — " + agoText(now.Sub(r.CreatedAt))
	case hiu.StatusRequested:
		at := r.RequestedAt
		if at.IsZero() {
			at = r.CreatedAt
		}
		return "Requested", "wait", "No answer from the patient yet — requested " + agoText(now.Sub(at))
	case hiu.StatusGranted:
		d := "Granted " + shortClock(r.GrantedAt)
		fetched := 0
		for _, a := range r.Artefacts {
			if !a.FetchedAt.IsZero() {
				fetched++
			}
		}
		d += fmt.Sprintf(" · %d consent(s), records received for %d", len(r.Artefacts), fetched)
		return "Granted", "ok", d
	case hiu.StatusDenied:
		return "Denied", "bad", "The patient said no, " + shortClock(r.DeniedAt)
	case hiu.StatusExpired:
		return "Expired", "bad", "Expired " + shortClock(r.ExpiredAt) + " without an answer or past its end date"
	case hiu.StatusRevoked:
		return "Revoked", "bad", "The patient withdrew consent " + shortClock(r.RevokedAt) + "; records received under it are erased"
	case hiu.StatusFailed:
		return "Failed", "bad", "Could not be sent: " + r.LastError
	}
	return r.Status, "wait", ""
}

// agoText is a rough age: "just now", "12 min ago", "3 h ago", "2 days ago".
func agoText(d time.Duration) string {
	switch {
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		return fmt.Sprintf("%d min ago", int(d/time.Minute))
	case d < 48*time.Hour:
		return fmt.Sprintf("%d h ago", int(d/time.Hour))
	}
	return fmt.Sprintf("%d days ago", int(d/(24*time.Hour)))
}
