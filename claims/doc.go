// Package claims is Sangam's NHCX billing module (ABDM milestone M4):
// coverage checks, pre-authorisations, claims and payment notices sent to
// insurers through the National Health Claims Exchange.
//
// The wire protocol (headers, JWE, bodies, registry, switch client) is in
// the subpackage claims/hcx. This package ties it to the rest of Sangam:
//
//   - Participants. SetParticipant records which tenant (and facility) owns
//     one of our NHCX participant codes; its private key lives in the key
//     store (keys.PurposeNHCXPrivateKey, see SavePrivateKey), never in
//     configuration. NHCX deliveries are routed by the code they are
//     addressed to, before any tenant is known (the participant_route
//     policy of claims_participants).
//   - Cases. StartCase opens a case per facility, patient, encounter and
//     workflow id (x-hcx-workflow_id) with one payer, for the coverage it
//     was opened for (CoverageID); Case and Cases give its status, amounts,
//     pre-authorisation reference, UTR and the payer's last words for the
//     billing pages.
//   - The ledger. Every message sent or received is a row of
//     claims_messages with its direction, path, protocol headers, ids,
//     state, acknowledgement and payload (the JWE too, for what we
//     receive). Ledger, Message and Payload read it for status pages and
//     audit. Payloads are clinical and financial data: they are stored, and
//     never logged.
//   - The outbox. Send (or SendTx, inside the caller's transaction) stores
//     a request and queues a River job that posts it to the switch with
//     hcx.Client. Unavailability (5xx, timeouts, a payer the switch cannot
//     reach) is retried with backoff, by default 5 times after the first
//     try as NHCX itself retries (reference §8); a refusal, or missing
//     setup, dead-letters the message at once and marks the case failed.
//     Replay sends a message again with the same correlation id and a
//     fresh api_call_id. Reply answers a payer's request (documents for a
//     communication request, the acknowledgement of a payment notice);
//     ReplyWith sets the reply's workflow id (PM-JAY's provider codes).
//   - The inbox. RegisterCallbacks mounts the paths NHCX delivers to
//     (InboundPaths). Each delivery is parsed leniently, routed by its
//     recipient code, de-duplicated on x-hcx-api_call_id (a repeat gets the
//     stored receipt again and is not processed again), decrypted with our
//     private key (refused with ERR_INVALID_ENCRYPTION when that fails),
//     stored with its processing job in one transaction, and acknowledged
//     with the 202 receipt NHCX waits at most 30 seconds for. The job
//     finds the case (by correlation id, else by payer and workflow id,
//     else, for a PM-JAY payer, whose requests carry its numeric codes, by
//     payer and claim number),
//     reads the ClaimResponse, CoverageEligibilityResponse,
//     CommunicationRequest or PaymentNotice, and moves the case; NHCX's
//     /v1/error reports mark it failed and, for PAYR-1001/1002, drop the
//     payer's cached certificate.
//
// Coverage on file and evidence:
//
//   - Payers, empanelments and coverage. SetPayer records an insurer or
//     scheme the tenant bills (by its NHCX participant code), SetEmpanelment
//     which facility is empanelled with it, and SetCoverage a master
//     patient's policy (policy number, member or PM-JAY id, relationship,
//     validity). They are what eligibility checks and claims are sent
//     against.
//   - The Gatherer assembles what a claim needs from the patient master
//     index, never from re-keyed data: Encounters lists a patient's
//     admissions and visits at every facility, and Gather asks every
//     source system of every facility that treated the patient, in
//     parallel under one deadline, for the stay and the stays around it,
//     and extracts diagnoses, procedures, lab and imaging reports,
//     discharge summaries and bill lines, each with the facility and source
//     it came from. A source that fails or times out is a Problem in the
//     Evidence, flagged to billing staff, never silently left out.
//
// Messages are encrypted but not signed (reference §6): anyone can encrypt
// to our published certificate. Answers are therefore applied only when
// they come from the case's payer on a correlation id we issued, or name
// the case's workflow id or, from a PM-JAY case's payer, its claim number.
//
// The Workflow is what the billing pages drive: CheckCoverage,
// RequestPreauth, RequestEnhancement and SubmitClaim gather the evidence,
// build the NRCeS NHCX bundle, refuse in plain words what cannot be sent
// (no diagnosis, no bill, policy not in force, facility not empanelled,
// gate findings) and send it; AnswerQuery and AcknowledgePayment answer
// the payer's requests.
package claims
