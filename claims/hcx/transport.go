package hcx

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// TokenSource gives the access token sent on every switch and registry
// call: the ABDM gateway session token of the tenant (reference §4).
type TokenSource interface {
	Token(ctx context.Context) (string, error)
}

// TokenInvalidator is implemented by token sources that can drop a token
// the server refused. With one, a 401 answer is retried once with a fresh
// token; without, it is returned as ErrUnauthorized.
type TokenInvalidator interface {
	InvalidateToken(token string)
}

// maxAnswerBytes bounds what we read of acknowledgements, error bodies
// and registry answers; none is legitimately more than a few kilobytes.
const maxAnswerBytes = 1 << 20

// defaultHTTPTimeout applies when the caller gives no HTTP client. NHCX
// answers synchronously with a short acknowledgement, so a minute is
// generous even for large claim bundles on slow uplinks.
const defaultHTTPTimeout = time.Minute

func defaultHTTPClient(c *http.Client) *http.Client {
	if c != nil {
		return c
	}
	return &http.Client{Timeout: defaultHTTPTimeout}
}

// answer is one HTTP response, read.
type answer struct {
	status int
	body   []byte
}

// postJSON sends one POST with the headers NHCX wants: JSON both ways
// (a missing Accept is on NHA's list of common mistakes) and the token as
// both bearer_auth and Authorization.
func postJSON(ctx context.Context, client *http.Client, endpoint, token string, body []byte) (*answer, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("building request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	// Header.Set would canonicalise the name to Bearer_auth; NHCX reads it
	// as written, so it goes into the map directly.
	req.Header["bearer_auth"] = []string{"Bearer " + token}
	resp, err := client.Do(req)
	if err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return nil, ctxErr
		}
		return nil, fmt.Errorf("%w: %w", ErrSwitchUnavailable, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswerBytes))
	if err != nil {
		return nil, fmt.Errorf("%w: reading answer: %w", ErrSwitchUnavailable, err)
	}
	return &answer{status: resp.StatusCode, body: data}, nil
}

// withToken runs call with a token from tokens. When the answer is 401
// and tokens can invalidate, the refused token is dropped and call runs
// once more with a fresh one.
func withToken(ctx context.Context, tokens TokenSource, call func(token string) (*answer, error)) (*answer, error) {
	for attempt := 0; ; attempt++ {
		token, err := tokens.Token(ctx)
		if err != nil {
			return nil, fmt.Errorf("getting NHCX access token: %w", err)
		}
		if token == "" {
			return nil, errors.New("getting NHCX access token: token source gave an empty token")
		}
		a, err := call(token)
		if err != nil {
			return nil, err
		}
		inv, ok := tokens.(TokenInvalidator)
		if a.status != http.StatusUnauthorized || !ok || attempt > 0 {
			return a, nil
		}
		inv.InvalidateToken(token)
	}
}

// checkBaseURL refuses a base URL that cannot be joined with paths.
func checkBaseURL(field, base string) (string, error) {
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return "", fmt.Errorf("%s must be an absolute http(s) URL, got %q", field, base)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("%s must not have a query or fragment, got %q", field, base)
	}
	return strings.TrimRight(base, "/"), nil
}
