package cm

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/sangamhealth/sangam/abdm"
)

// ServeHTTP serves the control API under /_sandbox/cm/ (see the package
// documentation).
func (c *CM) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c.controlMux().ServeHTTP(w, r)
}

func (c *CM) controlMux() *http.ServeMux {
	mux := http.NewServeMux()
	const p = "/_sandbox/cm"
	mux.HandleFunc("GET "+p+"/patients", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"patients": nonNil(c.Patients())})
	})
	mux.HandleFunc("GET "+p+"/hips", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"hips": nonNil(c.HIPs())})
	})
	mux.HandleFunc("GET "+p+"/shares", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"shares": c.Shares(r.URL.Query().Get("abha_address"))})
	})
	mux.HandleFunc("GET "+p+"/link-tokens", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"link_tokens": c.LinkTokens()})
	})
	mux.HandleFunc("GET "+p+"/links", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		writeJSON(w, http.StatusOK, map[string]any{"links": c.Links(q.Get("abha_address"), q.Get("hip_id"))})
	})
	mux.HandleFunc("GET "+p+"/discoveries", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"discoveries": c.Discoveries(r.URL.Query().Get("abha_address"))})
	})
	mux.HandleFunc("GET "+p+"/consent-requests", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"consent_requests": c.ConsentRequests(filterFrom(r))})
	})
	mux.HandleFunc("GET "+p+"/consents", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"consents": c.Consents(filterFrom(r))})
	})
	mux.HandleFunc("POST "+p+"/consents/{id}/expire", func(w http.ResponseWriter, r *http.Request) {
		cr, err := c.Expire(r.Context(), r.PathValue("id"))
		if err != nil {
			writeError(w, err)
			return
		}
		writeJSON(w, http.StatusOK, cr)
	})
	mux.HandleFunc("GET "+p+"/transfers", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"transfers": c.Transfers(r.URL.Query().Get("consent_id"))})
	})
	mux.HandleFunc("GET "+p+"/blocks", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"blocks": c.Blocks()})
	})
	mux.HandleFunc("POST "+p+"/blocks", func(w http.ResponseWriter, r *http.Request) {
		var b Block
		if err := decodeStrict(r, &b); err != nil || b.HIPID == "" || b.ABHAAddress == "" {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "want {\"hip_id\",\"abha_address\"}"})
			return
		}
		writeJSON(w, http.StatusOK, c.BlockPatient(b.HIPID, b.ABHAAddress))
	})
	mux.HandleFunc("DELETE "+p+"/blocks", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		c.Unblock(q.Get("hip_id"), q.Get("abha_address"))
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("GET "+p+"/refusals", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"refusals": c.Refusals()})
	})
	mux.HandleFunc("POST "+p+"/expire-due", func(w http.ResponseWriter, r *http.Request) {
		c.ExpireDue(r.Context())
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("POST "+p+"/reset", func(w http.ResponseWriter, _ *http.Request) {
		c.Reset()
		w.WriteHeader(http.StatusNoContent)
	})
	return mux
}

func filterFrom(r *http.Request) ConsentFilter {
	q := r.URL.Query()
	return ConsentFilter{
		ABHAAddress: q.Get("abha_address"), Status: abdm.ConsentStatus(q.Get("status")), HIUID: q.Get("hiu_id"),
		HIPID: q.Get("hip_id"), ConsentRequestID: q.Get("consent_request_id"),
	}
}

func nonNil[T any](v []T) []T {
	if v == nil {
		return []T{}
	}
	return v
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// StatusFor maps the package's error categories to HTTP statuses.
func StatusFor(err error) int {
	switch {
	case errors.Is(err, ErrNotFound):
		return http.StatusNotFound
	case errors.Is(err, ErrInvalid):
		return http.StatusBadRequest
	case errors.Is(err, ErrConflict):
		return http.StatusConflict
	}
	return http.StatusInternalServerError
}

func writeError(w http.ResponseWriter, err error) {
	writeJSON(w, StatusFor(err), map[string]string{"error": err.Error()})
}

func decodeStrict(r *http.Request, v any) error {
	dec := json.NewDecoder(http.MaxBytesReader(nil, r.Body, 1<<20))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("decoding request body: %w", err)
	}
	return nil
}
