// Package bridge is Sangam's side of the ABDM gateway conversation: the
// inbox that receives the gateway's callbacks, the outbox that makes every
// call to the gateway, the timeline operators read, and the onboarding that
// registers each tenant's bridge URL.
//
// # Inbox
//
// Each tenant has one bridge URL, <public-url>/bridge/<tenant-slug>; the
// gateway appends the callback paths of abdm.CallbackRoutes to it.
// [Bridge.Register] mounts them all. A callback is accepted only when its
// JWT verifies (401 otherwise, and nothing is stored), its X-HIP-ID or
// X-HIU-ID names a facility of that tenant, and its body is JSON of the
// route's shape. It is then de-duplicated on REQUEST-ID plus the SHA-256 of
// the body, stored raw with its River job in one transaction, and
// acknowledged only after that transaction commits. A redelivery gets the
// first acknowledgement again and is not processed twice; the same
// REQUEST-ID with a different body is refused with 409.
//
// Processing is a River job that calls the [ProcessFunc] registered for the
// route with [Bridge.Handle], inside a transaction that also completes the
// job: the processor's writes and "processed" commit together or not at
// all. A callback with no processor is marked unhandled, visible to
// operators and replayable once one is registered.
//
// # Outbox
//
// [Bridge.Send] stores a gateway call and its River job in the caller's
// transaction. The job sends it with the REQUEST-ID chosen at Send, the
// same one on every retry, so the gateway can tell a retry from a new
// request. Unavailability (5xx, 408, 429, timeouts) is retried with
// exponential backoff up to a bounded number of attempts; a refusal (4xx)
// dead-letters the call at once. A duplicate-request refusal after an
// earlier send counts as delivered: the earlier send got through.
//
// [Bridge.Replay] re-enqueues a dead-lettered call. When the gateway had
// definitely refused it (a 4xx), the gateway has seen that REQUEST-ID and
// would refuse it again as a duplicate, so the replay gets a fresh one;
// otherwise the gateway may or may not have accepted it, and the replay
// keeps the id so that an accepted call is recognised rather than doubled.
// Callers correlate results by exchange id ([Sent.ExchangeID], reported to
// processors as [Callback.RelatedID]), which a replay never changes.
//
// # Timeline and retention
//
// Every exchange has events (received, acknowledged, processed, attempt,
// delivered, dead_lettered, replayed, ...) for the ops console
// ([Bridge.Timeline], [Bridge.Exchange]). Bodies may hold patient data: they
// are kept in the database, never logged, and dropped after
// Config.Retention by a periodic job.
//
// # Onboarding
//
// [Bridge.SetCredentials] keeps a tenant's client id in PostgreSQL and its
// secret in the key store. [Bridge.Onboard] registers the bridge URL and
// checks which facilities' HIP ids are services under the bridge;
// [Bridge.CanServeM2] answers from the last check.
package bridge
