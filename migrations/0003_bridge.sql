-- +goose Up
-- The ABDM bridge (package bridge): each tenant's gateway client id, the
-- inbox and outbox of gateway exchanges with their timelines, and whether
-- each facility's service id is registered under the tenant's bridge.
-- The client secret is not here: it lives in the key store.

CREATE TABLE bridge_tenants (
    tenant_id      uuid PRIMARY KEY REFERENCES tenants(id),
    client_id      text NOT NULL CHECK (client_id <> ''),
    bridge_url     text NOT NULL DEFAULT '',
    registered_at  timestamptz,
    reported_url   text NOT NULL DEFAULT '',
    checked_at     timestamptz,
    last_error     text NOT NULL DEFAULT '',
    last_error_at  timestamptz,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE bridge_tenants IS 'A tenant''s ABDM gateway client. The client secret is in the key store (purpose abdm-client-secret), never in this database in plaintext.';
COMMENT ON COLUMN bridge_tenants.bridge_url IS 'The callback base we last registered with PATCH /gateway/v3/bridge/url.';
COMMENT ON COLUMN bridge_tenants.reported_url IS 'The bridge URL GET /gateway/v3/bridge-services reported at checked_at; differs from bridge_url when another system registered with the same client id (last writer wins).';

CREATE TABLE bridge_exchanges (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id       uuid NOT NULL REFERENCES tenants(id),
    direction       text NOT NULL CHECK (direction IN ('inbound', 'outbound')),
    route           text NOT NULL,
    method          text NOT NULL,
    path            text NOT NULL,
    request_id      text NOT NULL,
    service_role    text NOT NULL DEFAULT '' CHECK (service_role IN ('', 'HIP', 'HIU')),
    service_id      text NOT NULL DEFAULT '',
    facility_id     uuid REFERENCES facilities(id),
    correlation_id  text NOT NULL DEFAULT '',
    related_id      bigint REFERENCES bridge_exchanges(id),
    state           text NOT NULL CHECK (state IN (
                        'refused', 'acknowledged', 'processed', 'unhandled', 'failed', 'replied',
                        'queued', 'delivered', 'dead_lettered')),
    body            bytea,
    body_sha256     bytea NOT NULL,
    ack_status      integer,
    link_token_name text NOT NULL DEFAULT '',
    attempts        integer NOT NULL DEFAULT 0,
    max_attempts    integer NOT NULL DEFAULT 0,
    request_sends   integer NOT NULL DEFAULT 0,
    last_status     integer,
    last_error      text NOT NULL DEFAULT '',
    last_error_code text NOT NULL DEFAULT '',
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    purge_after     timestamptz NOT NULL,
    body_purged_at  timestamptz
);
COMMENT ON TABLE bridge_exchanges IS 'Inbox (callbacks from the gateway) and outbox (calls to it), one row per REQUEST-ID. Refused callbacks are kept without their body so operators can see them.';
COMMENT ON COLUMN bridge_exchanges.route IS 'Callback route name (abdm.CallbackRoute.Name, e.g. hip.discover) or gateway route name (abdm.GatewayRoute.Name, e.g. on_discover; the path when unnamed).';
COMMENT ON COLUMN bridge_exchanges.request_id IS 'Inbound: the gateway''s REQUEST-ID header. Outbound: ours; replaced by a fresh one only when a dead-lettered call the gateway refused with a 4xx is replayed.';
COMMENT ON COLUMN bridge_exchanges.correlation_id IS 'Inbound: response.requestId, the REQUEST-ID of our call this callback answers. Outbound: the inbound REQUEST-ID an on-* reply answers.';
COMMENT ON COLUMN bridge_exchanges.related_id IS 'The exchange correlation_id points at, when we have it.';
COMMENT ON COLUMN bridge_exchanges.body IS 'Raw JSON as received or to be sent; may hold patient data. Set to NULL at purge_after by the retention job.';
COMMENT ON COLUMN bridge_exchanges.link_token_name IS 'Outbound: key-store name of the X-LINK-TOKEN to send; the token itself is never stored here.';
COMMENT ON COLUMN bridge_exchanges.request_sends IS 'Outbound: how many times the current request_id went on the wire. A duplicate-request answer after the first send means an earlier send got through.';

-- A redelivery with the same REQUEST-ID finds the first one here. Refused
-- rows are left out so a callback refused for a facility that was added
-- later can still be accepted when the gateway tries again.
CREATE UNIQUE INDEX bridge_exchanges_request ON bridge_exchanges (tenant_id, direction, request_id) WHERE state <> 'refused';
CREATE INDEX bridge_exchanges_timeline ON bridge_exchanges (tenant_id, id DESC);
CREATE INDEX bridge_exchanges_state ON bridge_exchanges (tenant_id, state, id DESC);
CREATE INDEX bridge_exchanges_purge ON bridge_exchanges (tenant_id, purge_after) WHERE body IS NOT NULL;

CREATE TABLE bridge_events (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id   uuid NOT NULL REFERENCES tenants(id),
    exchange_id bigint NOT NULL REFERENCES bridge_exchanges(id),
    occurred_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    kind        text NOT NULL,
    attempt     integer,
    http_status integer,
    detail      text NOT NULL DEFAULT ''
);
COMMENT ON TABLE bridge_events IS 'Timeline of an exchange for the ops console: received, acknowledged, processed, unhandled, failed, replied, queued, attempt, delivered, dead_lettered, replayed, duplicate, conflict, answered. Never holds a body.';
CREATE INDEX bridge_events_exchange ON bridge_events (exchange_id, id);

CREATE TABLE bridge_registrations (
    facility_id   uuid PRIMARY KEY REFERENCES facilities(id),
    tenant_id     uuid NOT NULL REFERENCES tenants(id),
    service_id    text NOT NULL,
    registered    boolean NOT NULL,
    active        boolean NOT NULL,
    service_name  text NOT NULL DEFAULT '',
    service_types text[] NOT NULL DEFAULT '{}',
    checked_at    timestamptz NOT NULL
);
COMMENT ON TABLE bridge_registrations IS 'Whether a facility''s HIP id was listed as an HIP service under the tenant''s bridge by GET /gateway/v3/bridge-services at checked_at. A facility not registered cannot serve M2.';
COMMENT ON COLUMN bridge_registrations.service_id IS 'The facility''s hip_id at the check; a later change of hip_id makes the row stale until the next check.';

ALTER TABLE bridge_tenants       ENABLE ROW LEVEL SECURITY;
ALTER TABLE bridge_tenants       FORCE ROW LEVEL SECURITY;
ALTER TABLE bridge_exchanges     ENABLE ROW LEVEL SECURITY;
ALTER TABLE bridge_exchanges     FORCE ROW LEVEL SECURITY;
ALTER TABLE bridge_events        ENABLE ROW LEVEL SECURITY;
ALTER TABLE bridge_events        FORCE ROW LEVEL SECURITY;
ALTER TABLE bridge_registrations ENABLE ROW LEVEL SECURITY;
ALTER TABLE bridge_registrations FORCE ROW LEVEL SECURITY;

CREATE POLICY tenant_isolation ON bridge_tenants       USING (tenant_id = app_tenant_id()) WITH CHECK (tenant_id = app_tenant_id());
CREATE POLICY tenant_isolation ON bridge_exchanges     USING (tenant_id = app_tenant_id()) WITH CHECK (tenant_id = app_tenant_id());
CREATE POLICY tenant_isolation ON bridge_events        USING (tenant_id = app_tenant_id()) WITH CHECK (tenant_id = app_tenant_id());
CREATE POLICY tenant_isolation ON bridge_registrations USING (tenant_id = app_tenant_id()) WITH CHECK (tenant_id = app_tenant_id());
