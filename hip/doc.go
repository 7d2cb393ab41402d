// Package hip is Sangam acting as a Health Information Provider towards
// ABDM: the callbacks the gateway sends an HIP and the calls an HIP makes,
// on top of package bridge (which stores, de-duplicates and retries them).
//
// # Scan and share (M1)
//
// A patient scans a counter's QR; the gateway POSTs the ABHA profile to
// /api/v3/hip/patient/share. The processor files the patient in the master
// index (a record of the facility's pseudo source "abdm-share", keyed by
// ABHA address, with the ABHA marked verified), issues the next queue token
// of that counter for the facility-local day (1, 2, 3, ...; the same token
// again while it is valid for the same patient at the same counter), and
// answers on-share with it, all in the callback's transaction. The counter
// queue ([Service.Queue]) lists the day's tokens for the front desk.
//
// # Link tokens and HIP-initiated linking
//
// A link token is asked for with generate-token and arrives, later, at
// on-generate-token; it is kept in the key store (purpose link-token,
// facility-scoped, named by the ABHA address) until its exp claim. A share
// asks for one at once unless one is stored. A request is never repeated
// inside Config.LinkTokenWindow (the gateway answers ABDM-1092 to a repeat
// within about 70 s), and an ABDM-1027 refusal holds every request for that
// address back for Config.BlockFor.
//
// When a care context of a patient with an ABHA address appears (the
// sources hook [Service.OnNewCareContext], or [Service.LinkCareContext]
// from the UI), it is linked with link/carecontext, grouped per HI type,
// carrying the stored token by name (X-LINK-TOKEN is filled in at send time
// through [LinkTokens]); without a token it waits for one. It is marked
// linked only when on_carecontext reports success, and a context notify
// follows. An ABDM-1026 (invalid link token) answer drops the stored token
// and asks for a new one, so a lost or expired token heals itself.
package hip
