// Package identity is the sandbox's OpenID Connect provider: a real OP, built
// on github.com/zitadel/oidc/v3/pkg/op, with in-memory storage, demo staff
// users and a plain HTML login page. Sangam's relying party (go-oidc) signs
// in against it locally and in tests exactly as it would against a hospital's
// identity provider.
//
// # Endpoints
//
// All paths are relative to the issuer, so with Issuer
// "http://127.0.0.1:8081/oidc" discovery is at
// "http://127.0.0.1:8081/oidc/.well-known/openid-configuration".
//
//	/.well-known/openid-configuration  discovery
//	/keys                              JWKS (one RSA key, RS256, generated at start)
//	/authorize                         authorization endpoint (code flow only)
//	/authorize/callback                where the login page sends the browser back
//	/oauth/token                       token endpoint (client_secret_basic or client_secret_post)
//	/userinfo                          userinfo endpoint
//	/oauth/introspect, /revoke         token introspection and revocation
//	/end_session                       RP-initiated logout
//	/login                             the login form (GET shows it, POST submits it)
//	/logged-out                        shown after logout without a post_logout_redirect_uri
//
// Mount the Provider on a shared mux under the issuer's path, without
// stripping it: mux.Handle("/oidc/", p). A request whose path has already
// been stripped is served too.
//
// # Flow and claims
//
// Only the authorization code flow is offered, and every authorization
// request must carry a PKCE S256 code_challenge. Codes live two minutes and
// are single use: a code presented after a successful exchange is refused
// and the access tokens issued for it are revoked. (An exchange refused for
// a wrong secret or verifier does not spend the code.) There is no single
// sign-on session, so every authorization request shows the login form;
// /end_session revokes the user's access tokens for that client.
//
// The ID token and the userinfo response carry, besides the standard claims:
//
//	roles       array of strings, e.g. ["doctor"]        (always)
//	facilities  array of facility ids the user may act for (always)
//	name, preferred_username                              (scope "profile")
//	email, email_verified                                 (scope "email")
//
// so a relying party should ask for the scopes "openid profile email".
//
// # Demo users
//
// DemoUsers returns one user per staff role, all with the password
// "sangam-demo" (DemoPassword):
//
//	username    role        name
//	frontdesk   front-desk  Asha Frontdesk
//	doctor      doctor      Vikram Doctor
//	billing     billing     Priya Billing
//	admin       admin       Arjun Admin
//
// These credentials are public; the provider is for loopback use only.
package identity
