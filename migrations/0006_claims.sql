-- +goose Up
-- NHCX billing (package claims): which NHCX participant codes are ours, the
-- insurance cases of encounters, and the ledger of every message sent to and
-- received from the claims exchange. Private keys are not here: they live in
-- the key store (purpose nhcx-private-key).

CREATE TABLE claims_participants (
    participant_code text PRIMARY KEY CHECK (participant_code <> '' AND participant_code = lower(participant_code)),
    tenant_id        uuid NOT NULL REFERENCES tenants(id),
    facility_id      uuid REFERENCES facilities(id),
    name             text NOT NULL DEFAULT '',
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE claims_participants IS 'Our NHCX participant codes. Messages from NHCX are routed to a tenant (and facility) by the code they are addressed to, before any tenant context exists.';
COMMENT ON COLUMN claims_participants.participant_code IS 'Lower-cased, as NHCX treats codes case-insensitively. Assigned by NHCX, hence unique across tenants.';
COMMENT ON COLUMN claims_participants.facility_id IS 'NULL when one code serves every facility of the tenant.';

CREATE TABLE claims_cases (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id        uuid NOT NULL REFERENCES tenants(id),
    facility_id      uuid NOT NULL REFERENCES facilities(id),
    participant_code text NOT NULL,
    payer_code       text NOT NULL CHECK (payer_code <> ''),
    patient_ref      text NOT NULL CHECK (patient_ref <> ''),
    encounter_ref    text NOT NULL DEFAULT '',
    workflow_id      text NOT NULL CHECK (workflow_id <> ''),
    ben_abha_id      text NOT NULL DEFAULT '',
    stage            text NOT NULL DEFAULT '' CHECK (stage IN ('', 'coverageeligibility', 'preauth', 'predetermination', 'claim', 'payment')),
    status           text NOT NULL DEFAULT 'open' CHECK (status IN (
                         'open', 'sending', 'awaiting_response', 'pended', 'eligible', 'not_eligible',
                         'approved', 'partially_approved', 'rejected', 'needs_documents', 'paid', 'failed')),
    currency         text NOT NULL DEFAULT '',
    requested_amount numeric(14, 2),
    approved_amount  numeric(14, 2),
    paid_amount      numeric(14, 2),
    preauth_ref      text NOT NULL DEFAULT '',
    utr              text NOT NULL DEFAULT '',
    paid_on          date,
    payer_note       text NOT NULL DEFAULT '',
    error_code       text NOT NULL DEFAULT '',
    error_message    text NOT NULL DEFAULT '',
    status_message   bigint,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    UNIQUE (tenant_id, facility_id, patient_ref, encounter_ref, workflow_id)
);
COMMENT ON TABLE claims_cases IS 'One insurance case: an encounter''s coverage check, pre-authorisations, claim and payment with one payer, tied together by x-hcx-workflow_id.';
COMMENT ON COLUMN claims_cases.patient_ref IS 'Sangam''s reference of the patient (master patient id or a source''s id); opaque to claims.';
COMMENT ON COLUMN claims_cases.status IS 'The latest business state the ledger shows: set when a request is queued (sending), acknowledged (awaiting_response) or answered.';
COMMENT ON COLUMN claims_cases.payer_note IS 'The payer''s last words: ClaimResponse.disposition or the CommunicationRequest text. May describe the patient''s condition; never logged.';
COMMENT ON COLUMN claims_cases.status_message IS 'The ledger message (claims_messages.id) that set status: answers processed out of order never overwrite a later one''s status. Amounts and references are merged whatever the order.';
COMMENT ON COLUMN claims_cases.utr IS 'Bank transfer reference (PaymentReconciliation.paymentIdentifier) of the payment notice.';

CREATE TABLE claims_messages (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id        uuid NOT NULL REFERENCES tenants(id),
    case_id          uuid REFERENCES claims_cases(id),
    direction        text NOT NULL CHECK (direction IN ('outbound', 'inbound')),
    path             text NOT NULL,
    entity           text NOT NULL,
    action           text NOT NULL,
    sender_code      text NOT NULL DEFAULT '',
    recipient_code   text NOT NULL DEFAULT '',
    api_call_id      text,
    correlation_id   text NOT NULL DEFAULT '',
    request_id       text NOT NULL DEFAULT '',
    workflow_id      text NOT NULL DEFAULT '',
    protocol_status  text NOT NULL DEFAULT '',
    state            text NOT NULL CHECK (state IN (
                         'queued', 'sent', 'dead_lettered',
                         'received', 'processed', 'unmatched', 'failed', 'replied', 'refused')),
    outcome          text NOT NULL DEFAULT '',
    headers          jsonb NOT NULL DEFAULT '{}',
    jwe              text,
    payload          bytea,
    payload_sha256   bytea,
    ack              jsonb,
    http_status      integer,
    error_code       text NOT NULL DEFAULT '',
    error_message    text NOT NULL DEFAULT '',
    attempts         integer NOT NULL DEFAULT 0,
    max_attempts     integer NOT NULL DEFAULT 0,
    duplicates       integer NOT NULL DEFAULT 0,
    responds_to      bigint REFERENCES claims_messages(id),
    replay_of        bigint REFERENCES claims_messages(id),
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    sent_at          timestamptz,
    processed_at     timestamptz
);
COMMENT ON TABLE claims_messages IS 'The NHCX ledger: every message sent (outbox) and received (inbox), one row each; backs status pages, replays and audit.';
COMMENT ON COLUMN claims_messages.api_call_id IS 'Outbound: of the attempt the switch accepted (a fresh one per attempt), NULL until then. Inbound: as received; a redelivery with the same one is acknowledged again and not processed again.';
COMMENT ON COLUMN claims_messages.headers IS 'The x-hcx-* protocol headers (no secrets).';
COMMENT ON COLUMN claims_messages.jwe IS 'Inbound: the compact JWE as received, kept for audit. Outbound: not available from the switch client yet.';
COMMENT ON COLUMN claims_messages.payload IS 'The decrypted FHIR payload (inbound) or the plaintext to send (outbound): clinical and financial data, never logged.';
COMMENT ON COLUMN claims_messages.ack IS 'Outbound: the switch''s 202 acknowledgement. Inbound: the receipt we answered with, repeated verbatim to redeliveries.';
COMMENT ON COLUMN claims_messages.outcome IS 'Inbound: what processing read from it (approved, partially_approved, rejected, needs_documents, paid, eligible, not_eligible, pended, error, recorded).';
COMMENT ON COLUMN claims_messages.responds_to IS 'Inbound callback: the outbound request it answers (same correlation_id). Outbound reply: the inbound request it answers.';
COMMENT ON COLUMN claims_messages.replay_of IS 'Outbound: the message this one sends again (same correlation_id, fresh api_call_id).';

CREATE UNIQUE INDEX claims_messages_api_call ON claims_messages (tenant_id, direction, api_call_id)
    WHERE api_call_id IS NOT NULL AND state <> 'refused';
CREATE INDEX claims_messages_case ON claims_messages (tenant_id, case_id, id);
CREATE INDEX claims_messages_correlation ON claims_messages (tenant_id, correlation_id);
CREATE INDEX claims_messages_state ON claims_messages (tenant_id, state, id DESC);
CREATE INDEX claims_cases_workflow ON claims_cases (tenant_id, workflow_id);
CREATE INDEX claims_cases_recent ON claims_cases (tenant_id, updated_at DESC);

ALTER TABLE claims_participants ENABLE ROW LEVEL SECURITY;
ALTER TABLE claims_participants FORCE ROW LEVEL SECURITY;
ALTER TABLE claims_cases        ENABLE ROW LEVEL SECURITY;
ALTER TABLE claims_cases        FORCE ROW LEVEL SECURITY;
ALTER TABLE claims_messages     ENABLE ROW LEVEL SECURITY;
ALTER TABLE claims_messages     FORCE ROW LEVEL SECURITY;

CREATE POLICY tenant_isolation ON claims_participants USING (tenant_id = app_tenant_id()) WITH CHECK (tenant_id = app_tenant_id());
CREATE POLICY tenant_isolation ON claims_cases        USING (tenant_id = app_tenant_id()) WITH CHECK (tenant_id = app_tenant_id());
CREATE POLICY tenant_isolation ON claims_messages     USING (tenant_id = app_tenant_id()) WITH CHECK (tenant_id = app_tenant_id());

-- Routing an NHCX delivery happens before a tenant is known. This policy
-- lets a transaction that names one participant code (app.nhcx_participant)
-- read that one row, and nothing else: knowing the code, which NHCX
-- publishes in its registry anyway, reveals only which tenant owns it.
CREATE POLICY participant_route ON claims_participants FOR SELECT
    USING (participant_code = lower(current_setting('app.nhcx_participant', true)));
