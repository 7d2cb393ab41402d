package remote

import (
	"context"
	"encoding/json"
	"io"
	"net/http"

	"github.com/sangamhealth/sangam/abdm"
)

// inbound is one callback the gateway made to the hospital's bridge.
type inbound struct {
	path      string
	requestID string
	hipID     string
	hiuID     string
	body      []byte
}

// callbackHandlers maps each callback path to what the hospital does with
// it after acknowledging.
func (h *Hospital) callbackHandlers() map[string]func(context.Context, inbound) {
	return map[string]func(context.Context, inbound){
		// HIP.
		abdm.CallbackPatientShare:                h.onShare,
		abdm.CallbackDiscover:                    h.onDiscover,
		abdm.CallbackLinkInit:                    h.onLinkInit,
		abdm.CallbackLinkConfirm:                 h.onLinkConfirm,
		abdm.CallbackOnGenerateToken:             h.onGenerateToken,
		abdm.CallbackOnCareContext:               h.onCareContext,
		abdm.CallbackContextOnNotify:             func(context.Context, inbound) {},
		abdm.CallbackSMSOnNotify:                 func(context.Context, inbound) {},
		abdm.CallbackHIPConsentNotify:            h.onHIPConsentNotify,
		abdm.CallbackHIPHealthInformationRequest: h.onHIRequest,
		// HIU.
		abdm.CallbackConsentRequestOnInit:          h.onConsentInit,
		abdm.CallbackConsentRequestOnStatus:        func(context.Context, inbound) {},
		abdm.CallbackHIUConsentNotify:              h.onHIUConsentNotify,
		abdm.CallbackConsentOnFetch:                h.onConsentFetch,
		abdm.CallbackHIUHealthInformationOnRequest: h.onHIURequestAnswer,
	}
}

// serveBridge receives a callback: it checks the gateway's JWT, drops a
// redelivery of a REQUEST-ID it has seen, acknowledges with 202 and
// handles the callback in the background, as a real bridge does.
func (h *Hospital) serveBridge(handlers map[string]func(context.Context, inbound)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		path := r.PathValue("path")
		fn, ok := handlers["/"+path]
		if !ok {
			w.WriteHeader(http.StatusNotFound)
			return
		}
		if _, err := h.verifier.Verify(r.Context(), h.cfg.ClientID, r.Header.Get("Authorization")); err != nil {
			h.log.WarnContext(r.Context(), "remote hospital: callback refused", "path", path, "error", err)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		body, err := io.ReadAll(io.LimitReader(r.Body, 10<<20))
		if err != nil || !json.Valid(body) {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		in := inbound{
			path: "/" + path, requestID: r.Header.Get(abdm.HeaderRequestID),
			hipID: r.Header.Get(abdm.HeaderHIPID), hiuID: r.Header.Get(abdm.HeaderHIUID), body: body,
		}
		h.mu.Lock()
		dup := h.seen[in.requestID]
		h.seen[in.requestID] = true
		h.mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
		if dup {
			return // the gateway redelivers; the first delivery is being handled
		}
		h.spawn(func(ctx context.Context) { fn(ctx, in) })
	}
}
