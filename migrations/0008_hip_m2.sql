-- +goose Up
-- HIP side of M2 (package hip): consent artefacts the gateway notified,
-- health-information transfers and their per-care-context outcome, bundles
-- the quality gate refused, sources left out of a discovery, and
-- user-initiated links.

CREATE TABLE hip_consents (
    tenant_id      uuid NOT NULL REFERENCES tenants(id),
    consent_id     text NOT NULL CHECK (consent_id <> ''),
    facility_id    uuid NOT NULL REFERENCES facilities(id),
    status         text NOT NULL CHECK (status IN ('GRANTED', 'REVOKED', 'EXPIRED')),
    patient_id     text NOT NULL DEFAULT '',
    hiu_id         text NOT NULL DEFAULT '',
    purpose_code   text NOT NULL DEFAULT '',
    hi_types       text[] NOT NULL DEFAULT '{}',
    care_contexts  jsonb NOT NULL DEFAULT '[]',
    date_from      timestamptz,
    date_to        timestamptz,
    data_erase_at  timestamptz,
    artefact       jsonb,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, consent_id)
);
COMMENT ON TABLE hip_consents IS 'Consent artefacts the consent manager notified to one of the tenant''s HIPs. A REVOKED or EXPIRED notification flips status and is never undone by a later GRANTED for the same id.';
COMMENT ON COLUMN hip_consents.care_contexts IS 'The artefact''s careContexts: [{patientReference, careContextReference}].';
COMMENT ON COLUMN hip_consents.data_erase_at IS 'permission.dataEraseAt: after it the consent serves nothing, whatever its status.';

CREATE TABLE hip_transfers (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id       uuid NOT NULL REFERENCES tenants(id),
    facility_id     uuid NOT NULL REFERENCES facilities(id),
    hip_id          text NOT NULL,
    transaction_id  text NOT NULL CHECK (transaction_id <> ''),
    consent_id      text NOT NULL,
    request_id      text NOT NULL,
    request         jsonb NOT NULL,
    state           text NOT NULL DEFAULT 'requested' CHECK (state IN ('requested', 'refused', 'transferred', 'failed')),
    partial         boolean NOT NULL DEFAULT false,
    reason          text NOT NULL DEFAULT '',
    pages           integer NOT NULL DEFAULT 0,
    created_at      timestamptz NOT NULL DEFAULT now(),
    finished_at     timestamptz,
    UNIQUE (tenant_id, transaction_id)
);
COMMENT ON TABLE hip_transfers IS 'One health-information request to an HIP and how it ended. partial: some care contexts were served and others failed (a source down, a bundle refused by the gate).';
COMMENT ON COLUMN hip_transfers.request IS 'The hiRequest as received (consent id, date range, dataPushUrl, the HIU''s public key material). No health data.';

CREATE TABLE hip_transfer_items (
    transfer_id    bigint NOT NULL REFERENCES hip_transfers(id) ON DELETE CASCADE,
    tenant_id      uuid NOT NULL REFERENCES tenants(id),
    reference      text NOT NULL,
    status         text NOT NULL CHECK (status IN ('DELIVERED', 'ERRORED')),
    description    text NOT NULL DEFAULT '',
    PRIMARY KEY (transfer_id, reference)
);
COMMENT ON TABLE hip_transfer_items IS 'Per care context outcome of a transfer, as sent in health-information/notify.';

CREATE TABLE hip_review (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id      uuid NOT NULL REFERENCES tenants(id),
    facility_id    uuid NOT NULL REFERENCES facilities(id),
    reference      text NOT NULL,
    transfer_id    bigint REFERENCES hip_transfers(id) ON DELETE SET NULL,
    findings       jsonb NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    resolved_at    timestamptz
);
COMMENT ON TABLE hip_review IS 'Care contexts whose bundle the NRCeS gate refused (or that could not be expressed as a document): not sent, waiting for someone to fix the source data or mapping. findings holds rule ids and locations, never the bundle.';
CREATE INDEX hip_review_open ON hip_review (tenant_id, created_at DESC) WHERE resolved_at IS NULL;

CREATE TABLE hip_discovery_misses (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id        uuid NOT NULL REFERENCES tenants(id),
    facility_id      uuid NOT NULL REFERENCES facilities(id),
    source_system_id uuid NOT NULL REFERENCES source_systems(id),
    transaction_id   text NOT NULL,
    reason           text NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE hip_discovery_misses IS 'Sources left out of a discovery answer because they failed or missed the deadline: the patient may not have seen all their records.';
CREATE INDEX hip_discovery_misses_recent ON hip_discovery_misses (tenant_id, created_at DESC);

CREATE TABLE hip_user_links (
    link_ref          uuid PRIMARY KEY,
    tenant_id         uuid NOT NULL REFERENCES tenants(id),
    facility_id       uuid NOT NULL REFERENCES facilities(id),
    transaction_id    text NOT NULL,
    abha_address      text NOT NULL,
    patient_reference text NOT NULL,
    care_contexts     text[] NOT NULL,
    otp_hash          bytea NOT NULL,
    expires_at        timestamptz NOT NULL,
    attempts          integer NOT NULL DEFAULT 0,
    state             text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'linked', 'failed')),
    created_at        timestamptz NOT NULL DEFAULT now(),
    linked_at         timestamptz
);
COMMENT ON TABLE hip_user_links IS 'User-initiated linking (link/init then link/confirm): the care contexts the patient picked and the OTP sent to the mobile we hold, kept only as a bcrypt hash, expiring and attempt-limited.';

CREATE TABLE hip_user_linked (
    tenant_id    uuid NOT NULL REFERENCES tenants(id),
    facility_id  uuid NOT NULL REFERENCES facilities(id),
    reference    text NOT NULL,
    abha_address text NOT NULL,
    link_ref     uuid NOT NULL REFERENCES hip_user_links(link_ref),
    linked_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (facility_id, reference),
    FOREIGN KEY (facility_id, reference) REFERENCES care_contexts (facility_id, reference)
);
COMMENT ON TABLE hip_user_linked IS 'Care contexts a patient linked to their ABHA address by user-initiated linking; discovery no longer offers them.';

ALTER TABLE hip_user_links       ENABLE ROW LEVEL SECURITY;
ALTER TABLE hip_user_links       FORCE ROW LEVEL SECURITY;
ALTER TABLE hip_user_linked      ENABLE ROW LEVEL SECURITY;
ALTER TABLE hip_user_linked      FORCE ROW LEVEL SECURITY;
ALTER TABLE hip_consents         ENABLE ROW LEVEL SECURITY;
ALTER TABLE hip_consents         FORCE ROW LEVEL SECURITY;
ALTER TABLE hip_transfers        ENABLE ROW LEVEL SECURITY;
ALTER TABLE hip_transfers        FORCE ROW LEVEL SECURITY;
ALTER TABLE hip_transfer_items   ENABLE ROW LEVEL SECURITY;
ALTER TABLE hip_transfer_items   FORCE ROW LEVEL SECURITY;
ALTER TABLE hip_review           ENABLE ROW LEVEL SECURITY;
ALTER TABLE hip_review           FORCE ROW LEVEL SECURITY;
ALTER TABLE hip_discovery_misses ENABLE ROW LEVEL SECURITY;
ALTER TABLE hip_discovery_misses FORCE ROW LEVEL SECURITY;

CREATE POLICY tenant_isolation ON hip_user_links       USING (tenant_id = app_tenant_id()) WITH CHECK (tenant_id = app_tenant_id());
CREATE POLICY tenant_isolation ON hip_user_linked      USING (tenant_id = app_tenant_id()) WITH CHECK (tenant_id = app_tenant_id());
CREATE POLICY tenant_isolation ON hip_consents         USING (tenant_id = app_tenant_id()) WITH CHECK (tenant_id = app_tenant_id());
CREATE POLICY tenant_isolation ON hip_transfers        USING (tenant_id = app_tenant_id()) WITH CHECK (tenant_id = app_tenant_id());
CREATE POLICY tenant_isolation ON hip_transfer_items   USING (tenant_id = app_tenant_id()) WITH CHECK (tenant_id = app_tenant_id());
CREATE POLICY tenant_isolation ON hip_review           USING (tenant_id = app_tenant_id()) WITH CHECK (tenant_id = app_tenant_id());
CREATE POLICY tenant_isolation ON hip_discovery_misses USING (tenant_id = app_tenant_id()) WITH CHECK (tenant_id = app_tenant_id());
