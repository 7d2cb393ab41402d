package identity

import (
	"net/url"
	"slices"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// Client is a relying party registered with the provider. Every client is
// confidential: it authenticates to the token endpoint with its secret.
type Client struct {
	ID     string
	Secret string
	// RedirectURIs must match the redirect_uri of a request exactly.
	RedirectURIs []string
	// PostLogoutRedirectURIs are the allowed post_logout_redirect_uri values
	// of /end_session. Optional.
	PostLogoutRedirectURIs []string
}

// idTokenLifetime is short because the relying party keeps its own session;
// the ID token only has to survive the code exchange and verification.
const idTokenLifetime = 15 * time.Minute

// opClient adapts a Client to op.Client.
type opClient struct {
	Client
	loginURL string // absolute URL of the login page, without query
}

var _ op.Client = (*opClient)(nil)

func (c *opClient) GetID() string          { return c.ID }
func (c *opClient) RedirectURIs() []string { return slices.Clone(c.Client.RedirectURIs) }
func (c *opClient) PostLogoutRedirectURIs() []string {
	return slices.Clone(c.Client.PostLogoutRedirectURIs)
}

// ApplicationType is web: a confidential client, which is what lets the
// library accept http (loopback) redirect URIs for the code flow.
func (c *opClient) ApplicationType() op.ApplicationType { return op.ApplicationTypeWeb }
func (c *opClient) AuthMethod() oidc.AuthMethod         { return oidc.AuthMethodBasic }
func (c *opClient) ResponseTypes() []oidc.ResponseType {
	return []oidc.ResponseType{oidc.ResponseTypeCode}
}
func (c *opClient) GrantTypes() []oidc.GrantType {
	return []oidc.GrantType{oidc.GrantTypeCode}
}

func (c *opClient) LoginURL(authRequestID string) string {
	return c.loginURL + "?" + url.Values{loginFieldAuthRequest: {authRequestID}}.Encode()
}

func (c *opClient) AccessTokenType() op.AccessTokenType { return op.AccessTokenTypeBearer }
func (c *opClient) IDTokenLifetime() time.Duration      { return idTokenLifetime }
func (c *opClient) DevMode() bool                       { return false }
func (c *opClient) RestrictAdditionalIdTokenScopes() func([]string) []string {
	return keepScopes
}
func (c *opClient) RestrictAdditionalAccessTokenScopes() func([]string) []string {
	return keepScopes
}

// IsScopeAllowed refuses every non-standard scope; roles and facilities need none.
func (c *opClient) IsScopeAllowed(string) bool { return false }

// IDTokenUserinfoClaimsAssertion is true so that profile and email claims go
// into the ID token even though an access token is issued alongside it:
// Sangam reads everything from the verified ID token.
func (c *opClient) IDTokenUserinfoClaimsAssertion() bool { return true }
func (c *opClient) ClockSkew() time.Duration             { return 0 }

func keepScopes(scopes []string) []string { return scopes }
