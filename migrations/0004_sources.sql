-- +goose Up
-- Source systems (package sources): the care-context register, the events
-- source systems push, their intake tokens, and each source's health and
-- polling watermark.

CREATE TABLE care_contexts (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id         uuid NOT NULL REFERENCES tenants(id),
    facility_id       uuid NOT NULL REFERENCES facilities(id),
    source_system_id  uuid NOT NULL REFERENCES source_systems(id),
    reference         text NOT NULL CHECK (reference <> '' AND length(reference) <= 200),
    context_type      text NOT NULL CHECK (context_type <> ''),
    local_id          text NOT NULL CHECK (local_id <> ''),
    patient_local_id  text NOT NULL CHECK (patient_local_id <> ''),
    hi_type           text NOT NULL CHECK (hi_type IN (
                          'OPConsultation', 'DischargeSummary', 'DiagnosticReport', 'Prescription',
                          'ImmunizationRecord', 'WellnessRecord', 'HealthDocumentRecord', 'Invoice')),
    display           text NOT NULL,
    occurred_at       timestamptz NOT NULL,
    source_updated_at timestamptz,
    found_via         text NOT NULL CHECK (found_via IN ('event', 'poll', 'discovery')),
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    UNIQUE (facility_id, reference)
);
COMMENT ON TABLE care_contexts IS 'Every care context Sangam knows of, keyed as ABDM sees it (facility, reference) and traceable to the row in its source system (source_system_id, context_type, local_id).';
COMMENT ON COLUMN care_contexts.reference IS 'The careContext referenceNumber shared with ABDM: <source-system-code>:<context-type>:<local-id>. Stable, unique per facility.';
COMMENT ON COLUMN care_contexts.context_type IS 'The care-context type of the source''s mapping (e.g. visit, admission, order); with local_id it is what the connector fetches.';
COMMENT ON COLUMN care_contexts.found_via IS 'How Sangam first learned of it: a pushed event, a poll of the source, or a live discovery query.';
CREATE INDEX care_contexts_patient ON care_contexts (tenant_id, source_system_id, patient_local_id, occurred_at DESC);

CREATE TABLE source_tokens (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id        uuid NOT NULL REFERENCES tenants(id),
    source_system_id uuid NOT NULL REFERENCES source_systems(id),
    token_sha256     bytea NOT NULL UNIQUE CHECK (length(token_sha256) = 32),
    created_at       timestamptz NOT NULL,
    expires_at       timestamptz
);
COMMENT ON TABLE source_tokens IS 'Bearer tokens with which a source system pushes events. Only the SHA-256 of a token is kept. Rotating adds a token and gives the current ones an expiry (the grace period); a NULL expiry never expires.';
CREATE INDEX source_tokens_system ON source_tokens (source_system_id);

CREATE TABLE source_events (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id        uuid NOT NULL REFERENCES tenants(id),
    source_system_id uuid NOT NULL REFERENCES source_systems(id),
    event_id         text NOT NULL CHECK (event_id <> ''),
    type             text NOT NULL,
    payload          jsonb NOT NULL,
    state            text NOT NULL DEFAULT 'received' CHECK (state IN ('received', 'processed', 'failed')),
    received_at      timestamptz NOT NULL DEFAULT now(),
    processed_at     timestamptz,
    attempts         integer NOT NULL DEFAULT 0,
    last_error       text NOT NULL DEFAULT '',
    UNIQUE (source_system_id, event_id)
);
COMMENT ON TABLE source_events IS 'Events pushed by source systems (visit created, report finalised, ...), stored before they are acknowledged and processed by a job. event_id is the sender''s id, so a resent event is recognised.';
COMMENT ON COLUMN source_events.payload IS 'The validated event as received; names local ids, never clinical content.';
CREATE INDEX source_events_state ON source_events (tenant_id, state, id);

CREATE TABLE source_state (
    source_system_id uuid PRIMARY KEY REFERENCES source_systems(id),
    tenant_id        uuid NOT NULL REFERENCES tenants(id),
    breaker          text NOT NULL DEFAULT 'closed' CHECK (breaker IN ('closed', 'open', 'half-open')),
    calls            bigint NOT NULL DEFAULT 0,
    failures         bigint NOT NULL DEFAULT 0,
    last_success_at  timestamptz,
    last_failure_at  timestamptz,
    last_error       text NOT NULL DEFAULT '',
    checked_at       timestamptz,
    poll_watermark   timestamptz,
    polled_at        timestamptz,
    updated_at       timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE source_state IS 'Health of each source system as the last process to check it saw it (for the ops console), and the watermark of the polling fallback.';
COMMENT ON COLUMN source_state.calls IS 'Calls counted by the reporting process since it started; the metrics hold the full series.';
COMMENT ON COLUMN source_state.poll_watermark IS 'Care contexts changed at or before this time have been read by polling.';

ALTER TABLE care_contexts  ENABLE ROW LEVEL SECURITY;
ALTER TABLE care_contexts  FORCE ROW LEVEL SECURITY;
ALTER TABLE source_tokens  ENABLE ROW LEVEL SECURITY;
ALTER TABLE source_tokens  FORCE ROW LEVEL SECURITY;
ALTER TABLE source_events  ENABLE ROW LEVEL SECURITY;
ALTER TABLE source_events  FORCE ROW LEVEL SECURITY;
ALTER TABLE source_state   ENABLE ROW LEVEL SECURITY;
ALTER TABLE source_state   FORCE ROW LEVEL SECURITY;

CREATE POLICY tenant_isolation ON care_contexts USING (tenant_id = app_tenant_id()) WITH CHECK (tenant_id = app_tenant_id());
CREATE POLICY tenant_isolation ON source_tokens USING (tenant_id = app_tenant_id()) WITH CHECK (tenant_id = app_tenant_id());
CREATE POLICY tenant_isolation ON source_events USING (tenant_id = app_tenant_id()) WITH CHECK (tenant_id = app_tenant_id());
CREATE POLICY tenant_isolation ON source_state  USING (tenant_id = app_tenant_id()) WITH CHECK (tenant_id = app_tenant_id());
