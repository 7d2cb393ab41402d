package abdm

import (
	"encoding/json"
	"fmt"
	"log/slog"
)

// Gateway housekeeping messages: session, bridge registration (reference
// §1.2, §1.6).

// GrantClientCredentials is the only grant type the sessions call uses.
const GrantClientCredentials = "client_credentials"

// SessionRequest is the body of POST /gateway/v3/sessions. The secret is
// redacted when the value is printed or logged.
type SessionRequest struct {
	ClientID     string `json:"clientId"`
	ClientSecret string `json:"clientSecret"`
	GrantType    string `json:"grantType"`
}

// String implements fmt.Stringer without the secret.
func (r SessionRequest) String() string {
	return fmt.Sprintf("{ClientID:%s ClientSecret:REDACTED GrantType:%s}", r.ClientID, r.GrantType)
}

// GoString implements fmt.GoStringer without the secret.
func (r SessionRequest) GoString() string { return r.String() }

// LogValue implements slog.LogValuer without the secret.
func (r SessionRequest) LogValue() slog.Value {
	return slog.GroupValue(slog.String("client_id", r.ClientID))
}

// Session is the gateway's answer to the sessions call. ExpiresIn is in
// seconds and has changed before, so it is read, not assumed.
type Session struct {
	AccessToken      string `json:"accessToken"`
	ExpiresIn        int    `json:"expiresIn"`
	RefreshExpiresIn int    `json:"refreshExpiresIn"`
	RefreshToken     string `json:"refreshToken"`
	TokenType        string `json:"tokenType"`
}

// BridgeURLRequest is the body of PATCH /gateway/v3/bridge/url. URL is the
// base; the gateway appends /api/v3/... paths.
type BridgeURLRequest struct {
	URL string `json:"url"`
}

// Bridge service types.
const (
	ServiceTypeHIP          = "HIP"
	ServiceTypeHIU          = "HIU"
	ServiceTypePHR          = "PHR"
	ServiceTypeHealthLocker = "HEALTH_LOCKER"
)

// BridgeServices is the answer of GET /gateway/v3/bridge-services: the
// bridge (with its registered callback URL) and the services under it.
type BridgeServices struct {
	Bridge   Bridge              `json:"bridge"`
	Services []BridgeServiceInfo `json:"services"`
}

// Bridge is the registered bridge. Entity's shape is not documented.
type Bridge struct {
	ID          string          `json:"id"`
	Name        string          `json:"name"`
	URL         string          `json:"url"`
	Active      bool            `json:"active"`
	Blocklisted bool            `json:"blocklisted"`
	Entity      json.RawMessage `json:"entity,omitempty"`
}

// BridgeServiceInfo is one service (HIP, HIU, ...) under the bridge. Its ID
// is what the gateway sends in X-HIP-ID / X-HIU-ID. Endpoints' shape is not
// documented.
type BridgeServiceInfo struct {
	ID        string          `json:"id"`
	Name      string          `json:"name"`
	Types     []string        `json:"types"`
	Endpoints json.RawMessage `json:"endpoints,omitempty"`
	Active    bool            `json:"active"`
}

// HasType reports whether the service is registered as type t (e.g. "HIP").
func (s BridgeServiceInfo) HasType(t string) bool {
	for _, have := range s.Types {
		if have == t {
			return true
		}
	}
	return false
}

// BridgeService is the answer of GET
// /gateway/v3/bridge-service/serviceId/{id}. Its endpoints come back empty,
// so it cannot show the callback URL; dates are in an undocumented format.
type BridgeService struct {
	ID             FlexString `json:"id"`
	BridgeID       string     `json:"bridgeId"`
	ServiceID      string     `json:"serviceId"`
	Name           string     `json:"name"`
	IsHIP          bool       `json:"isHip"`
	IsHIU          bool       `json:"isHiu"`
	IsHealthLocker bool       `json:"isHealthLocker"`
	IsPHR          bool       `json:"isPhr"`
	Active         bool       `json:"active"`
	RegisterTime   FlexString `json:"registerTime,omitempty"`
	DateCreated    FlexString `json:"dateCreated,omitempty"`
	DateModified   FlexString `json:"dateModified,omitempty"`
}
