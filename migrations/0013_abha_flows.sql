-- +goose Up
-- The front desk's ABHA journeys in progress (create ABHA with Aadhaar OTP,
-- verify ABHA): one row per staff session and kind, so that any replica can
-- take the next step and a restart loses none. The state holds ABDM
-- transaction ids and the patient's X-token, so the server stores it sealed
-- (AES-256-GCM) under a key derived from the session cookie's secret part.
-- Only the browser holds that secret; staff_sessions keeps just the
-- cookie's SHA-256, so reading this table, or a backup of it, opens nothing.

CREATE TABLE abha_flows (
    session_id_hash bytea NOT NULL REFERENCES staff_sessions(id_hash) ON DELETE CASCADE,
    kind            text NOT NULL CHECK (kind IN ('enrol', 'verify')),
    tenant_id       uuid NOT NULL REFERENCES tenants(id),
    sealed          bytea NOT NULL,
    expires_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (session_id_hash, kind)
);
COMMENT ON TABLE abha_flows IS 'A staff session''s ABHA journey in progress. Signing out (or the session expiring) deletes it with the session.';
COMMENT ON COLUMN abha_flows.session_id_hash IS 'The staff session (staff_sessions.id_hash) the journey belongs to.';
COMMENT ON COLUMN abha_flows.kind IS 'enrol (create ABHA with Aadhaar OTP) or verify (verify an existing ABHA).';
COMMENT ON COLUMN abha_flows.sealed IS 'Nonce and AES-256-GCM ciphertext of the journey state, under an HKDF-SHA256 key from the session cookie''s secret part, with the tenant, session and kind as additional data. Never holds an Aadhaar number or an OTP.';
COMMENT ON COLUMN abha_flows.expires_at IS 'The journey ends 15 minutes after its last step; later rows are ignored and deleted by the next save in the tenant.';

-- The tenant's expired journeys are deleted on every save.
CREATE INDEX abha_flows_expires_at ON abha_flows (tenant_id, expires_at);

ALTER TABLE abha_flows ENABLE ROW LEVEL SECURITY;
ALTER TABLE abha_flows FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON abha_flows USING (tenant_id = app_tenant_id()) WITH CHECK (tenant_id = app_tenant_id());

-- Migration 0001's default privileges already give sangam_app these when
-- the same user migrates; granting them here keeps that true when another
-- user runs this migration.
GRANT SELECT, INSERT, UPDATE, DELETE ON abha_flows TO sangam_app;
