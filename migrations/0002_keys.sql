-- +goose Up
-- Embedded key store (package keys). Secrets are sealed with AES-256-GCM
-- under a per-tenant data key; each data key is itself sealed under a master
-- key that never enters the database. Without the master key these rows are
-- opaque: neither table holds a usable key or a plaintext secret.

CREATE TABLE key_data_keys (
    tenant_id     uuid PRIMARY KEY REFERENCES tenants(id),
    master_key_id text NOT NULL,
    wrapped       bytea NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    rewrapped_at  timestamptz
);
COMMENT ON TABLE key_data_keys IS 'One random 256-bit data key per tenant, sealed (AES-256-GCM, nonce || ciphertext) under the master key named by master_key_id.';
COMMENT ON COLUMN key_data_keys.master_key_id IS 'Fingerprint of the master key that sealed this row, so that reads during a master-key rotation pick the right key and `sangam keys rotate` finds rows still under an old one.';

CREATE TABLE key_secrets (
    tenant_id    uuid NOT NULL REFERENCES tenants(id),
    facility_id  uuid REFERENCES facilities(id),
    -- The primary key cannot contain a NULL, and a tenant-wide secret has no
    -- facility; this column stands in for it without needing PostgreSQL 15's
    -- NULLS NOT DISTINCT.
    facility_key uuid NOT NULL GENERATED ALWAYS AS (coalesce(facility_id, '00000000-0000-0000-0000-000000000000')) STORED,
    purpose      text NOT NULL,
    name         text NOT NULL,
    sealed       bytea NOT NULL,
    expires_at   timestamptz,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, facility_key, purpose, name)
);
COMMENT ON COLUMN key_secrets.sealed IS 'nonce || AES-256-GCM ciphertext under the tenant''s data key; the associated data binds tenant, facility, purpose, name and expires_at, so a row moved, swapped or given a later expiry no longer decrypts.';
CREATE INDEX key_secrets_expires_at ON key_secrets (tenant_id, expires_at) WHERE expires_at IS NOT NULL;

ALTER TABLE key_data_keys ENABLE ROW LEVEL SECURITY;
ALTER TABLE key_data_keys FORCE ROW LEVEL SECURITY;
ALTER TABLE key_secrets   ENABLE ROW LEVEL SECURITY;
ALTER TABLE key_secrets   FORCE ROW LEVEL SECURITY;

CREATE POLICY tenant_isolation ON key_data_keys USING (tenant_id = app_tenant_id()) WITH CHECK (tenant_id = app_tenant_id());
CREATE POLICY tenant_isolation ON key_secrets   USING (tenant_id = app_tenant_id()) WITH CHECK (tenant_id = app_tenant_id());
