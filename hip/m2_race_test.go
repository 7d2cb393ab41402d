package hip

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/sangamhealth/sangam/abdm"
	"github.com/sangamhealth/sangam/sources"
)

// The HIU's request can reach us before the consent manager's notify of the
// consent it names; it must be answered once the notify has arrived, not
// refused as an unknown consent.
func TestHIRequestOvertakingItsConsentNotify(t *testing.T) {
	h := newM2Harness(t)
	ctxs := h.registerContexts(t, "his", sources.OPConsultation, 1)
	from, to := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC), time.Now().Add(24*time.Hour)
	u := newHIU(t)

	rid := h.deliver(t, routeHIRequest, u.request("c-late", "txn-late", from, to))
	h.notifyConsent(t, consentBody("c-late", "GRANTED", ctxs, from, to, time.Now().Add(24*time.Hour)))

	var onReq abdm.HealthInformationOnRequest
	if err := json.Unmarshal(h.waitGateway(t, abdm.PathHIPHealthInformationOnRequest, respondsTo(rid)), &onReq); err != nil {
		t.Fatal(err)
	}
	if onReq.Error != nil || onReq.HIRequest == nil || onReq.HIRequest.SessionStatus != abdm.SessionAcknowledged {
		t.Fatalf("on-request = %+v, want acknowledged once the consent is known", onReq)
	}
}
