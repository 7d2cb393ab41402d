package nhcx

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
)

// controlMux serves the control API (see the package documentation). It
// needs no token: it is the sandbox operator's and the tests' view.
func (s *Switch) controlMux() http.Handler {
	mux := http.NewServeMux()
	const p = controlPrefix
	mux.HandleFunc("GET "+p+"/{$}", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{
			"participants": s.Participants(), "rules": s.Rules(), "faults": s.CurrentFaults(),
			"messages": len(s.Messages(Filter{})),
		})
	})
	mux.HandleFunc("GET "+p+"/participants", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"participants": s.Participants()})
	})
	mux.HandleFunc("PUT "+p+"/participants/{code}", func(w http.ResponseWriter, r *http.Request) {
		var pt Participant
		if !decode(w, r, &pt) {
			return
		}
		pt.Code = r.PathValue("code")
		if err := s.RegisterParticipant(pt); err != nil {
			badRequest(w, err)
			return
		}
		got, _ := s.participant(pt.Code)
		writeJSON(w, http.StatusOK, got)
	})
	mux.HandleFunc("GET "+p+"/rules", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"rules": s.Rules()})
	})
	mux.HandleFunc("PUT "+p+"/rules", func(w http.ResponseWriter, r *http.Request) {
		var body struct {
			Rules []Rule `json:"rules"`
		}
		if !decode(w, r, &body) {
			return
		}
		if err := s.SetRules(body.Rules); err != nil {
			badRequest(w, err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"rules": s.Rules()})
	})
	mux.HandleFunc("POST "+p+"/rules", func(w http.ResponseWriter, r *http.Request) {
		var rule Rule
		if !decode(w, r, &rule) {
			return
		}
		if err := s.AddRule(rule); err != nil {
			badRequest(w, err)
			return
		}
		writeJSON(w, http.StatusCreated, map[string]any{"rules": s.Rules()})
	})
	mux.HandleFunc("DELETE "+p+"/rules", func(w http.ResponseWriter, _ *http.Request) {
		_ = s.SetRules(nil)
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("GET "+p+"/messages", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		writeJSON(w, http.StatusOK, map[string]any{"messages": s.Messages(Filter{
			Path: q.Get("path"), CorrelationID: q.Get("correlation_id"),
			Participant: q.Get("participant"), Direction: q.Get("direction"),
		})})
	})
	mux.HandleFunc("GET "+p+"/faults", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, s.CurrentFaults())
	})
	mux.HandleFunc("PUT "+p+"/faults", func(w http.ResponseWriter, r *http.Request) {
		var f Faults
		if !decode(w, r, &f) {
			return
		}
		if err := s.SetFaults(f); err != nil {
			badRequest(w, err)
			return
		}
		writeJSON(w, http.StatusOK, s.CurrentFaults())
	})
	mux.HandleFunc("DELETE "+p+"/faults", func(w http.ResponseWriter, _ *http.Request) {
		_ = s.SetFaults(Faults{})
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("POST "+p+"/requests", func(w http.ResponseWriter, r *http.Request) {
		var t Trigger
		if !decode(w, r, &t) {
			return
		}
		correlation, err := s.Trigger(t)
		if err != nil {
			badRequest(w, err)
			return
		}
		writeJSON(w, http.StatusAccepted, map[string]string{"correlation_id": correlation})
	})
	mux.HandleFunc("POST "+p+"/reset", func(w http.ResponseWriter, _ *http.Request) {
		s.Reset()
		w.WriteHeader(http.StatusNoContent)
	})
	return mux
}

// decode reads a JSON body strictly (control input is ours to get right),
// answering 400 itself when it cannot.
func decode(w http.ResponseWriter, r *http.Request, v any) bool {
	data, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err == nil {
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.DisallowUnknownFields()
		err = dec.Decode(v)
	}
	if err != nil {
		badRequest(w, err)
		return false
	}
	return true
}

func badRequest(w http.ResponseWriter, err error) {
	writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
}
