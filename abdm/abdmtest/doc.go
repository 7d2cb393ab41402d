// Package abdmtest provides test doubles for the ABDM gateway: a Signer that
// issues callback JWTs the way the gateway does (RS256, kid, Keycloak-style
// claims) and a Gateway, a real HTTP server on loopback that issues session
// tokens, serves its JWKS behind session auth and records every request.
//
// It is for tests. The sandbox will carry its own runtime signer.
package abdmtest
