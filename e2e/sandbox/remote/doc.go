// Package remote is "another hospital" in the sandbox: City Hospital, of
// another group, with its own gateway client, a remote HIP that holds
// records of the sandbox's patients and a remote HIU that asks Sangam's
// HIPs for theirs. It is a real bridge: the gateway calls it over HTTP at
// PublicURL + Prefix + "/bridge" (JWTs checked against the gateway's JWKS,
// redeliveries dropped by REQUEST-ID) and it answers through the gateway
// with Sangam's own ABDM client, so Sangam meets it exactly as it would
// meet a hospital on the real network.
//
//	cfg := remote.Config{PublicURL: url, RecordsDir: "../shared/testdata/fhir"}
//	gatewayConfig.Clients = append(gatewayConfig.Clients, cfg.GatewayClient())
//	// ... once the consent manager exists:
//	cfg.Patients, cfg.SMS = consentManager, inbox
//	hospital, err := remote.New(cfg)
//	mux.Handle(remote.Prefix+"/", hospital)
//
// # Remote HIP
//
// At start it reads the FHIR document bundles under RecordsDir (the public
// examples in shared/testdata/fhir) and tells each one's record type from
// its Composition (NRCeS profile, else SNOMED type code). Each patient of
// the register (or of OnlyPatients) holds one record per type, a different
// example per patient where there are several. When RecordsDir is empty or
// absent it holds nothing, Status says so, and discovery answers ABDM-1010.
//
// It answers scan and share (a queue token), discovery (unlinked records,
// matched by ABHA address), link init (a random OTP texted to the
// patient's mobile through SMS, DIRECT/MOBILE) and confirm, consent notify
// (on-notify OK) and HI requests: on-request ACKNOWLEDGED (ABDM-1112 for an
// unknown, ended or expired artefact), then, for each record the artefact
// covers (its care contexts and HI types), one page POSTed to the HIU's
// dataPushUrl in the reference push shape (1-based pageNumber/pageCount,
// transactionId, one entry {content, media application/fhir+json, md5
// checksum, careContextReference}, keyMaterial with the HIP's X.509 key).
// Every page has a fresh key pair and nonce, because Fidelius derives the
// GCM IV from the key material. Then health-information/notify with
// DELIVERED/ERRORED per care context (consented contexts it has no record
// for are reported ERRORED, never left out). LinkPatient links a patient's
// records the HIP-initiated way (generate-token, link/carecontext); with
// LinkAtStart the hospital does so for every patient by itself once the
// gateway answers, as a hospital links a visit when it registers it.
//
// # Remote HIU
//
// RequestConsent sends consent/v3/request/init. On a GRANTED notify it
// acknowledges, fetches each artefact and asks for its data with a fresh
// key pair at PublicURL + Prefix + "/hiu/push/{key}" (unless
// ManualDataRequests). Pushed pages are decrypted and kept per care
// context, byte for byte (Received); once every page is in it notifies
// RECEIVED (or FAILED) with OK/ERRORED per care context. REVOKED and
// EXPIRED notifies purge what was received under the artefact.
//
// # Control API
//
// JSON under /_sandbox/remote/ (no token). POSTs that start an exchange
// take ?wait=<duration> (at most 30s) to answer once it settled.
//
//	GET  /_sandbox/remote/                                  Status
//	GET  /_sandbox/remote/hip/records?abha_address=         {"records":[Record]}
//	POST /_sandbox/remote/hip/links                         {"abha_address"} → HIPLink (HIP-initiated linking of all unlinked records)
//	GET  /_sandbox/remote/hip/links                         {"links":[HIPLink]}
//	GET  /_sandbox/remote/hip/otp?abha_address=             {"otp"} of a link waiting for confirmation
//	GET  /_sandbox/remote/hip/consents                      {"consents":[HIPConsent]}
//	GET  /_sandbox/remote/hip/transfers                     {"transfers":[HIPTransfer]}
//	POST /_sandbox/remote/hiu/consent-requests              ConsentInput {"abha_address","hip_id","care_contexts","hi_types","purpose","from","to","data_erase_at","requester"} → ConsentRequest
//	GET  /_sandbox/remote/hiu/consent-requests              {"consent_requests":[ConsentRequest]}
//	GET  /_sandbox/remote/hiu/artefacts                     {"artefacts":[Artefact]}
//	POST /_sandbox/remote/hiu/artefacts/{id}/fetch          202
//	POST /_sandbox/remote/hiu/artefacts/{id}/request-data   DataRequest (a new HI request with a fresh key)
//	GET  /_sandbox/remote/hiu/data-requests                 {"data_requests":[DataRequest]}
//	GET  /_sandbox/remote/hiu/received?consent_id=&care_context_reference=&transaction_id=  {"received":[Received]} (bundle as JSON, sha256)
//	POST /_sandbox/remote/hiu/push/{key}                    the data push URL (202)
//	POST /_sandbox/remote/bridge/api/v3/...                 the bridge the gateway calls
//	POST /_sandbox/remote/reset                             204
//
// Not modelled: filtering records by the requested date range (the
// example bundles carry assorted dates), link entries instead of content,
// consent status polling.
package remote
