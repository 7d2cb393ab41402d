// Package hcx speaks the HCX protocol as NHCX (the National Health Claims
// Exchange) runs it: the x-hcx-* protocol headers, the JWE that carries them
// with the FHIR payload, the JSON bodies and acknowledgements, the gateway's
// error codes, the participant registry and the client that posts messages
// to the switch.
//
// The facts behind this package are in the project's reference notes
// (reference/nhcx-hcx.md). Where the HCX specification and the NHCX
// deployment differ, the code follows NHCX and says so.
//
// # Messages
//
// Every message is a compact JWE: RSA-OAEP-256 key wrapping and A256GCM
// content encryption to the recipient's registered certificate, with every
// x-hcx-* header in the protected header ([Seal]). [Open] also accepts
// RSA-OAEP, which the HCX specification text still names, and nothing else:
// the allowed algorithms are an explicit list. [ReadHeaders] returns the
// headers without decrypting, so a receiver can route and de-duplicate
// before doing the expensive part.
//
// [Headers] names the protocol headers; [NewRequest] starts a
// request/response cycle (fresh api_call_id, correlation_id and
// request_id) and [Headers.Reply] answers one (same correlation_id and
// workflow_id, fresh api_call_id). [Headers.Validate] refuses what the
// switch would refuse, per [Kind] of message, with a [*HeaderError] naming
// the header.
//
// # Talking to NHCX
//
// A [Registry] finds a participant's encryption certificate
// (POST /fetch/certs), caches it for a while, forgets it when a payer
// reports PAYR-1001 or PAYR-1002, and refuses a certificate that is really
// our own. A [Client] posts messages to the switch's /v1/<entity>/<action>
// paths with the access token as both bearer_auth and Authorization, and
// expects the synchronous 202 [Ack]; the business answer arrives later on
// our callback URL. Whatever NHCX or a payer refuses comes back as an
// [*Error] that errors.Is matches against the sentinel categories
// ([ErrBadRequest], [ErrStaleCertificate], ...) and that carries an
// explanation and advice for billing staff.
//
// Keys and certificates are read by [ParsePrivateKey] and [ParsePublicKey]
// from PEM (PKCS#1, PKCS#8, X.509, PKIX), the base64 forms the registry
// returns, or JWK.
package hcx
