package gateway

import (
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"github.com/google/uuid"
)

// tokenClaims are the claims of the gateway's JWTs, shaped like the
// Keycloak tokens of the real gateway (realm "central-registry").
type tokenClaims struct {
	jwt.Claims
	Type        string       `json:"typ"`
	AZP         string       `json:"azp"`
	ClientID    string       `json:"clientId,omitempty"`
	RealmAccess *realmAccess `json:"realm_access,omitempty"`
}

type realmAccess struct {
	Roles []string `json:"roles"`
}

// CallbackAZP is the azp (and clientId) claim of the JWTs on callbacks;
// session tokens carry the client id there instead.
const CallbackAZP = "gateway"

const (
	tokenTypeAccess  = "Bearer"
	tokenTypeRefresh = "Refresh"
	audience         = "account"
)

// ErrInvalidToken is returned by VerifySessionToken for any token the
// gateway would answer with 401.
var ErrInvalidToken = errors.New("gateway: invalid session token")

// createSession answers POST /gateway/v3/sessions.
func (g *Gateway) createSession(c *call) reply {
	var req struct {
		ClientID     string `json:"clientId"`
		ClientSecret string `json:"clientSecret"`
		GrantType    string `json:"grantType"`
	}
	if err := json.Unmarshal(c.body, &req); err != nil || req.ClientID == "" || req.ClientSecret == "" ||
		req.GrantType != "client_credentials" {
		return errReply(errInvalidBody)
	}
	cl := g.clients[req.ClientID]
	if cl == nil || subtle.ConstantTimeCompare([]byte(cl.Secret), []byte(req.ClientSecret)) != 1 {
		return invalidCredentials
	}
	now := g.now()
	access := g.sessionClaims(cl, tokenTypeAccess, now, g.cfg.TokenTTL)
	refreshTTL := g.cfg.TokenTTL * 3 / 2 // 1200 s → 1800 s, as in the reference example
	refresh := g.sessionClaims(cl, tokenTypeRefresh, now, refreshTTL)
	accessToken, err := g.session.sign(access)
	if err != nil {
		return errReply(errInternal)
	}
	refreshToken, err := g.session.sign(refresh)
	if err != nil {
		return errReply(errInternal)
	}
	g.mu.Lock()
	g.issued[cl.ID] = append(g.issued[cl.ID], access.ID)
	g.mu.Unlock()
	// The spec lists 202 for sessions; clients must accept any 2xx.
	return reply{status: http.StatusAccepted, body: map[string]any{
		"accessToken":      accessToken,
		"expiresIn":        int(g.cfg.TokenTTL.Seconds()),
		"refreshExpiresIn": int(refreshTTL.Seconds()),
		"refreshToken":     refreshToken,
		"tokenType":        "bearer",
	}}
}

func (g *Gateway) sessionClaims(cl *Client, typ string, now time.Time, ttl time.Duration) tokenClaims {
	var roles []string
	for _, s := range cl.Services {
		for _, t := range s.Types {
			if r := strings.ToLower(t); !slices.Contains(roles, r) {
				roles = append(roles, r)
			}
		}
	}
	slices.Sort(roles)
	return tokenClaims{
		Claims: jwt.Claims{
			ID:       uuid.NewString(),
			Issuer:   g.issuer,
			Subject:  uuid.NewSHA1(uuid.NameSpaceURL, []byte(g.issuer+"/clients/"+cl.ID)).String(),
			Audience: jwt.Audience{audience},
			IssuedAt: jwt.NewNumericDate(now),
			Expiry:   jwt.NewNumericDate(now.Add(ttl)),
		},
		Type:        typ,
		AZP:         cl.ID,
		ClientID:    cl.ID,
		RealmAccess: &realmAccess{Roles: roles},
	}
}

// VerifySessionToken checks a session access token the gateway issued and
// returns the client it was issued to. Other simulated ABDM services that
// take the gateway's token (the ABHA service) use it too.
func (g *Gateway) VerifySessionToken(token string) (clientID string, err error) {
	var cl tokenClaims
	if err := g.session.verify(token, &cl); err != nil {
		return "", fmt.Errorf("%w: %w", ErrInvalidToken, err)
	}
	err = cl.ValidateWithLeeway(jwt.Expected{
		Issuer:      g.issuer,
		AnyAudience: jwt.Audience{audience},
		Time:        g.now(),
	}, 0)
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrInvalidToken, err)
	}
	if cl.Type != tokenTypeAccess || g.clients[cl.AZP] == nil {
		return "", fmt.Errorf("%w: not an access token of a known client", ErrInvalidToken)
	}
	g.mu.Lock()
	revoked := g.revoked[cl.ID]
	g.mu.Unlock()
	if revoked {
		return "", fmt.Errorf("%w: revoked", ErrInvalidToken)
	}
	return cl.AZP, nil
}

// RevokeTokens invalidates every session token issued so far to clientID;
// the next call with one gets 401 code 900901, as when the real gateway
// drops a session early.
func (g *Gateway) RevokeTokens(clientID string) error {
	if g.clients[clientID] == nil {
		return fmt.Errorf("revoking tokens: unknown client %q", clientID)
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, jti := range g.issued[clientID] {
		g.revoked[jti] = true
	}
	g.issued[clientID] = nil
	return nil
}

// showCerts answers GET /gateway/v3/certs: the JWKS with the RS256 key
// that signs tokens and callbacks and the RS512 key kept for link tokens.
func (g *Gateway) showCerts(*call) reply {
	return reply{status: http.StatusOK, body: g.JWKS()}
}

// JWKS is the key set GET /gateway/v3/certs publishes.
func (g *Gateway) JWKS() jose.JSONWebKeySet {
	return jose.JSONWebKeySet{Keys: []jose.JSONWebKey{g.session.public, g.link.public}}
}

// showOpenIDConfiguration answers the public discovery document, which
// only points at the key set.
func (g *Gateway) showOpenIDConfiguration(*call) reply {
	return reply{status: http.StatusOK, body: map[string]string{"jwks_uri": g.base + pathCerts}}
}
