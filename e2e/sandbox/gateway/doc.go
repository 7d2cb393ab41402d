// Package gateway is an in-memory stand-in for the ABDM V3 HIE-CM gateway
// (https://dev.abdm.gov.in/api/hiecm), startable from any test:
//
//	g, err := gateway.New(gateway.Config{
//		PublicURL: srv.URL, // where clients reach it; its path is the mount point
//		Clients: []gateway.Client{{
//			ID: "SBX_000001", Secret: "s3cret", Name: "Acme Hospitals",
//			Services: []gateway.Service{{ID: "IN2810014366", Name: "Acme OPD", Types: []string{"HIP", "HIU"}}},
//		}},
//	})
//	defer g.Close()
//
// It behaves as the reference notes (reference/abdm-v3.md) say the real one
// does, strict where the sandbox is strict:
//
//   - POST /gateway/v3/sessions issues RS256 session tokens (client
//     credentials); every other call needs one (401, code 900901, when it is
//     invalid or expired; ABDM-2500 when the header is missing).
//   - Every call needs REQUEST-ID (a UUID, never reused: ABDM-1064), TIMESTAMP
//     (RFC 3339 UTC, inside a skew window: ABDM-2402) and X-CM-ID (the
//     configured consent-manager id, "sbx" by default: ABDM-2403). POSTs need
//     Content-Type: application/json and a JSON body.
//   - GET /gateway/v3/certs publishes the signing keys as a JWKS (behind the
//     session token, as on the real gateway); GET
//     /gateway/v3/.well-known/openid-configuration points at it.
//   - PATCH /gateway/v3/bridge/url, GET /gateway/v3/bridge-services and GET
//     /gateway/v3/bridge-service/serviceId/{id} manage the bridge per client.
//   - Every bridge→gateway path of the V3 route table is accepted and
//     recorded. The on-* answers to gateway-initiated events must echo, in
//     response.requestId, the REQUEST-ID of a callback the gateway actually
//     delivered to that client (ABDM-2500 otherwise).
//
// Callbacks go the other way through [Gateway.Deliver]: a POST to the
// client's bridge URL plus the callback path, carrying a gateway-signed
// RS256 JWT, REQUEST-ID, TIMESTAMP and X-HIP-ID or X-HIU-ID. Flows that
// react to what bridges send register with [Gateway.Handle].
//
// # Control API
//
// Tests and the `sangam sandbox` operator drive the gateway through JSON
// endpoints under /_sandbox/gateway/ (relative to the mount point). They
// need no token. Field names are snake_case.
//
//	GET    /_sandbox/gateway/messages?path=&client=&request_id=    {"messages":[Message...]}
//	GET    /_sandbox/gateway/deliveries?path=&client=&request_id=  {"deliveries":[Delivery...]}
//	POST   /_sandbox/gateway/deliveries                            trigger (below) → 200 Delivery | 202 {"request_id"} when async
//	POST   /_sandbox/gateway/deliveries/{request_id}/redeliver     {"expired_token":bool} → Delivery
//	GET    /_sandbox/gateway/faults                                {"global":Faults,"clients":{id:Faults}}
//	PUT    /_sandbox/gateway/faults                                Faults (global) → Faults
//	PUT    /_sandbox/gateway/faults/{client}                       Faults (one client) → Faults
//	DELETE /_sandbox/gateway/faults[/{client}]                     204
//	GET    /_sandbox/gateway/clients                               {"clients":[ClientState...]}
//	POST   /_sandbox/gateway/clients/{client}/revoke-tokens        204; earlier session tokens get 900901
//	POST   /_sandbox/gateway/reset                                 204; back to the state after New
//
// A trigger is {"client_id","path","hip_id" or "hiu_id","body","request_id","async"}:
// client_id defaults to the owner of the service id, request_id to a fresh
// UUID; any service id may be sent, so a bridge's refusal of a wrong one can
// be tested. A callback that cannot be attempted (no bridge URL) answers 502
// {"error","delivery"}; bad input answers 400 {"error"}.
//
// Faults (see [Faults]) delay, drop or fail the gateway's answers, delay,
// drop, duplicate or late-redeliver (with an expired JWT) its callbacks, and
// choose which of the error body shapes the real gateway uses is emitted.
package gateway
