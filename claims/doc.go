// Package claims is Sangam's NHCX billing module (ABDM milestone M4):
// coverage checks, pre-authorisations, claims and payment notices sent to
// insurers through the National Health Claims Exchange.
//
// The wire protocol (headers, JWE, bodies, registry, switch client) is in
// the subpackage claims/hcx. This package holds what ties it to the rest of
// Sangam, starting with the participant's NHCX private key, which lives in
// the key store (keys.PurposeNHCXPrivateKey) and never in configuration.
package claims
