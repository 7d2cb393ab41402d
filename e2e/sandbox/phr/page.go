package phr

import (
	"html/template"
	"net/http"
	"slices"
	"strings"

	"github.com/sangamhealth/sangam/abdm"
	"github.com/sangamhealth/sangam/e2e/sandbox/cm"
)

// pageView is what the HTML page shows.
type pageView struct {
	Prefix   string
	Patients []cm.Patient
	HIPs     []cm.Facility
	Selected string
	Msg      string
	Error    string
	// The rest is set when a patient is selected.
	Patient  *cm.Patient
	Overview Overview
	Pending  []pendingRequest
	Granted  []cm.Consent
	Ended    []cm.Consent
}

// pendingRequest is a consent request with the linked records that can
// answer it.
type pendingRequest struct {
	cm.ConsentRequest
	Purpose string
	HIP     string
	Options []cm.LinkedCareContext
}

func (a *App) page(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	v := pageView{
		Prefix: Prefix, Patients: a.cm.Patients(), HIPs: a.cm.HIPs(),
		Selected: q.Get("patient"), Msg: q.Get("msg"), Error: q.Get("error"),
	}
	if p, ok := a.cm.Patient(v.Selected); ok {
		v.Patient = &p
		v.Overview = a.overview(p)
		// Newest first on the page; the JSON API lists oldest first.
		slices.Reverse(v.Overview.Shares)
		slices.Reverse(v.Overview.Discoveries)
		for _, cr := range v.Overview.ConsentRequests {
			if cr.Status == abdm.ConsentRequested {
				v.Pending = append(v.Pending, a.pending(cr, v.Overview.Links))
			}
		}
		for _, c := range v.Overview.Consents {
			if c.Status == abdm.ConsentGranted {
				v.Granted = append(v.Granted, c)
			} else {
				v.Ended = append(v.Ended, c)
			}
		}
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if err := pageTemplate.Execute(w, v); err != nil {
		a.log.ErrorContext(r.Context(), "phr page", "error", err)
	}
}

func (a *App) pending(cr cm.ConsentRequest, links []cm.LinkedCareContext) pendingRequest {
	pr := pendingRequest{ConsentRequest: cr, Purpose: cr.Request.Purpose.Text}
	if pr.Purpose == "" {
		pr.Purpose = cr.Request.Purpose.Code
	}
	if cr.Request.HIP != nil {
		pr.HIP = cr.Request.HIP.ID
	}
	for _, l := range links {
		if pr.HIP != "" && l.HIPID != pr.HIP {
			continue
		}
		if l.HIType != "" && !slices.Contains(cr.Request.HITypes, abdm.HIType(l.HIType)) {
			continue
		}
		pr.Options = append(pr.Options, l)
	}
	return pr
}

var pageTemplate = template.Must(template.New("phr").Funcs(template.FuncMap{
	"join": func(v []abdm.HIType) string {
		s := make([]string, len(v))
		for i, t := range v {
			s[i] = string(t)
		}
		return strings.Join(s, ", ")
	},
	"day": func(t abdm.Time) string { return t.Format("2006-01-02") },
}).Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sandbox PHR app</title>
<style>body{font-family:system-ui,sans-serif;margin:2rem;max-width:70rem}table{border-collapse:collapse;margin:.5rem 0 1.5rem}
td,th{border:1px solid #ccc;padding:.3rem .6rem;text-align:left;vertical-align:top}form.inline{display:inline}
.msg{background:#e8f5e9;padding:.5rem}.err{background:#fdecea;padding:.5rem}fieldset{margin-bottom:1rem}code{font-size:1.05em}</style></head>
<body><h1>Sandbox PHR app</h1>
<p>Act as a patient: scan a counter QR, find and link records, answer consent requests. Fictional people only.</p>
<form method="get" action="{{.Prefix}}/"><label>Patient
<select name="patient">{{range .Patients}}<option value="{{.ABHAAddress}}"{{if eq .ABHAAddress $.Selected}} selected{{end}}>{{.Name}} ({{.ABHAAddress}})</option>{{end}}</select></label>
<button>Open</button></form>
{{if .Msg}}<p class="msg">{{.Msg}}</p>{{end}}{{if .Error}}<p class="err">{{.Error}}</p>{{end}}
{{with .Patient}}{{$addr := .ABHAAddress}}{{$base := printf "%s/patients/%s" $.Prefix .ABHAAddress}}
<h2>{{.Name}} <small>{{.ABHAAddress}}{{if .ABHANumber}} · ABHA {{.ABHANumber}}{{end}}{{if .Mobile}} · mobile {{.Mobile}}{{end}}</small></h2>
<p><a href="{{$.Prefix}}/?patient={{$addr}}">Refresh</a></p>

<fieldset><legend>Scan a counter QR (scan and share)</legend>
<form method="post" action="{{$base}}/share"><label>Facility <select name="hip_id">{{range $.HIPs}}<option value="{{.ID}}">{{.Name}} ({{.ID}})</option>{{end}}</select></label>
<label>Counter <input name="counter_id" value="OPD1" size="8"></label> <button>Share profile</button></form>
<form method="post" action="{{$base}}/share"><label>or paste the QR text <input name="qr" size="60" placeholder="https://phrsbx.abdm.gov.in/share-profile?hip-id=...&amp;counter-id=..."></label> <button>Share</button></form>
<table><tr><th>When</th><th>Facility</th><th>Counter</th><th>Status</th><th>Token</th></tr>
{{range $.Overview.Shares}}<tr><td>{{.SharedAt.Format "15:04:05"}}</td><td>{{.HIPName}} ({{.HIPID}})</td><td>{{.CounterID}}</td><td>{{.Status}}{{with .Error}} – {{.Code}} {{.Message}}{{end}}</td><td><strong>{{.TokenNumber}}</strong></td></tr>{{else}}<tr><td colspan="5">No shares yet.</td></tr>{{end}}</table>
</fieldset>

<fieldset><legend>Linked records</legend>
<table><tr><th>Facility</th><th>Record</th><th>Type</th><th>Patient ref</th><th>Linked</th></tr>
{{range $.Overview.Links}}<tr><td>{{.HIPName}} ({{.HIPID}})</td><td>{{.Display}} <code>{{.CareContextReference}}</code></td><td>{{.HIType}}</td><td>{{.PatientReference}}</td><td>{{.Via}} {{.LinkedAt.Format "2006-01-02 15:04"}}</td></tr>{{else}}<tr><td colspan="5">Nothing linked yet.</td></tr>{{end}}</table>
</fieldset>

<fieldset><legend>Find records at a facility (discovery)</legend>
<form method="post" action="{{$base}}/discover"><label>Facility <select name="hip_id">{{range $.HIPs}}<option value="{{.ID}}">{{.Name}} ({{.ID}})</option>{{end}}</select></label>
<label>Hospital number (optional) <input name="mr" size="12"></label> <button>Find my records</button></form>
{{range $.Overview.Discoveries}}{{$d := .}}<div><h4>{{.HIPName}} ({{.HIPID}}) – {{.Status}}{{with .Error}}: {{.Code}} {{.Message}}{{end}}</h4>
{{if and (eq .Status "discovered") (not .Link)}}<form method="post" action="{{$base}}/discoveries/{{.TransactionID}}/link">
{{range .CareContexts}}<label><input type="checkbox" name="cc" value="{{.PatientReference}}|{{.CareContextReference}}" checked> {{.Display}} <code>{{.CareContextReference}}</code> ({{.HIType}})</label><br>{{else}}<p>No unlinked records found.</p>{{end}}
{{if .CareContexts}}<button>Link selected</button>{{end}}</form>{{end}}
{{with .Link}}<p>Link: {{.Status}}{{with .Error}} – {{.Code}} {{.Message}}{{end}}{{if .CommunicationMedium}} (OTP sent by {{.CommunicationMedium}}){{end}}</p>
{{if eq .Status "awaiting_otp"}}<form method="post" action="{{$base}}/discoveries/{{$d.TransactionID}}/confirm"><label>OTP <input name="otp" size="8" autocomplete="off"></label> <button>Confirm</button></form>{{end}}{{end}}
</div>{{end}}
</fieldset>

<fieldset><legend>Messages on {{if .Mobile}}{{.Mobile}}{{else}}(no mobile){{end}}</legend>
<table><tr><th>When</th><th>From</th><th>Text</th></tr>
{{range $.Overview.SMS}}<tr><td>{{.At.Format "15:04:05"}}</td><td>{{.From}}</td><td>{{.Text}}</td></tr>{{else}}<tr><td colspan="3">No messages.</td></tr>{{end}}</table>
</fieldset>

<fieldset><legend>Consent requests</legend>
{{range $.Pending}}<div><h4>{{.HIUName}} ({{.HIUID}}) asks for {{join .Request.HITypes}}</h4>
<p>Purpose: {{.Purpose}} · requested by {{.Request.Requester.Name}} · records from {{day .Request.Permission.DateRange.From}} to {{day .Request.Permission.DateRange.To}} · kept until {{day .Request.Permission.DataEraseAt}}{{if .HIP}} · facility {{.HIP}}{{end}}</p>
<form method="post" action="{{$base}}/consent-requests/{{.ID}}/approve">
{{range .Options}}<label><input type="checkbox" name="cc" value="{{.HIPID}}|{{.PatientReference}}|{{.CareContextReference}}" checked> {{.HIPName}}: {{.Display}} <code>{{.CareContextReference}}</code> ({{.HIType}})</label><br>{{else}}<p>None of your linked records fits this request.</p>{{end}}
<label>From <input name="from" size="10" placeholder="YYYY-MM-DD"></label> <label>To <input name="to" size="10" placeholder="YYYY-MM-DD"></label>
<button>Approve</button></form>
<form method="post" action="{{$base}}/consent-requests/{{.ID}}/deny"><input name="reason" placeholder="reason (optional)"> <button>Deny</button></form></div>
{{else}}<p>No pending requests.</p>{{end}}
<h4>Granted</h4>
<table><tr><th>To</th><th>From facility</th><th>Records</th><th>Types</th><th>Until</th><th></th></tr>
{{range $.Granted}}<tr><td>{{.Detail.HIU.Name}} ({{.HIUID}})</td><td>{{.HIPID}}</td><td>{{range .Detail.CareContexts}}<code>{{.CareContextReference}}</code> {{end}}</td><td>{{join .Detail.HITypes}}</td><td>{{day .Detail.Permission.DataEraseAt}}</td>
<td><form class="inline" method="post" action="{{$base}}/consents/{{.ID}}/revoke"><button>Revoke</button></form></td></tr>{{else}}<tr><td colspan="6">Nothing granted.</td></tr>{{end}}</table>
{{if $.Ended}}<h4>Ended</h4><ul>{{range $.Ended}}<li>{{.Status}}: {{.Detail.HIU.Name}} ← {{.HIPID}}</li>{{end}}</ul>{{end}}
{{range $.Overview.ConsentRequests}}{{if ne .Status "REQUESTED"}}{{if not .ArtefactIDs}}<p>{{.HIUName}}: {{.Status}}{{with .Reason}} ({{.}}){{end}}</p>{{end}}{{end}}{{end}}
</fieldset>
{{end}}
</body></html>`))
