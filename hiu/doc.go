// Package hiu is Sangam's health information user: it asks patients for
// consent through the consent manager, fetches the artefacts they grant,
// requests the data each artefact covers with a fresh Fidelius key pair,
// receives the encrypted pages HIPs push to it, reads them with nrces into
// a record store with provenance, reports the transfer, and erases
// everything received under a consent when the consent says so.
//
// # Flow
//
//	CreateConsentRequest ── consent/v3/request/init ──▶ on-init (gateway id)
//	consent notify / on-status (polled with backoff while REQUESTED)
//	GRANTED ──▶ consent/v3/fetch per artefact ──▶ on-fetch (artefact stored)
//	        ──▶ health-information/request (fresh key pair; private key in
//	            the key store, named by the data request) ──▶ on-request
//	HIP ──▶ POST <bridge>/hiu/data-push/<data request id> (one page)
//	        page stored once per (request, page number), acknowledged 202,
//	        decrypted and read by a River job ──▶ hiu_records/entries/attachments
//	all pages read ──▶ health-information/notify, private key deleted
//	REVOKED / EXPIRED / dataEraseAt ──▶ purge job deletes records, entries,
//	        attachments, pages, data requests and private keys
//
// Every gateway call goes through the bridge outbox in the same
// transaction as the state change that causes it, and every callback is
// processed in the bridge's job-completing transaction, so a crash never
// leaves a call sent for a state that was not stored or the reverse.
//
// The data push URL is not called by the gateway and carries no gateway
// token: it is authenticated by the unguessable data request id in the URL,
// by the transaction id matching the one the gateway gave us (when we have
// it), and by the payload decrypting under our private key.
package hiu
