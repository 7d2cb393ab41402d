package gateway_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/google/uuid"
)

func TestHeaderValidation(t *testing.T) {
	clk := &clock{t: time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)}
	b := setup(t, withClock(clk))
	genTok := map[string]any{"abhaNumber": "91123456789012", "abhaAddress": "someone@sbx", "name": "A", "gender": "M", "yearOfBirth": 1990}
	ts := func(d time.Duration, layout string) string { return clk.Now().Add(d).UTC().Format(layout) }

	tests := []struct {
		name        string
		path        string
		body        any
		mods        []func(*http.Request)
		wantStatus  int
		wantCode    string
		wantMessage string
	}{
		{"missing REQUEST-ID", pathGenTok, genTok, []func(*http.Request){header("REQUEST-ID", "")}, 400, "ABDM-2404", "Invalid Request Id"},
		{"REQUEST-ID not a UUID", pathGenTok, genTok, []func(*http.Request){header("REQUEST-ID", "req-1")}, 400, "ABDM-2404", ""},
		{"REQUEST-ID braced", pathGenTok, genTok, []func(*http.Request){header("REQUEST-ID", "{"+uuid.NewString()+"}")}, 400, "ABDM-2404", ""},
		{"missing TIMESTAMP", pathGenTok, genTok, []func(*http.Request){header("TIMESTAMP", "")}, 400, "ABDM-2402", "Invalid Timestamp"},
		{"TIMESTAMP not ISO", pathGenTok, genTok, []func(*http.Request){header("TIMESTAMP", ts(0, "2006-01-02 15:04:05"))}, 400, "ABDM-2402", ""},
		{"TIMESTAMP without zone", pathGenTok, genTok, []func(*http.Request){header("TIMESTAMP", ts(0, "2006-01-02T15:04:05.000"))}, 400, "ABDM-2402", ""},
		{"TIMESTAMP 2 min old", pathGenTok, genTok, []func(*http.Request){header("TIMESTAMP", ts(-2*time.Minute, tsLayout))}, 400, "ABDM-2402", ""},
		{"TIMESTAMP 10 min ahead", pathGenTok, genTok, []func(*http.Request){header("TIMESTAMP", ts(10*time.Minute, tsLayout))}, 400, "ABDM-2402", ""},
		{"TIMESTAMP without millis", pathGenTok, genTok, []func(*http.Request){header("TIMESTAMP", ts(0, "2006-01-02T15:04:05Z"))}, 202, "", ""},
		{"TIMESTAMP 8 min ahead", pathGenTok, genTok, []func(*http.Request){header("TIMESTAMP", ts(8*time.Minute, tsLayout))}, 202, "", ""},
		{"missing X-CM-ID", pathGenTok, genTok, []func(*http.Request){header("X-CM-ID", "")}, 400, "ABDM-2403", "Invalid X-CM-ID"},
		{"production X-CM-ID", pathGenTok, genTok, []func(*http.Request){header("X-CM-ID", "abdm")}, 400, "ABDM-2403", ""},
		{"missing Content-Type", pathGenTok, genTok, []func(*http.Request){header("Content-Type", "")}, 400, "ABDM-9999: ",
			`415 UNSUPPORTED_MEDIA_TYPE "Content type 'application/octet-stream' not supported"`},
		{"Content-Type with charset", pathGenTok, genTok, []func(*http.Request){header("Content-Type", "application/json; charset=utf-8")}, 202, "", ""},
		{"empty body", pathGenTok, " ", nil, 400, "ABDM-1064", "Request body was missing"},
		{"body not JSON", pathGenTok, "{abha", nil, 400, "ABDM-1006: ", "Bad Request, invalid request Body"},
		{"X-HIP-ID missing where required", pathGenTok, genTok, nil, 400, "ABDM-1032", "Invalid header"},
		{"X-LINK-TOKEN missing", "/hip/v3/link/carecontext", map[string]any{}, []func(*http.Request){header("X-HIP-ID", hipA)}, 400, "ABDM-1032", ""},
		{"X-HIP-ID of another client", pathGenTok, genTok, []func(*http.Request){header("X-HIP-ID", hipB)}, 400, "ABDM-1035", "Invalid HIP ID"},
		{"X-HIP-ID inactive", pathGenTok, genTok, []func(*http.Request){header("X-HIP-ID", inactiveA)}, 400, "ABDM-1035", ""},
		{"X-HIP-ID is an HIU", pathGenTok, genTok, []func(*http.Request){header("X-HIP-ID", hiuA)}, 400, "ABDM-1035", ""},
		{"X-HIU-ID unknown", "/consent/v3/fetch", map[string]string{"consentId": uuid.NewString()}, []func(*http.Request){header("X-HIU-ID", "NOPE")}, 400, "ABDM-1040", "Invalid HIU ID"},
		{"X-HIU-ID missing where required", "/consent/v3/fetch", map[string]string{"consentId": uuid.NewString()}, nil, 400, "ABDM-1032", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mods := append([]func(*http.Request){}, tt.mods...)
			if tt.path == pathGenTok && tt.name != "X-HIP-ID missing where required" {
				mods = append([]func(*http.Request){header("X-HIP-ID", hipA)}, mods...)
			}
			status, raw := b.call(http.MethodPost, tt.path, tt.body, mods...)
			if status != tt.wantStatus {
				t.Fatalf("status %d, body %s; want %d", status, raw, tt.wantStatus)
			}
			if tt.wantCode == "" {
				if len(raw) != 0 {
					t.Errorf("accepted call has body %s; want none", raw)
				}
				return
			}
			code, msg := nestedError(t, raw)
			if code != tt.wantCode || (tt.wantMessage != "" && msg != tt.wantMessage) {
				t.Errorf("error %q %q; want %q %q", code, msg, tt.wantCode, tt.wantMessage)
			}
		})
	}
}

func TestUnknownRoutesGetTheAPIManagerBody(t *testing.T) {
	b := setup(t)
	status, raw := b.call(http.MethodPost, "/gateway/v0.5/sessions", map[string]string{})
	if status != 404 || !contains(raw, `"type":"Status report"`) || !contains(raw, "No matching resource found for given API Request") {
		t.Errorf("unknown path: %d %s; want the 404 Status report", status, raw)
	}
	status, raw = b.call(http.MethodGet, pathGenTok, nil)
	if status != 405 || !contains(raw, `"code":"405"`) {
		t.Errorf("wrong method: %d %s; want 405", status, raw)
	}
}

func TestReusedRequestIDGetsTheDuplicateError(t *testing.T) {
	b := setup(t)
	id := uuid.NewString()
	first, raw := b.call(http.MethodGet, "/gateway/v3/bridge-services", nil, header("REQUEST-ID", id))
	if first != 200 {
		t.Fatalf("first call: %d %s", first, raw)
	}
	// Reuse on another endpoint, by another client: REQUEST-IDs are unique gateway-wide.
	tokenB := b.session(clientB, secretB)
	status, raw := b.call(http.MethodPost, "/consent/v3/request/init", map[string]any{"consent": map[string]any{}},
		header("REQUEST-ID", id), bearer(tokenB))
	code, msg := nestedError(t, raw)
	if status != 400 || code != "ABDM-1064" || msg != "request with this request id already exists" {
		t.Errorf("reused REQUEST-ID: %d %s; want 400 ABDM-1064 request with this request id already exists", status, raw)
	}

	// A call refused for its headers never reached the service, so its
	// REQUEST-ID is still free.
	id2 := uuid.NewString()
	if status, _ := b.call(http.MethodGet, "/gateway/v3/bridge-services", nil, header("REQUEST-ID", id2), header("X-CM-ID", "abdm")); status != 400 {
		t.Fatalf("bad X-CM-ID: status %d; want 400", status)
	}
	if status, raw := b.call(http.MethodGet, "/gateway/v3/bridge-services", nil, header("REQUEST-ID", id2)); status != 200 {
		t.Errorf("retry after a header refusal: %d %s; want 200", status, raw)
	}

	// Reset frees every REQUEST-ID.
	if status, _ := b.control(http.MethodPost, "/reset", nil); status != http.StatusNoContent {
		t.Fatalf("reset: status %d", status)
	}
	if status, raw := b.call(http.MethodGet, "/gateway/v3/bridge-services", nil, header("REQUEST-ID", id)); status != 200 {
		t.Errorf("after reset: %d %s; want 200", status, raw)
	}
}
