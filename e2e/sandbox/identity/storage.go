package identity

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// Lifetimes. Codes are short-lived as RFC 6749 §4.1.2 advises; access tokens
// only serve /userinfo, since Sangam keeps its own session after login.
const (
	authRequestTTL = 10 * time.Minute
	codeTTL        = 2 * time.Minute
	accessTokenTTL = 15 * time.Minute
)

var (
	errNotFound     = errors.New("not found")
	errExpired      = errors.New("expired")
	errUnsupported  = errors.New("not supported by the sandbox identity provider")
	errCodeReused   = errors.New("authorization code already used")
	errCodeNotReady = errors.New("authorization request is not complete")
)

// codeGrant is an issued authorization code. It is kept after redemption,
// until it would have expired, so a second use can be recognised.
type codeGrant struct {
	authRequestID string
	issuedAt      time.Time
	redeemed      bool
}

type accessToken struct {
	id            string
	authRequestID string
	clientID      string
	subject       string
	scopes        []string
	expiresAt     time.Time
}

// storage implements op.Storage in memory. One mutex guards everything:
// the sandbox serves a handful of logins, so contention does not matter.
type storage struct {
	key     *signingKey
	clients map[string]*opClient
	users   map[string]*User // by subject
	logins  map[string]*User // by lower-cased username

	mu           sync.Mutex
	authRequests map[string]*authRequest
	codes        map[string]*codeGrant
	tokens       map[string]*accessToken
}

var (
	_ op.Storage                   = (*storage)(nil)
	_ op.CanSetUserinfoFromRequest = (*storage)(nil)
)

func newStorage(key *signingKey, clients []*opClient, users []User) *storage {
	s := &storage{
		key:          key,
		clients:      make(map[string]*opClient, len(clients)),
		users:        make(map[string]*User, len(users)),
		logins:       make(map[string]*User, len(users)),
		authRequests: make(map[string]*authRequest),
		codes:        make(map[string]*codeGrant),
		tokens:       make(map[string]*accessToken),
	}
	for _, c := range clients {
		s.clients[c.ID] = c
	}
	for _, u := range users {
		u := u.clone()
		s.users[u.Subject] = &u
		s.logins[strings.ToLower(u.Username)] = &u
	}
	return s
}

// checkPassword returns the user if the username and password match. The
// comparison runs in constant time and also for unknown usernames, so timing
// does not reveal which usernames exist.
func (s *storage) checkPassword(username, password string) (*User, bool) {
	u, known := s.logins[strings.ToLower(strings.TrimSpace(username))]
	want := ""
	if known {
		want = u.Password
	}
	got, exp := sha256.Sum256([]byte(password)), sha256.Sum256([]byte(want))
	if subtle.ConstantTimeCompare(got[:], exp[:]) != 1 || !known {
		return nil, false
	}
	return u, true
}

// completeLogin records that subject signed in for the auth request.
func (s *storage) completeLogin(id, subject string, now time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	req, err := s.liveAuthRequest(id, now)
	if err != nil {
		return err
	}
	if req.done {
		return fmt.Errorf("auth request %s: already signed in", id)
	}
	next := *req
	next.subject, next.authTime, next.done = subject, now, true
	s.authRequests[id] = &next
	return nil
}

// pendingAuthRequest returns a live auth request that no one has signed in to yet.
func (s *storage) pendingAuthRequest(id string, now time.Time) (*authRequest, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	req, err := s.liveAuthRequest(id, now)
	if err != nil || req.done {
		return nil, false
	}
	return req, true
}

// liveAuthRequest returns a stored, unexpired auth request. Callers hold mu.
func (s *storage) liveAuthRequest(id string, now time.Time) (*authRequest, error) {
	req, ok := s.authRequests[id]
	if !ok {
		return nil, fmt.Errorf("auth request %s: %w", id, errNotFound)
	}
	if now.Sub(req.createdAt) > authRequestTTL {
		return nil, fmt.Errorf("auth request %s: %w", id, errExpired)
	}
	return req, nil
}

// sweep drops expired state so memory stays bounded. Callers hold mu.
func (s *storage) sweep(now time.Time) {
	for id, r := range s.authRequests {
		if now.Sub(r.createdAt) > authRequestTTL {
			delete(s.authRequests, id)
		}
	}
	for c, g := range s.codes {
		// Redeemed codes are remembered while their tokens may live, so
		// that a replay can still revoke them.
		if now.Sub(g.issuedAt) > codeTTL+accessTokenTTL {
			delete(s.codes, c)
		}
	}
	for id, t := range s.tokens {
		if now.After(t.expiresAt) {
			delete(s.tokens, id)
		}
	}
}

// CreateAuthRequest stores a validated /authorize request. The library has
// already checked the client, redirect URI, scopes and response type; the
// sandbox adds that PKCE S256 is mandatory and that it cannot answer
// prompt=none, having no single sign-on session.
func (s *storage) CreateAuthRequest(ctx context.Context, req *oidc.AuthRequest, _ string) (op.AuthRequest, error) {
	if req.CodeChallenge == "" || req.CodeChallengeMethod != oidc.CodeChallengeMethodS256 {
		return nil, oidc.ErrInvalidRequest().WithDescription("PKCE is required: send code_challenge with code_challenge_method=S256")
	}
	if slices.Contains(req.Prompt, oidc.PromptNone) {
		return nil, oidc.ErrLoginRequired().WithDescription("the sandbox provider has no sign-in session; prompt=none cannot succeed")
	}
	now := time.Now()
	r := &authRequest{
		id:           rand.Text(),
		createdAt:    now,
		clientID:     req.ClientID,
		redirectURI:  req.RedirectURI,
		state:        req.State,
		nonce:        req.Nonce,
		scopes:       slices.Clone([]string(req.Scopes)),
		responseType: req.ResponseType,
		responseMode: req.ResponseMode,
		codeChallenge: oidc.CodeChallenge{
			Challenge: req.CodeChallenge,
			Method:    req.CodeChallengeMethod,
		},
		loginHint: req.LoginHint,
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sweep(now)
	s.authRequests[r.id] = r
	return r, nil
}

func (s *storage) AuthRequestByID(ctx context.Context, id string) (op.AuthRequest, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.liveAuthRequest(id, time.Now())
}

// AuthRequestByCode looks a code up for the token endpoint. The code is
// only spent once tokens are created for it (CreateAccessToken), so an
// exchange refused for a wrong secret or verifier leaves it usable: the
// oauth2 package retries a refused client authentication with the secret in
// the body, and a spent code would hide the real error behind invalid_grant.
// A code presented after it was spent is refused and revokes the access
// tokens it produced (RFC 6749 §4.1.2).
func (s *storage) AuthRequestByCode(ctx context.Context, code string) (op.AuthRequest, error) {
	now := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	g, ok := s.codes[code]
	if !ok {
		return nil, fmt.Errorf("code: %w", errNotFound)
	}
	if g.redeemed {
		s.revokeTokensOf(g.authRequestID)
		return nil, errCodeReused
	}
	if now.Sub(g.issuedAt) > codeTTL {
		return nil, fmt.Errorf("code: %w", errExpired)
	}
	return s.liveAuthRequest(g.authRequestID, now)
}

// revokeTokensOf drops the access tokens issued for an auth request. Callers hold mu.
func (s *storage) revokeTokensOf(authRequestID string) {
	for id, t := range s.tokens {
		if t.authRequestID == authRequestID {
			delete(s.tokens, id)
		}
	}
}

// SaveAuthCode binds a code to a completed auth request, at most once per
// request, so replaying /authorize/callback cannot mint a second code.
func (s *storage) SaveAuthCode(ctx context.Context, id, code string) error {
	now := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	req, err := s.liveAuthRequest(id, now)
	if err != nil {
		return err
	}
	if !req.done {
		return fmt.Errorf("auth request %s: %w", id, errCodeNotReady)
	}
	if req.codeIssued {
		return fmt.Errorf("auth request %s: a code was already issued", id)
	}
	next := *req
	next.codeIssued = true
	s.authRequests[id] = &next
	s.codes[code] = &codeGrant{authRequestID: id, issuedAt: now}
	return nil
}

func (s *storage) DeleteAuthRequest(ctx context.Context, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.authRequests, id)
	return nil
}

// CreateAccessToken issues the opaque access token of a code exchange and
// spends the code; the library calls it only after the client, the PKCE
// verifier and the redirect URI have been checked. The library encrypts the
// returned id into the token it hands out.
func (s *storage) CreateAccessToken(ctx context.Context, req op.TokenRequest) (string, time.Time, error) {
	ar, ok := req.(*authRequest)
	if !ok {
		return "", time.Time{}, fmt.Errorf("access token for %T: %w", req, errUnsupported)
	}
	now := time.Now()
	t := &accessToken{
		id:            rand.Text(),
		authRequestID: ar.id,
		clientID:      ar.clientID,
		subject:       ar.subject,
		scopes:        slices.Clone(ar.scopes),
		expiresAt:     now.Add(accessTokenTTL),
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.codeOf(ar.id)
	if g == nil || g.redeemed {
		// Two exchanges of one code raced; the first one won.
		s.revokeTokensOf(ar.id)
		return "", time.Time{}, oidc.ErrInvalidGrant().WithDescription("invalid code").WithParent(errCodeReused)
	}
	g.redeemed = true
	s.sweep(now)
	s.tokens[t.id] = t
	return t.id, t.expiresAt, nil
}

// codeOf returns the code issued for an auth request. Callers hold mu.
func (s *storage) codeOf(authRequestID string) *codeGrant {
	for _, g := range s.codes {
		if g.authRequestID == authRequestID {
			return g
		}
	}
	return nil
}

// CreateAccessAndRefreshTokens is unreachable: no client has the
// refresh_token grant.
func (s *storage) CreateAccessAndRefreshTokens(ctx context.Context, req op.TokenRequest, _ string) (string, string, time.Time, error) {
	return "", "", time.Time{}, fmt.Errorf("refresh tokens: %w", errUnsupported)
}

func (s *storage) TokenRequestByRefreshToken(ctx context.Context, _ string) (op.RefreshTokenRequest, error) {
	return nil, op.ErrInvalidRefreshToken
}

func (s *storage) GetRefreshTokenInfo(ctx context.Context, _, _ string) (string, string, error) {
	return "", "", op.ErrInvalidRefreshToken
}

// TerminateSession is RP-initiated logout: without an SSO session there is
// nothing to end but the user's access tokens at that client.
func (s *storage) TerminateSession(ctx context.Context, userID, clientID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for id, t := range s.tokens {
		if t.subject == userID && (clientID == "" || t.clientID == clientID) {
			delete(s.tokens, id)
		}
	}
	return nil
}

// RevokeToken revokes an access token of the calling client. Unknown tokens
// are not an error (RFC 7009 §2.2).
func (s *storage) RevokeToken(ctx context.Context, tokenID, userID, clientID string) *oidc.Error {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tokens[tokenID]
	if !ok {
		return nil
	}
	if t.clientID != clientID {
		return oidc.ErrInvalidClient().WithDescription("token was issued to another client")
	}
	delete(s.tokens, tokenID)
	return nil
}

func (s *storage) SigningKey(ctx context.Context) (op.SigningKey, error) { return s.key, nil }

func (s *storage) SignatureAlgorithms(ctx context.Context) ([]jose.SignatureAlgorithm, error) {
	return []jose.SignatureAlgorithm{s.key.SignatureAlgorithm()}, nil
}

func (s *storage) KeySet(ctx context.Context) ([]op.Key, error) {
	return []op.Key{s.key.public()}, nil
}

func (s *storage) GetClientByClientID(ctx context.Context, clientID string) (op.Client, error) {
	c, ok := s.clients[clientID]
	if !ok {
		return nil, fmt.Errorf("client %q: %w", clientID, errNotFound)
	}
	return c, nil
}

func (s *storage) AuthorizeClientIDSecret(ctx context.Context, clientID, secret string) error {
	c, ok := s.clients[clientID]
	if !ok {
		return fmt.Errorf("client %q: %w", clientID, errNotFound)
	}
	if subtle.ConstantTimeCompare([]byte(c.Secret), []byte(secret)) != 1 {
		return fmt.Errorf("client %q: wrong secret", clientID)
	}
	return nil
}

// SetUserinfoFromScopes is deprecated in the library, which calls
// SetUserinfoFromRequest right after it.
func (s *storage) SetUserinfoFromScopes(ctx context.Context, _ *oidc.UserInfo, _, _ string, _ []string) error {
	return nil
}

// SetUserinfoFromRequest fills the ID token's claims.
func (s *storage) SetUserinfoFromRequest(ctx context.Context, info *oidc.UserInfo, req op.IDTokenRequest, scopes []string) error {
	u, ok := s.users[req.GetSubject()]
	if !ok {
		return fmt.Errorf("user %q: %w", req.GetSubject(), errNotFound)
	}
	setUserinfo(info, u, scopes)
	return nil
}

// SetUserinfoFromToken answers /userinfo.
func (s *storage) SetUserinfoFromToken(ctx context.Context, info *oidc.UserInfo, tokenID, subject, _ string) error {
	t, err := s.validToken(tokenID, subject)
	if err != nil {
		return err
	}
	u, ok := s.users[t.subject]
	if !ok {
		return fmt.Errorf("user %q: %w", t.subject, errNotFound)
	}
	setUserinfo(info, u, t.scopes)
	return nil
}

// SetIntrospectionFromToken answers /oauth/introspect for a token issued to
// the calling client. Anything else is reported as inactive.
func (s *storage) SetIntrospectionFromToken(ctx context.Context, resp *oidc.IntrospectionResponse, tokenID, subject, clientID string) error {
	t, err := s.validToken(tokenID, subject)
	if err != nil || t.clientID != clientID {
		return nil
	}
	u, ok := s.users[t.subject]
	if !ok {
		return nil
	}
	info := new(oidc.UserInfo)
	setUserinfo(info, u, t.scopes)
	resp.SetUserInfo(info)
	resp.Active = true
	resp.Scope = t.scopes
	resp.ClientID = t.clientID
	resp.Audience = []string{t.clientID}
	resp.Expiration = oidc.FromTime(t.expiresAt)
	return nil
}

func (s *storage) validToken(tokenID, subject string) (*accessToken, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tokens[tokenID]
	if !ok || t.subject != subject {
		return nil, fmt.Errorf("access token: %w", errNotFound)
	}
	if time.Now().After(t.expiresAt) {
		return nil, fmt.Errorf("access token: %w", errExpired)
	}
	return t, nil
}

// GetPrivateClaimsFromScopes only feeds JWT access tokens, which the sandbox
// does not issue.
func (s *storage) GetPrivateClaimsFromScopes(ctx context.Context, _, _ string, _ []string) (map[string]any, error) {
	return nil, nil
}

// GetKeyByIDAndClientID serves the JWT-profile grant and private_key_jwt,
// neither of which the sandbox's clients use.
func (s *storage) GetKeyByIDAndClientID(ctx context.Context, keyID, clientID string) (*jose.JSONWebKey, error) {
	return nil, fmt.Errorf("client key %q: %w", keyID, errUnsupported)
}

func (s *storage) ValidateJWTProfileScopes(ctx context.Context, _ string, _ []string) ([]string, error) {
	return nil, fmt.Errorf("JWT profile grant: %w", errUnsupported)
}

func (s *storage) Health(ctx context.Context) error { return nil }
