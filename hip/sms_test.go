package hip

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestWebhookSMSPostsTheOTP(t *testing.T) {
	var got map[string]string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := json.NewDecoder(r.Body).Decode(&got); err != nil {
			t.Errorf("decoding webhook body: %v", err)
		}
		w.WriteHeader(http.StatusAccepted)
	}))
	defer srv.Close()

	sms := WebhookSMS{URL: srv.URL, From: "Kaveri City Hospital"}
	expires := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
	if err := sms.SendLinkOTP(t.Context(), "tenant", "9000000001", "482913", expires); err != nil {
		t.Fatal(err)
	}
	if got["phone"] != "9000000001" || got["from"] != "Kaveri City Hospital" {
		t.Errorf("webhook got phone %q from %q", got["phone"], got["from"])
	}
	if !strings.Contains(got["text"], "482913") || !strings.Contains(got["text"], "15:30") {
		t.Errorf("text %q lacks the OTP or its expiry in IST", got["text"])
	}
}

func TestWebhookSMSReportsRefusal(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "no credit", http.StatusPaymentRequired)
	}))
	defer srv.Close()
	err := WebhookSMS{URL: srv.URL}.SendLinkOTP(t.Context(), "t", "9000000001", "1", time.Now())
	if err == nil || !strings.Contains(err.Error(), "402") {
		t.Fatalf("err = %v, want the provider's 402", err)
	}
}
