package abdmtest_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/sangamhealth/sangam/abdm"
	"github.com/sangamhealth/sangam/abdm/abdmtest"
)

// TestCallbackRoundTrip delivers a signed callback from the fake gateway to a
// bridge that verifies it with abdm.Verifier against the gateway's JWKS.
func TestCallbackRoundTrip(t *testing.T) {
	gw := abdmtest.NewGateway(t)
	gw.AddClient("SBX_1", "secret")
	signer, err := abdmtest.NewSigner()
	if err != nil {
		t.Fatal(err)
	}
	gw.SetKeys(signer.PublicJWK())
	client, err := abdm.New(abdm.Config{GatewayURL: gw.URL, CMID: abdm.CMSandbox,
		Credentials: abdm.CredentialsFunc(func(context.Context, string) (abdm.ClientCredentials, error) {
			return abdm.ClientCredentials{ClientID: "SBX_1", ClientSecret: "secret"}, nil
		})})
	if err != nil {
		t.Fatal(err)
	}
	verifier, err := abdm.NewVerifier(abdm.VerifierConfig{Keys: client})
	if err != nil {
		t.Fatal(err)
	}

	type seen struct {
		hipID, requestID, cmID string
		body                   abdm.DiscoverRequest
		err                    error
	}
	got := make(chan seen, 1)
	bridge := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var s seen
		_, s.err = verifier.Verify(r.Context(), "acme", r.Header.Get("Authorization"))
		data, _ := io.ReadAll(r.Body)
		if s.err == nil {
			s.err = json.Unmarshal(data, &s.body)
		}
		s.hipID, s.requestID, s.cmID = r.Header.Get("X-HIP-ID"), r.Header.Get("REQUEST-ID"), r.Header.Get("X-CM-ID")
		got <- s
		w.WriteHeader(http.StatusAccepted)
	}))
	defer bridge.Close()

	var route abdm.CallbackRoute
	for _, r := range abdm.CallbackRoutes() {
		if r.Path == abdm.CallbackDiscover {
			route = r
		}
	}
	body := abdm.DiscoverRequest{TransactionID: "t-1", Patient: abdm.DiscoverPatient{ID: "someone@sbx", Name: "N", Gender: "F", YearOfBirth: 1990}}
	req, id, err := abdmtest.NewCallbackRequest(t.Context(), signer, bridge.URL+"/bridge/acme", route, "IN2810014366", body)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	s := <-got
	if s.err != nil {
		t.Fatalf("bridge could not verify or decode the callback: %v", s.err)
	}
	if s.hipID != "IN2810014366" || s.requestID != id || s.cmID != "" || s.body.TransactionID != "t-1" {
		t.Errorf("bridge saw %+v (request id %s)", s, id)
	}
}
