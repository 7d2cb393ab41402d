-- +goose Up
-- Core tenancy tables. Every table owned by a tenant carries tenant_id and is
-- protected by row-level security keyed on the transaction setting
-- app.tenant_id, which database.InTenant sets. The application connects as
-- (or switches to) the role sangam_app, which is neither superuser nor owner,
-- so the policies apply to it even for hand-written queries.

-- +goose StatementBegin
DO $$
BEGIN
    CREATE ROLE sangam_app NOLOGIN NOSUPERUSER NOBYPASSRLS;
EXCEPTION WHEN duplicate_object OR unique_violation THEN
    -- Roles are cluster-wide; another database of this cluster made it.
    NULL;
END
$$;
-- +goose StatementEnd

-- The migrating user must be able to become sangam_app at run time.
-- +goose StatementBegin
DO $$
BEGIN
    EXECUTE format('GRANT sangam_app TO %I', current_user);
EXCEPTION WHEN duplicate_object OR unique_violation OR invalid_grant_operation THEN
    NULL;
END
$$;
-- +goose StatementEnd

-- app_tenant_id is the tenant of the current transaction, or NULL when none
-- was set: a NULL never equals a tenant_id, so a forgotten InTenant reads
-- nothing instead of everything.
CREATE FUNCTION app_tenant_id() RETURNS uuid
    LANGUAGE sql STABLE
    AS $$ SELECT NULLIF(current_setting('app.tenant_id', true), '')::uuid $$;

CREATE TABLE tenants (
    id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    slug       text NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9][a-z0-9-]{1,62}$'),
    name       text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE tenants IS 'One organisation with its own ABDM client id and bridge URL (/bridge/<slug>). Not row-secured: the slug is needed to route before a tenant is known, and holds no secrets.';

CREATE TABLE facilities (
    id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id  uuid NOT NULL REFERENCES tenants(id),
    hfr_id     text NOT NULL,
    hip_id     text NOT NULL,
    name       text NOT NULL,
    address    text NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (tenant_id, hfr_id),
    UNIQUE (hip_id)
);
COMMENT ON COLUMN facilities.hip_id IS 'HIP service id registered under the bridge: the value the gateway sends in X-HIP-ID. Unique across tenants because ABDM assigns it.';

CREATE TABLE counters (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id   uuid NOT NULL REFERENCES tenants(id),
    facility_id uuid NOT NULL REFERENCES facilities(id),
    code        text NOT NULL CHECK (code ~ '^[A-Za-z0-9]{1,20}$'),
    name        text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (facility_id, code)
);
COMMENT ON TABLE counters IS 'Scan-and-share desks; code is the counter id carried in the QR (ABDM allows 1-20 letters or digits).';

CREATE TABLE source_systems (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id   uuid NOT NULL REFERENCES tenants(id),
    facility_id uuid NOT NULL REFERENCES facilities(id),
    code        text NOT NULL,
    name        text NOT NULL,
    kind        text NOT NULL CHECK (kind IN ('HIS', 'LIMS', 'RIS', 'pharmacy', 'billing')),
    vendor      text NOT NULL,
    config      jsonb NOT NULL DEFAULT '{}',
    created_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (facility_id, code)
);
COMMENT ON COLUMN source_systems.config IS 'Connection settings (mapping file, DSN reference, base URL). Secrets are referenced by key-store name, never stored here.';

CREATE TABLE staff_sessions (
    id_hash        bytea PRIMARY KEY,
    tenant_id      uuid NOT NULL REFERENCES tenants(id),
    subject        text NOT NULL,
    username       text NOT NULL DEFAULT '',
    name           text NOT NULL DEFAULT '',
    email          text NOT NULL DEFAULT '',
    roles          text[] NOT NULL DEFAULT '{}',
    facilities     text[] NOT NULL DEFAULT '{}',
    csrf_token     text NOT NULL,
    id_token       text NOT NULL DEFAULT '',
    created_at     timestamptz NOT NULL DEFAULT now(),
    last_seen_at   timestamptz NOT NULL DEFAULT now(),
    expires_at     timestamptz NOT NULL
);
COMMENT ON COLUMN staff_sessions.id_hash IS 'SHA-256 of the session cookie value; the cookie itself is never stored.';
CREATE INDEX staff_sessions_expires_at ON staff_sessions (expires_at);

CREATE TABLE audit_events (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id   uuid NOT NULL REFERENCES tenants(id),
    occurred_at timestamptz NOT NULL DEFAULT now(),
    actor       text NOT NULL,
    action      text NOT NULL,
    subject     text NOT NULL DEFAULT '',
    detail      jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_events_tenant_time ON audit_events (tenant_id, occurred_at DESC);

-- Row-level security on every tenant-owned table. FORCE makes the policy
-- apply to the table owner too, so only a superuser bypasses it.
ALTER TABLE facilities     ENABLE ROW LEVEL SECURITY;
ALTER TABLE facilities     FORCE ROW LEVEL SECURITY;
ALTER TABLE counters       ENABLE ROW LEVEL SECURITY;
ALTER TABLE counters       FORCE ROW LEVEL SECURITY;
ALTER TABLE source_systems ENABLE ROW LEVEL SECURITY;
ALTER TABLE source_systems FORCE ROW LEVEL SECURITY;
ALTER TABLE staff_sessions ENABLE ROW LEVEL SECURITY;
ALTER TABLE staff_sessions FORCE ROW LEVEL SECURITY;
ALTER TABLE audit_events   ENABLE ROW LEVEL SECURITY;
ALTER TABLE audit_events   FORCE ROW LEVEL SECURITY;

CREATE POLICY tenant_isolation ON facilities     USING (tenant_id = app_tenant_id()) WITH CHECK (tenant_id = app_tenant_id());
CREATE POLICY tenant_isolation ON counters       USING (tenant_id = app_tenant_id()) WITH CHECK (tenant_id = app_tenant_id());
CREATE POLICY tenant_isolation ON source_systems USING (tenant_id = app_tenant_id()) WITH CHECK (tenant_id = app_tenant_id());
CREATE POLICY tenant_isolation ON staff_sessions USING (tenant_id = app_tenant_id()) WITH CHECK (tenant_id = app_tenant_id());
CREATE POLICY tenant_isolation ON audit_events   USING (tenant_id = app_tenant_id()) WITH CHECK (tenant_id = app_tenant_id());

-- sangam_app reaches every table (River's included) through grants; which
-- rows it sees is the policies' business.
GRANT USAGE ON SCHEMA public TO sangam_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO sangam_app;
GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO sangam_app;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO sangam_app;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO sangam_app;
-- The goose bookkeeping table stays out of the application's reach.
REVOKE ALL ON goose_db_version FROM sangam_app;

-- sangam_schema_version lets the application role check the schema at start
-- without reading goose's table.
CREATE FUNCTION sangam_schema_version() RETURNS bigint
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public
    AS $$ SELECT coalesce(max(version_id), 0) FROM goose_db_version WHERE is_applied $$;
