package remote

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/sangamhealth/sangam/e2e/sandbox/cm"
)

func (h *Hospital) routes() *http.ServeMux {
	mux := http.NewServeMux()
	const p = Prefix
	mux.HandleFunc("POST "+p+"/bridge/{path...}", h.serveBridge(h.callbackHandlers()))
	mux.HandleFunc("POST "+p+"/hiu/push/{key}", h.receivePush)

	mux.HandleFunc("GET "+p+"/{$}", func(w http.ResponseWriter, _ *http.Request) { writeJSON(w, http.StatusOK, h.Status()) })
	mux.HandleFunc("GET "+p+"/hip/records", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"records": h.Records(r.URL.Query().Get("abha_address"))})
	})
	mux.HandleFunc("POST "+p+"/hip/links", h.startLink)
	mux.HandleFunc("GET "+p+"/hip/links", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"links": h.HIPLinks()})
	})
	mux.HandleFunc("GET "+p+"/hip/consents", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"consents": h.HIPConsents()})
	})
	mux.HandleFunc("GET "+p+"/hip/transfers", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"transfers": h.HIPTransfers()})
	})
	mux.HandleFunc("GET "+p+"/hip/otp", func(w http.ResponseWriter, r *http.Request) {
		otp, ok := h.PendingOTP(r.URL.Query().Get("abha_address"))
		if !ok {
			writeJSON(w, http.StatusNotFound, map[string]string{"error": "no link waiting for an OTP"})
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"otp": otp})
	})

	mux.HandleFunc("POST "+p+"/hiu/consent-requests", h.createConsentRequest)
	mux.HandleFunc("GET "+p+"/hiu/consent-requests", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"consent_requests": h.ConsentRequests()})
	})
	mux.HandleFunc("GET "+p+"/hiu/artefacts", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"artefacts": h.Artefacts()})
	})
	mux.HandleFunc("POST "+p+"/hiu/artefacts/{id}/fetch", func(w http.ResponseWriter, r *http.Request) {
		if err := h.Fetch(r.Context(), r.PathValue("id")); err != nil {
			writeJSON(w, http.StatusBadGateway, map[string]string{"error": err.Error()})
			return
		}
		w.WriteHeader(http.StatusAccepted)
	})
	mux.HandleFunc("POST "+p+"/hiu/artefacts/{id}/request-data", func(w http.ResponseWriter, r *http.Request) {
		dr, err := h.RequestData(r.Context(), r.PathValue("id"))
		if err != nil {
			writeJSON(w, cm.StatusFor(err), map[string]string{"error": err.Error()})
			return
		}
		writeJSON(w, http.StatusOK, dr)
	})
	mux.HandleFunc("GET "+p+"/hiu/data-requests", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"data_requests": h.DataRequests()})
	})
	mux.HandleFunc("GET "+p+"/hiu/received", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		writeJSON(w, http.StatusOK, map[string]any{"received": h.Received(ReceivedFilter{
			ConsentID: q.Get("consent_id"), CareContextReference: q.Get("care_context_reference"), TransactionID: q.Get("transaction_id"),
		})})
	})
	mux.HandleFunc("POST "+p+"/reset", func(w http.ResponseWriter, _ *http.Request) {
		h.Reset()
		w.WriteHeader(http.StatusNoContent)
	})
	return mux
}

// startLink links a patient's records HIP-initiated: {"abha_address"}.
// ?wait=<duration> answers once the link settled.
func (h *Hospital) startLink(w http.ResponseWriter, r *http.Request) {
	var b struct {
		ABHAAddress string `json:"abha_address"`
	}
	if err := decodeStrict(r, &b); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
		return
	}
	l, err := h.LinkPatient(r.Context(), b.ABHAAddress)
	if err != nil {
		writeJSON(w, cm.StatusFor(err), map[string]string{"error": err.Error()})
		return
	}
	h.wait(r, func() bool {
		for _, cur := range h.HIPLinks() {
			if cur.ID == l.ID {
				l = cur
				return cur.Status == LinkLinked || cur.Status == LinkFailed
			}
		}
		return true
	})
	writeJSON(w, http.StatusOK, l)
}

// createConsentRequest asks for consent: a ConsentInput. ?wait= answers
// once on-init arrived.
func (h *Hospital) createConsentRequest(w http.ResponseWriter, r *http.Request) {
	var in ConsentInput
	if err := decodeStrict(r, &in); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
		return
	}
	cr, err := h.RequestConsent(r.Context(), in)
	if err != nil {
		writeJSON(w, cm.StatusFor(err), map[string]string{"error": err.Error()})
		return
	}
	h.wait(r, func() bool {
		cr, _ = h.ConsentRequestByCall(cr.InitRequestID)
		return cr.Status != "sent"
	})
	writeJSON(w, http.StatusOK, cr)
}

// wait honours ?wait=<duration> (at most 30 s).
func (h *Hospital) wait(r *http.Request, cond func() bool) {
	d, err := time.ParseDuration(r.URL.Query().Get("wait"))
	if err != nil || d <= 0 {
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), min(d, 30*time.Second))
	defer cancel()
	_ = h.Wait(ctx, cond) // a timeout answers with the state so far
}

func decodeStrict(r *http.Request, v any) error {
	dec := json.NewDecoder(http.MaxBytesReader(nil, r.Body, 1<<20))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("decoding request body: %w", err)
	}
	return nil
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
