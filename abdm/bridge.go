package abdm

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	jose "github.com/go-jose/go-jose/v4"
)

// PatchBridgeURL registers bridgeURL as the tenant's callback base (PATCH
// /gateway/v3/bridge/url). The gateway appends /api/v3/... to it. The URL is
// last-writer-wins per client id: two systems sharing a client id steal
// each other's callbacks.
func (c *Client) PatchBridgeURL(ctx context.Context, tenant, bridgeURL string) error {
	u, err := url.Parse(bridgeURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("bridge URL must be an absolute http(s) URL, got %q", bridgeURL)
	}
	_, err = c.Do(ctx, Request{
		Method: http.MethodPatch,
		Path:   PathBridgeURL,
		Tenant: tenant,
		Body:   BridgeURLRequest{URL: strings.TrimRight(bridgeURL, "/")},
	})
	if err != nil {
		return fmt.Errorf("registering bridge URL for tenant %q: %w", tenant, err)
	}
	return nil
}

// BridgeServices returns the tenant's bridge (with its registered URL) and
// services (GET /gateway/v3/bridge-services).
func (c *Client) BridgeServices(ctx context.Context, tenant string) (*BridgeServices, error) {
	resp, err := c.Do(ctx, Request{Method: http.MethodGet, Path: PathBridgeServices, Tenant: tenant})
	if err != nil {
		return nil, fmt.Errorf("listing bridge services for tenant %q: %w", tenant, err)
	}
	var out BridgeServices
	if err := resp.Decode(&out); err != nil {
		return nil, fmt.Errorf("listing bridge services for tenant %q: %w", tenant, err)
	}
	return &out, nil
}

// BridgeService returns one service by id (GET
// /gateway/v3/bridge-service/serviceId/{id}). The gateway answers an unknown
// id with 200 and an empty body; that is returned as ErrNotFound.
func (c *Client) BridgeService(ctx context.Context, tenant, serviceID string) (*BridgeService, error) {
	resp, err := c.Do(ctx, Request{
		Method: http.MethodGet,
		Path:   PathBridgeServiceByID + url.PathEscape(serviceID),
		Tenant: tenant,
	})
	if err != nil {
		return nil, fmt.Errorf("looking up bridge service %q: %w", serviceID, err)
	}
	if len(strings.TrimSpace(string(resp.Body))) == 0 {
		return nil, fmt.Errorf("looking up bridge service %q: %w", serviceID, ErrNotFound)
	}
	var out BridgeService
	if err := resp.Decode(&out); err != nil {
		return nil, fmt.Errorf("looking up bridge service %q: %w", serviceID, err)
	}
	return &out, nil
}

// Certs returns the gateway's callback-signing keys (GET
// /gateway/v3/certs). The endpoint needs a session token, hence the tenant
// whose credentials are used; the key set is the same for every tenant.
// Keys that cannot be parsed are skipped (and logged) so one odd entry does
// not hide the others; an answer without any usable key is an error.
func (c *Client) Certs(ctx context.Context, tenant string) (*jose.JSONWebKeySet, error) {
	resp, err := c.Do(ctx, Request{Method: http.MethodGet, Path: PathCerts, Tenant: tenant})
	if err != nil {
		return nil, fmt.Errorf("fetching gateway keys: %w", err)
	}
	var raw struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := resp.Decode(&raw); err != nil {
		return nil, fmt.Errorf("fetching gateway keys: %w", err)
	}
	set := &jose.JSONWebKeySet{}
	for i, k := range raw.Keys {
		var key jose.JSONWebKey
		if err := key.UnmarshalJSON(k); err != nil {
			c.log.WarnContext(ctx, "skipping unparseable gateway key", "index", i, "error", err)
			continue
		}
		if !key.IsPublic() {
			c.log.WarnContext(ctx, "skipping gateway key that is not a public key", "kid", key.KeyID)
			continue
		}
		set.Keys = append(set.Keys, key)
	}
	if len(set.Keys) == 0 {
		return nil, fmt.Errorf("fetching gateway keys: %w", errors.New("no usable keys in the answer"))
	}
	return set, nil
}
