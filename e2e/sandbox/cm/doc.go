// Package cm is the consent manager inside the simulated HIE-CM gateway:
// the ABDM side of M1 linking, M2 and M3 (reference/abdm-v3.md §2.5–2.6,
// §3, §4). It reacts to what bridges send through gateway hooks and
// answers with signed callbacks through gateway.Deliver, so the gateway's
// fault knobs (delay, drop, duplicate, late redelivery) apply to every
// callback it makes. Patients act through its Go API, which the PHR app
// (package phr) puts on HTTP.
//
//	consent, err := cm.New(cm.Config{Gateway: gw, LinkTokenKey: linkKey, ABHA: abhaService})
//	mux.Handle("/", consent.Wrap(gw))     // the gateway, behind the CM's synchronous refusals
//	mux.Handle("/_sandbox/cm/", consent)  // control API
//
// LinkTokenKey must be the key given to the gateway as
// gateway.Config.LinkTokenKey: the gateway publishes it (RS512) in its
// JWKS and the consent manager signs link tokens with it.
//
// # Flows
//
//   - Scan and share: Share delivers /api/v3/hip/patient/share (the
//     observed body: intent, metaData, profile.patient with a dashed or
//     null abhaNumber and string birth parts); the HIP's echo-checked
//     patient-share/v3/on-share records the queue token.
//   - HIP-initiated linking: v3/token/generate-token is checked against the
//     patient register (ABHA address, digits-only ABHA number, name,
//     gender, year of birth) and answered with on-generate-token carrying
//     an RS512 link token valid LinkTokenTTL, bound to the HIP and patient.
//     hip/v3/link/carecontext (X-LINK-TOKEN) links and answers
//     on_carecontext with "Successfully Linked care context"; new contexts
//     may reuse a token. Context notify and sms/notify2 are answered.
//   - User-initiated linking: Discover, LinkInit and LinkConfirm deliver
//     discover, link init and link confirm to the HIP; its on-discover,
//     on-init and on-confirm are recorded (Discovery).
//   - Consent: consent/v3/request/init is validated and answered with
//     on-init; the patient sees the request and approves (Approve, one
//     artefact per HIP, only linked care contexts, optionally narrowed) or
//     denies it. Each HIP then gets consent/request/hip/notify with the
//     artefact, the HIU gets hiu/consent/request/notify. consent/v3/fetch
//     and request/status are answered. Revoke, Expire and the expiry
//     sweeper (requests after ConsentRequestTTL, artefacts at dataEraseAt)
//     notify both sides.
//   - Data flow: health-information/request is checked against the
//     artefact (granted, not expired, same HIU, date range within the
//     artefact's, parseable key material), answered with on-request
//     (REQUESTED and a transaction id) and forwarded to the HIP with the
//     HIU's keyMaterial byte for byte and its dataPushUrl. The HIP's
//     on-request and both sides' health-information/notify are recorded
//     (Transfer).
//
// # Reference behaviours modelled
//
//   - ABDM-1092: a generate-token identical to one refused within
//     RefusalWindow (default 90 s; observed ≥ 69 s) gets a synchronous 400
//     that hides the first refusal's cause.
//   - ABDM-1027: MaxTokenRefusals refusals for one patient at one HIP
//     within BlockFor block generate-token for BlockFor (24 h); BlockPatient
//     does it directly.
//   - ABDM-1051 (unknown address or ABHA number), ABDM-1026 (bad or expired
//     link token), ABDM-1038 (token of another ABHA address), ABDM-1062
//     (ABHA number mismatch), ABDM-1063 (token of another HIP), ABDM-1037
//     (count mismatch), ABDM-1056 (all contexts already linked).
//   - link/carecontext with a dashed abhaNumber: 400 with an empty body;
//     with an array hiType: 400 (both observed).
//   - Context notify within ContextNotifyLag of linking: ABDM-1006 "No care
//     context linked with given reference number" (observed race; off by
//     default).
//   - ABDM-1104 / ABDM-1105: a second link init, or a confirm while one is
//     pending or done, is refused to the patient (a confirm after a wrong
//     OTP is allowed). The gateway itself refuses second on-discover,
//     on-init and on-confirm answers (ABDM-1106..1108) and unknown echoes
//     (ABDM-2500).
//   - Consent init refusals in on-init: ABDM-1040 (HIU not the caller's),
//     ABDM-1170 (unknown patient), ABDM-1035 (unknown HIP), ABDM-9999
//     "Invalid from/to date. Date must be a present/before date".
//   - HI request refusals in on-request: ABDM-1112 (artefact unknown,
//     another HIU's, not granted or past dataEraseAt), ABDM-1063 (range
//     outside the artefact's: the patient may have narrowed it), ABDM-1101
//     (same key material again). A second health-information/notify for one
//     transaction from the same side: synchronous 400 ABDM-1101.
//
// The synchronous refusals come from Wrap, in front of the gateway: the
// gateway still authenticates and records the call (its message log shows
// it as accepted), and Refusals lists what Wrap answered instead.
//
// Not modelled: the PHR's own gateway APIs (X-AUTH-TOKEN), auto-pull of
// data by the PHR app after linking (§2.6c), consent frequency limits, the
// real artefact signature scheme.
//
// # Control API
//
// Under /_sandbox/cm/ (no token; snake_case; wire objects inside keep their
// wire names):
//
//	GET    /_sandbox/cm/patients                      {"patients":[Patient]}
//	GET    /_sandbox/cm/hips                          {"hips":[Facility]}
//	GET    /_sandbox/cm/shares?abha_address=          {"shares":[Share]}
//	GET    /_sandbox/cm/link-tokens                   {"link_tokens":[LinkToken]} (never the token itself)
//	GET    /_sandbox/cm/links?abha_address=&hip_id=   {"links":[LinkedCareContext]}
//	GET    /_sandbox/cm/discoveries?abha_address=     {"discoveries":[Discovery]}
//	GET    /_sandbox/cm/consent-requests?abha_address=&status=&hiu_id=   {"consent_requests":[ConsentRequest]}
//	GET    /_sandbox/cm/consents?abha_address=&status=&hiu_id=&hip_id=&consent_request_id=  {"consents":[Consent]}
//	POST   /_sandbox/cm/consents/{id}/expire          expire a request or artefact now → ConsentRequest
//	POST   /_sandbox/cm/expire-due                    204; apply due expiries now
//	GET    /_sandbox/cm/transfers?consent_id=         {"transfers":[Transfer]}
//	GET    /_sandbox/cm/blocks                        {"blocks":[Block]}
//	POST   /_sandbox/cm/blocks                        {"hip_id","abha_address"} → Block (ABDM-1027 from now on)
//	DELETE /_sandbox/cm/blocks?hip_id=&abha_address=  204
//	GET    /_sandbox/cm/refusals                      {"refusals":[Refusal]}
//	POST   /_sandbox/cm/reset                         204
//
// Errors are {"error": "..."} with 404, 400 or 409 (ErrNotFound,
// ErrInvalid, ErrConflict).
package cm
