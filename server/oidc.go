package server

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// relyingParty is Sangam's side of OpenID Connect: the discovered provider,
// the client registration and the ID token verifier.
type relyingParty struct {
	oauth    oauth2.Config
	verifier *oidc.IDTokenVerifier
	client   *http.Client
	// endSession is the provider's end_session_endpoint, or "" when it
	// advertises none (then sign-out only ends Sangam's session).
	endSession string
	// origins are the provider's scheme://host values that sign-in and
	// sign-out send the browser to; the content security policy must allow
	// forms to redirect there.
	origins []string
}

// discover reads the provider's discovery document. Its error names the
// OIDC_ISSUER setting because it ends the process at start.
func discover(ctx context.Context, cfg OIDCConfig, redirectURL string, client *http.Client) (*relyingParty, error) {
	dctx, cancel := context.WithTimeout(oidc.ClientContext(ctx, client), 15*time.Second)
	defer cancel()
	provider, err := oidc.NewProvider(dctx, cfg.Issuer)
	if err != nil {
		return nil, fmt.Errorf("OIDC_ISSUER %s: cannot reach the provider: %w", cfg.Issuer, err)
	}
	var extra struct {
		EndSession string `json:"end_session_endpoint"`
	}
	if err := provider.Claims(&extra); err != nil {
		return nil, fmt.Errorf("OIDC_ISSUER %s: reading the discovery document: %w", cfg.Issuer, err)
	}
	var origins []string
	for _, endpoint := range []string{cfg.Issuer, provider.Endpoint().AuthURL, extra.EndSession} {
		if u, err := url.Parse(endpoint); err == nil && u.Host != "" && !slices.Contains(origins, u.Scheme+"://"+u.Host) {
			origins = append(origins, u.Scheme+"://"+u.Host)
		}
	}
	return &relyingParty{
		oauth: oauth2.Config{
			ClientID:     cfg.ClientID,
			ClientSecret: cfg.ClientSecret,
			Endpoint:     provider.Endpoint(),
			RedirectURL:  redirectURL,
			Scopes:       []string{oidc.ScopeOpenID, "profile", "email"},
		},
		verifier:   provider.Verifier(&oidc.Config{ClientID: cfg.ClientID}),
		client:     client,
		endSession: extra.EndSession,
		origins:    origins,
	}, nil
}

// authCodeURL is where the browser goes to sign in: the authorization code
// flow with PKCE (S256) and a nonce.
func (rp *relyingParty) authCodeURL(p pendingLogin) string {
	return rp.oauth.AuthCodeURL(p.State, oauth2.S256ChallengeOption(p.Verifier), oidc.Nonce(p.Nonce))
}

// staffClaims are the ID token claims Sangam reads.
type staffClaims struct {
	Subject           string      `json:"sub"`
	Name              string      `json:"name"`
	Email             string      `json:"email"`
	PreferredUsername string      `json:"preferred_username"`
	Roles             stringOrSet `json:"roles"`
	Facilities        stringOrSet `json:"facilities"`
	// Tenant is a tenant slug; optional.
	Tenant string `json:"tenant"`
}

// signedIn is the outcome of a verified code exchange.
type signedIn struct {
	claims  staffClaims
	rawID   string
	idToken *oidc.IDToken
}

// exchange trades the authorization code for tokens, verifies the ID token
// (signature, issuer, audience, expiry) and checks its nonce against the one
// this browser's sign-in started with.
func (rp *relyingParty) exchange(ctx context.Context, code string, p pendingLogin) (*signedIn, error) {
	ctx = oidc.ClientContext(ctx, rp.client)
	tok, err := rp.oauth.Exchange(ctx, code, oauth2.VerifierOption(p.Verifier))
	if err != nil {
		return nil, fmt.Errorf("exchanging the authorization code: %w", err)
	}
	raw, ok := tok.Extra("id_token").(string)
	if !ok || raw == "" {
		return nil, fmt.Errorf("the token response has no id_token")
	}
	idt, err := rp.verifier.Verify(ctx, raw)
	if err != nil {
		return nil, fmt.Errorf("verifying the ID token: %w", err)
	}
	if idt.Nonce != p.Nonce {
		return nil, fmt.Errorf("the ID token's nonce does not match this sign-in")
	}
	var c staffClaims
	if err := idt.Claims(&c); err != nil {
		return nil, fmt.Errorf("reading the ID token's claims: %w", err)
	}
	return &signedIn{claims: c, rawID: raw, idToken: idt}, nil
}

// endSessionURL is the provider's RP-initiated logout URL for a session
// whose ID token was rawID, or "" when the provider has none.
func (rp *relyingParty) endSessionURL(rawID, postLogout string) string {
	if rp.endSession == "" {
		return ""
	}
	u, err := url.Parse(rp.endSession)
	if err != nil {
		return ""
	}
	q := u.Query()
	q.Set("client_id", rp.oauth.ClientID)
	q.Set("post_logout_redirect_uri", postLogout)
	if rawID != "" {
		q.Set("id_token_hint", rawID)
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// stringOrSet reads a claim that providers send either as one string or as
// an array of strings (roles are often either).
type stringOrSet []string

func (s *stringOrSet) UnmarshalJSON(b []byte) error {
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		if one == "" {
			*s = nil
		} else {
			*s = stringOrSet{one}
		}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return fmt.Errorf("want a string or an array of strings: %w", err)
	}
	*s = many
	return nil
}
