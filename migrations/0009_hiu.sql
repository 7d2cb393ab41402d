-- +goose Up
-- The HIU (package hiu): consent requests we make, the artefacts granted
-- under them, the health-information requests per artefact, the encrypted
-- pages HIPs push to us, and the records read from them. Private keys are
-- not here: they live in the key store (purpose hiu-private-key).

CREATE TABLE hiu_consent_requests (
    id                   uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id            uuid NOT NULL REFERENCES tenants(id),
    facility_id          uuid NOT NULL REFERENCES facilities(id),
    hiu_id               text NOT NULL,
    patient_abha_address text NOT NULL CHECK (patient_abha_address <> ''),
    patient_id           uuid REFERENCES patients(id),
    purpose              text NOT NULL,
    hi_types             text[] NOT NULL,
    date_from            timestamptz NOT NULL,
    date_to              timestamptz NOT NULL,
    expires_at           timestamptz NOT NULL,
    hip_id               text NOT NULL DEFAULT '',
    requester_name       text NOT NULL,
    requester_id         text NOT NULL DEFAULT '',
    status               text NOT NULL CHECK (status IN ('sending', 'requested', 'granted', 'denied', 'expired', 'revoked', 'failed')),
    gateway_id           text NOT NULL DEFAULT '',
    init_exchange_id     bigint NOT NULL,
    last_error           text NOT NULL DEFAULT '',
    poll_attempts        integer NOT NULL DEFAULT 0,
    next_poll_at         timestamptz,
    requested_at         timestamptz,
    granted_at           timestamptz,
    denied_at            timestamptz,
    expired_at           timestamptz,
    revoked_at           timestamptz,
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE hiu_consent_requests IS 'Consent requests this HIU made. status sending: queued to the gateway, no consent request id yet; failed: the gateway refused it (last_error).';
COMMENT ON COLUMN hiu_consent_requests.gateway_id IS 'The consent manager''s consent request id, from on-init.';
COMMENT ON COLUMN hiu_consent_requests.next_poll_at IS 'When the status poll next asks consent-requests/status while the request is still requested (exponential backoff).';
CREATE INDEX hiu_consent_requests_gateway ON hiu_consent_requests (tenant_id, gateway_id) WHERE gateway_id <> '';
CREATE INDEX hiu_consent_requests_init ON hiu_consent_requests (tenant_id, init_exchange_id);
CREATE INDEX hiu_consent_requests_poll ON hiu_consent_requests (next_poll_at) WHERE status = 'requested';

CREATE TABLE hiu_consents (
    id                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id          uuid NOT NULL REFERENCES tenants(id),
    consent_request_id uuid NOT NULL REFERENCES hiu_consent_requests(id),
    artefact_id        text NOT NULL CHECK (artefact_id <> ''),
    status             text NOT NULL CHECK (status IN ('granted', 'revoked', 'expired')),
    fetch_exchange_id  bigint,
    fetched_at         timestamptz,
    hip_id             text NOT NULL DEFAULT '',
    care_contexts      jsonb NOT NULL DEFAULT '[]',
    hi_types           text[] NOT NULL DEFAULT '{}',
    date_from          timestamptz,
    date_to            timestamptz,
    data_erase_at      timestamptz,
    purged_at          timestamptz,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    UNIQUE (tenant_id, artefact_id)
);
COMMENT ON TABLE hiu_consents IS 'Consent artefacts granted to us (one per HIP), as fetched. Everything received under one is deleted at data_erase_at, on expiry or on revocation (purged_at).';
CREATE INDEX hiu_consents_request ON hiu_consents (consent_request_id);
CREATE INDEX hiu_consents_erase ON hiu_consents (data_erase_at) WHERE purged_at IS NULL;

CREATE TABLE hiu_data_requests (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id       uuid NOT NULL REFERENCES tenants(id),
    consent_id      uuid NOT NULL REFERENCES hiu_consents(id),
    key_name        text NOT NULL,
    nonce           text NOT NULL,
    hi_exchange_id  bigint NOT NULL,
    transaction_id  text NOT NULL DEFAULT '',
    status          text NOT NULL CHECK (status IN ('requested', 'acknowledged', 'completed', 'failed', 'expired')),
    last_error      text NOT NULL DEFAULT '',
    page_count      integer,
    expires_at      timestamptz NOT NULL,
    completed_at    timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE hiu_data_requests IS 'One health-information request per artefact. id is also the secret part of the data push URL; key_name names the private key in the key store, deleted when the transfer completes or expires.';
CREATE INDEX hiu_data_requests_consent ON hiu_data_requests (consent_id);
CREATE INDEX hiu_data_requests_exchange ON hiu_data_requests (tenant_id, hi_exchange_id);
CREATE INDEX hiu_data_requests_open ON hiu_data_requests (expires_at) WHERE status IN ('requested', 'acknowledged');

CREATE TABLE hiu_pages (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id       uuid NOT NULL REFERENCES tenants(id),
    data_request_id uuid NOT NULL REFERENCES hiu_data_requests(id),
    page_number     integer NOT NULL,
    page_count      integer NOT NULL,
    body            bytea NOT NULL,
    received_at     timestamptz NOT NULL DEFAULT now(),
    processed_at    timestamptz,
    entries_ok      integer NOT NULL DEFAULT 0,
    entries_failed  integer NOT NULL DEFAULT 0,
    UNIQUE (data_request_id, page_number)
);
COMMENT ON TABLE hiu_pages IS 'Data push pages as received (still encrypted). Unique per page number so a page pushed twice is processed once.';

CREATE TABLE hiu_context_results (
    tenant_id       uuid NOT NULL REFERENCES tenants(id),
    data_request_id uuid NOT NULL REFERENCES hiu_data_requests(id),
    care_context    text NOT NULL,
    ok              boolean NOT NULL,
    PRIMARY KEY (data_request_id, care_context)
);
COMMENT ON TABLE hiu_context_results IS 'Per care context outcome of a transfer (ok unless an entry of it could not be read), for the HIU''s health-information notify.';

CREATE TABLE hiu_records (
    id                   uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id            uuid NOT NULL REFERENCES tenants(id),
    consent_id           uuid NOT NULL REFERENCES hiu_consents(id),
    page_id              bigint NOT NULL REFERENCES hiu_pages(id),
    patient_abha_address text NOT NULL,
    patient_id           uuid,
    hip_id               text NOT NULL,
    care_context         text NOT NULL,
    artefact_id          text NOT NULL,
    received_at          timestamptz NOT NULL,
    record_type          text NOT NULL DEFAULT '',
    title                text NOT NULL DEFAULT '',
    record_date          timestamptz,
    problems             jsonb NOT NULL DEFAULT '[]'
);
COMMENT ON TABLE hiu_records IS 'One received FHIR document, with its provenance (HIP, care context, consent artefact, received at).';
CREATE INDEX hiu_records_patient ON hiu_records (tenant_id, patient_abha_address);
CREATE INDEX hiu_records_consent ON hiu_records (consent_id);

CREATE TABLE hiu_entries (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id    uuid NOT NULL REFERENCES tenants(id),
    record_id    uuid NOT NULL REFERENCES hiu_records(id) ON DELETE CASCADE,
    position     integer NOT NULL,
    kind         text NOT NULL,
    resource     text NOT NULL DEFAULT '',
    code_system  text NOT NULL DEFAULT '',
    code         text NOT NULL DEFAULT '',
    display      text NOT NULL DEFAULT '',
    summary      text NOT NULL DEFAULT '',
    value        text NOT NULL DEFAULT '',
    unit         text NOT NULL DEFAULT '',
    range_low    text NOT NULL DEFAULT '',
    range_high   text NOT NULL DEFAULT '',
    range_text   text NOT NULL DEFAULT '',
    status       text NOT NULL DEFAULT '',
    effective_at timestamptz,
    time_text    text NOT NULL DEFAULT '',
    detail       jsonb NOT NULL
);
COMMENT ON TABLE hiu_entries IS 'Normalised clinical items of a record (nrces.Entry): the first coding and value in columns for the unified record page, the whole entry (less attachment bytes) in detail.';
CREATE INDEX hiu_entries_record ON hiu_entries (record_id);

CREATE TABLE hiu_attachments (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id    uuid NOT NULL REFERENCES tenants(id),
    entry_id     bigint NOT NULL REFERENCES hiu_entries(id) ON DELETE CASCADE,
    content_type text NOT NULL DEFAULT '',
    title        text NOT NULL DEFAULT '',
    url          text NOT NULL DEFAULT '',
    size         bigint NOT NULL DEFAULT 0,
    data         bytea
);
CREATE INDEX hiu_attachments_entry ON hiu_attachments (entry_id);

ALTER TABLE hiu_consent_requests ENABLE ROW LEVEL SECURITY;
ALTER TABLE hiu_consent_requests FORCE ROW LEVEL SECURITY;
ALTER TABLE hiu_consents         ENABLE ROW LEVEL SECURITY;
ALTER TABLE hiu_consents         FORCE ROW LEVEL SECURITY;
ALTER TABLE hiu_data_requests    ENABLE ROW LEVEL SECURITY;
ALTER TABLE hiu_data_requests    FORCE ROW LEVEL SECURITY;
ALTER TABLE hiu_pages            ENABLE ROW LEVEL SECURITY;
ALTER TABLE hiu_pages            FORCE ROW LEVEL SECURITY;
ALTER TABLE hiu_context_results  ENABLE ROW LEVEL SECURITY;
ALTER TABLE hiu_context_results  FORCE ROW LEVEL SECURITY;
ALTER TABLE hiu_records          ENABLE ROW LEVEL SECURITY;
ALTER TABLE hiu_records          FORCE ROW LEVEL SECURITY;
ALTER TABLE hiu_entries          ENABLE ROW LEVEL SECURITY;
ALTER TABLE hiu_entries          FORCE ROW LEVEL SECURITY;
ALTER TABLE hiu_attachments      ENABLE ROW LEVEL SECURITY;
ALTER TABLE hiu_attachments      FORCE ROW LEVEL SECURITY;

CREATE POLICY tenant_isolation ON hiu_consent_requests USING (tenant_id = app_tenant_id()) WITH CHECK (tenant_id = app_tenant_id());
CREATE POLICY tenant_isolation ON hiu_consents         USING (tenant_id = app_tenant_id()) WITH CHECK (tenant_id = app_tenant_id());
CREATE POLICY tenant_isolation ON hiu_data_requests    USING (tenant_id = app_tenant_id()) WITH CHECK (tenant_id = app_tenant_id());
CREATE POLICY tenant_isolation ON hiu_pages            USING (tenant_id = app_tenant_id()) WITH CHECK (tenant_id = app_tenant_id());
CREATE POLICY tenant_isolation ON hiu_context_results  USING (tenant_id = app_tenant_id()) WITH CHECK (tenant_id = app_tenant_id());
CREATE POLICY tenant_isolation ON hiu_records          USING (tenant_id = app_tenant_id()) WITH CHECK (tenant_id = app_tenant_id());
CREATE POLICY tenant_isolation ON hiu_entries          USING (tenant_id = app_tenant_id()) WITH CHECK (tenant_id = app_tenant_id());
CREATE POLICY tenant_isolation ON hiu_attachments      USING (tenant_id = app_tenant_id()) WITH CHECK (tenant_id = app_tenant_id());

