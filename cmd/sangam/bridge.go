package main

import (
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/sangamhealth/sangam/abdm"
	"github.com/sangamhealth/sangam/bridge"
	"github.com/sangamhealth/sangam/keys"
)

// bridgeSettings are the ABDM settings serve and onboard share.
type bridgeSettings struct {
	gatewayURL string
	cmID       string
	publicURL  string
	// abhaURL is the ABHA service's base URL; empty when the caller does
	// not talk to it.
	abhaURL string
}

// openBridge wires the ABDM side in its one order: tenants' credentials
// from the key store, the gateway client that uses them, the callback
// verifier over the gateway's keys, then the bridge over all three. extra
// adds what only one caller sets (queue, auto-registration, link tokens).
// The gateway client is returned too, so that the ABHA client shares its
// session tokens instead of opening a second session per tenant.
func openBridge(pool *pgxpool.Pool, store keys.Store, s bridgeSettings, log *slog.Logger, extra func(*bridge.Config)) (*bridge.Bridge, *abdm.Client, error) {
	creds := bridge.NewCredentials(pool, keyStoreSecrets{store})
	gateway, err := abdm.New(abdm.Config{
		GatewayURL: s.gatewayURL, ABHAURL: s.abhaURL, CMID: s.cmID, Credentials: creds,
		HTTPClient: &http.Client{Timeout: 30 * time.Second}, Logger: log,
	})
	if err != nil {
		return nil, nil, fmt.Errorf("ABDM_GATEWAY_URL / ABDM_CM_ID / ABHA_URL: %w", err)
	}
	verifier, err := abdm.NewVerifier(abdm.VerifierConfig{Keys: gateway, Logger: log})
	if err != nil {
		return nil, nil, err
	}
	cfg := bridge.Config{
		Pool: pool, Gateway: gateway, Verifier: verifier, Credentials: creds,
		PublicURL: s.publicURL, Logger: log,
	}
	if extra != nil {
		extra(&cfg)
	}
	b, err := bridge.New(cfg)
	if err != nil {
		return nil, nil, fmt.Errorf("SANGAM_PUBLIC_URL (--public-url): %w", err)
	}
	return b, gateway, nil
}
