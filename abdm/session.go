package abdm

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/google/uuid"
)

// sessionCache holds one session token per tenant.
type sessionCache struct {
	mu      sync.Mutex
	tenants map[string]*tenantSession
}

type tenantSession struct {
	mu        sync.Mutex
	token     string
	refreshAt time.Time // renew from here on
	expiresAt time.Time // unusable from here on
	flight    flight[string]
}

func (s *sessionCache) get(tenant string) *tenantSession {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.tenants == nil {
		s.tenants = make(map[string]*tenantSession)
	}
	ts, ok := s.tenants[tenant]
	if !ok {
		ts = &tenantSession{}
		s.tenants[tenant] = ts
	}
	return ts
}

// invalidate drops the tenant's token if it is still the one that was
// refused, so that concurrent 401s do not throw away a token another caller
// has just fetched.
func (s *sessionCache) invalidate(tenant, token string) {
	ts := s.get(tenant)
	ts.mu.Lock()
	defer ts.mu.Unlock()
	if ts.token == token {
		ts.token = ""
		ts.refreshAt, ts.expiresAt = time.Time{}, time.Time{}
	}
}

// sessionToken returns the tenant's cached token, fetching a new one when
// none is cached or the cached one is within the refresh margin of expiry.
// Concurrent callers share one fetch.
func (c *Client) sessionToken(ctx context.Context, tenant string) (string, error) {
	ts := c.sessions.get(tenant)
	now := c.now()
	ts.mu.Lock()
	token, refreshAt, expiresAt := ts.token, ts.refreshAt, ts.expiresAt
	ts.mu.Unlock()
	if token != "" && now.Before(refreshAt) {
		return token, nil
	}

	fresh, err := ts.flight.do(ctx, func() (string, error) {
		return c.createSession(ctx, tenant, ts)
	})
	if err != nil {
		// A failed early renewal should not stop work while the old token
		// is still valid.
		if token != "" && now.Before(expiresAt) && ctx.Err() == nil {
			c.log.WarnContext(ctx, "abdm session renewal failed, using current token until it expires",
				"tenant", tenant, "expires_at", expiresAt, "error", err)
			return token, nil
		}
		return "", err
	}
	return fresh, nil
}

// createSession calls POST /gateway/v3/sessions and stores the token. It
// runs detached from the caller that triggered it, bounded by
// SessionTimeout.
func (c *Client) createSession(ctx context.Context, tenant string, ts *tenantSession) (string, error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.sessionTimeout)
	defer cancel()

	creds, err := c.creds.ClientCredentials(ctx, tenant)
	if err != nil {
		return "", fmt.Errorf("looking up ABDM client credentials for tenant %q: %w", tenant, err)
	}
	if creds.ClientID == "" || creds.ClientSecret == "" {
		return "", fmt.Errorf("ABDM client credentials for tenant %q are incomplete", tenant)
	}
	body, err := json.Marshal(SessionRequest{
		ClientID:     creds.ClientID,
		ClientSecret: creds.ClientSecret,
		GrantType:    GrantClientCredentials,
	})
	if err != nil {
		return "", fmt.Errorf("encoding session request: %w", err)
	}
	id, err := uuid.NewRandom()
	if err != nil {
		return "", fmt.Errorf("generating REQUEST-ID: %w", err)
	}

	start := c.now()
	resp, err := c.exchange(ctx, tenant, http.MethodPost, c.gatewayURL, PathSessions, id.String(), make(http.Header), body)
	if err != nil {
		return "", fmt.Errorf("creating ABDM session for tenant %q: %w", tenant, err)
	}
	// The spec says 202, clients accept any 2xx.
	if resp.StatusCode < 200 || resp.StatusCode >= 300 {
		return "", fmt.Errorf("creating ABDM session for tenant %q: %w", tenant, ParseError(resp.StatusCode, resp.Body))
	}
	var s Session
	if err := resp.Decode(&s); err != nil {
		return "", fmt.Errorf("creating ABDM session for tenant %q: %w", tenant, err)
	}
	if s.AccessToken == "" {
		return "", fmt.Errorf("creating ABDM session for tenant %q: %w", tenant, errors.New("no accessToken in answer"))
	}

	lifetime := time.Duration(s.ExpiresIn) * time.Second
	if lifetime <= 0 {
		c.log.WarnContext(ctx, "abdm session answer has no expiresIn, assuming a short lifetime",
			"tenant", tenant, "assumed", fallbackSessionLifetime)
		lifetime = fallbackSessionLifetime
	}
	margin := min(c.refreshMargin, lifetime/2)

	ts.mu.Lock()
	ts.token = s.AccessToken
	ts.refreshAt = start.Add(lifetime - margin)
	ts.expiresAt = start.Add(lifetime)
	ts.mu.Unlock()

	c.log.InfoContext(ctx, "abdm session created", "tenant", tenant, "client_id", creds.ClientID, "expires_in", lifetime)
	return s.AccessToken, nil
}

// Token returns the tenant's gateway session token, the same one the
// client's own calls carry. NHCX takes it as its access token (bearer_auth),
// so the claims module borrows it instead of keeping a second session.
func (c *Client) Token(ctx context.Context, tenant string) (string, error) {
	return c.sessionToken(ctx, tenant)
}

// InvalidateToken drops token if it is still the tenant's current one, for
// a caller whose request with it was refused as unauthenticated; the next
// Token fetches a fresh session.
func (c *Client) InvalidateToken(tenant, token string) {
	c.sessions.invalidate(tenant, token)
}
