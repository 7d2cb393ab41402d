package abha

import (
	"html/template"
	"net/http"
	"slices"
	"strings"
)

// controlMux serves the control API and page (see the package
// documentation). It needs no token: it is the sandbox operator's view.
func (s *Service) controlMux() http.Handler {
	mux := http.NewServeMux()
	const p = controlPrefix
	mux.HandleFunc("GET "+p+"/{$}", s.controlPage)
	mux.HandleFunc("GET "+p, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, p+"/", http.StatusSeeOther)
	})
	mux.HandleFunc("GET "+p+"/otps", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		writeJSON(w, http.StatusOK, map[string]any{"otps": nonNil(s.OTPs(OTPFilter{TxnID: q.Get("txn_id"), Mobile: q.Get("mobile")}))})
	})
	mux.HandleFunc("GET "+p+"/residents", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"residents": s.Residents()})
	})
	mux.HandleFunc("GET "+p+"/accounts", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"accounts": s.Accounts()})
	})
	mux.HandleFunc("POST "+p+"/reset", func(w http.ResponseWriter, _ *http.Request) {
		s.Reset()
		w.WriteHeader(http.StatusNoContent)
	})
	return mux
}

func nonNil[T any](v []T) []T {
	if v == nil {
		return []T{}
	}
	return v
}

// Residents lists the demo Aadhaar identities, in the documented order.
func (s *Service) Residents() []Resident {
	return demoResidents()
}

// Accounts lists the ABHAs the sandbox holds, seeded ones first, then by
// creation.
func (s *Service) Accounts() []Account {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Account, 0, len(s.accounts))
	for _, a := range s.accounts {
		out = append(out, a.clone())
	}
	slices.SortFunc(out, func(a, b Account) int {
		if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(a.ABHANumber, b.ABHANumber)
	})
	return out
}

var controlTemplate = template.Must(template.New("abha").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="5">
<title>ABHA sandbox</title>
<style>body{font-family:system-ui,sans-serif;margin:2rem}table{border-collapse:collapse;margin-bottom:2rem}
td,th{border:1px solid #ccc;padding:.3rem .6rem;text-align:left}code{font-size:1.1em}</style></head>
<body><h1>ABHA sandbox</h1>
<p>Fictional identities only. OTPs appear here and at <code>GET /_sandbox/abha/otps</code>, nowhere else.</p>
<h2>OTPs sent</h2>
<table><tr><th>Sent</th><th>Channel</th><th>Purpose</th><th>To</th><th>OTP</th><th>Status</th><th>Attempts left</th><th>Transaction</th></tr>
{{range .OTPs}}<tr><td>{{.SentAt.Format "15:04:05"}}</td><td>{{.Channel}}</td><td>{{.Purpose}}</td><td>{{.SentTo}}</td>
<td><code>{{.OTP}}</code></td><td>{{.Status}}</td><td>{{.AttemptsLeft}}</td><td>{{.TxnID}}</td></tr>
{{else}}<tr><td colspan="8">None yet.</td></tr>{{end}}</table>
<h2>Aadhaar residents</h2>
<table><tr><th>Aadhaar</th><th>Name</th><th>Gender</th><th>Born</th><th>Aadhaar mobile</th><th>Exercises</th></tr>
{{range .Residents}}<tr><td>{{.Aadhaar}}</td><td>{{.FirstName}} {{.LastName}}</td><td>{{.Gender}}</td>
<td>{{.BirthDay}}/{{.BirthMonth}}/{{.BirthYear}}</td><td>{{.Mobile}}</td><td>{{.Exercises}}</td></tr>{{end}}</table>
<h2>ABHA accounts</h2>
<table><tr><th>ABHA number</th><th>Name</th><th>Preferred address</th><th>Mobile</th><th>Aadhaar</th></tr>
{{range .Accounts}}<tr><td>{{.ABHANumber}}</td><td>{{.Name}}</td><td>{{.Preferred}}</td><td>{{.Mobile}}</td><td>{{.Aadhaar}}</td></tr>{{end}}</table>
<form method="post" action="reset"><button>Reset</button></form>
</body></html>`))

func (s *Service) controlPage(w http.ResponseWriter, _ *http.Request) {
	otps := s.OTPs(OTPFilter{})
	if len(otps) > 50 {
		otps = otps[:50]
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	err := controlTemplate.Execute(w, map[string]any{
		"OTPs": otps, "Residents": s.Residents(), "Accounts": s.Accounts(),
	})
	if err != nil {
		s.log.Error("abha sandbox control page", "error", err)
	}
}
