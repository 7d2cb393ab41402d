-- +goose Up
-- HIP side of M1 (package hip): the scan-and-share queue of each counter,
-- link-token requests, and HIP-initiated linking of care contexts.

CREATE TABLE hip_counter_days (
    counter_id  uuid NOT NULL REFERENCES counters(id),
    day         date NOT NULL,
    tenant_id   uuid NOT NULL REFERENCES tenants(id),
    last_token  integer NOT NULL CHECK (last_token > 0),
    PRIMARY KEY (counter_id, day)
);
COMMENT ON TABLE hip_counter_days IS 'Last queue token number issued at a counter on a day (facility-local date); the next share takes last_token + 1 under the row lock.';

CREATE TABLE hip_share_tokens (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id     uuid NOT NULL REFERENCES tenants(id),
    facility_id   uuid NOT NULL REFERENCES facilities(id),
    counter_id    uuid NOT NULL REFERENCES counters(id),
    day           date NOT NULL,
    token_number  integer NOT NULL CHECK (token_number > 0),
    request_id    text NOT NULL CHECK (request_id <> ''),
    patient_id    uuid REFERENCES patients(id),
    abha_address  text NOT NULL CHECK (abha_address <> ''),
    abha_number   text NOT NULL DEFAULT '',
    name          text NOT NULL DEFAULT '',
    gender        text NOT NULL DEFAULT '',
    birth_year    integer,
    birth_date    date,
    status        text NOT NULL DEFAULT 'waiting' CHECK (status IN ('waiting', 'accepted', 'completed')),
    shared_at     timestamptz NOT NULL DEFAULT now(),
    expires_at    timestamptz NOT NULL,
    accepted_at   timestamptz,
    completed_at  timestamptz,
    UNIQUE (counter_id, day, token_number),
    UNIQUE (tenant_id, request_id)
);
COMMENT ON TABLE hip_share_tokens IS 'One row per queue token issued to a scan-and-share profile. Demographics are the shared ABHA profile, kept for the counter queue.';
COMMENT ON COLUMN hip_share_tokens.request_id IS 'REQUEST-ID of the inbound share; a reprocessed share finds its token here instead of taking a new number.';
CREATE INDEX hip_share_tokens_reuse ON hip_share_tokens (counter_id, abha_address, expires_at DESC);

CREATE TABLE hip_link_token_requests (
    tenant_id         uuid NOT NULL REFERENCES tenants(id),
    facility_id       uuid NOT NULL REFERENCES facilities(id),
    abha_address      text NOT NULL CHECK (abha_address <> ''),
    abha_number       text NOT NULL DEFAULT '',
    name              text NOT NULL DEFAULT '',
    gender            text NOT NULL DEFAULT '',
    birth_year        integer NOT NULL DEFAULT 0,
    state             text NOT NULL CHECK (state IN ('pending', 'received', 'failed', 'blocked')),
    exchange_id       bigint,
    last_requested_at timestamptz NOT NULL,
    blocked_until     timestamptz,
    last_error        text NOT NULL DEFAULT '',
    updated_at        timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (facility_id, abha_address)
);
COMMENT ON TABLE hip_link_token_requests IS 'The last generate-token call per (facility, ABHA address): never repeated inside the ABDM-1092 window, held back while ABDM-1027 blocks the address. The token itself lives in the key store.';
CREATE INDEX hip_link_token_requests_exchange ON hip_link_token_requests (exchange_id);

CREATE TABLE hip_care_context_links (
    tenant_id         uuid NOT NULL REFERENCES tenants(id),
    facility_id       uuid NOT NULL REFERENCES facilities(id),
    reference         text NOT NULL,
    abha_address      text NOT NULL CHECK (abha_address <> ''),
    patient_reference text NOT NULL,
    state             text NOT NULL CHECK (state IN ('waiting_token', 'sent', 'linked', 'failed')),
    exchange_id       bigint,
    last_error        text NOT NULL DEFAULT '',
    linked_at         timestamptz,
    notify_state      text NOT NULL DEFAULT '' CHECK (notify_state IN ('', 'sent', 'notified', 'failed')),
    notify_exchange_id bigint,
    updated_at        timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (facility_id, reference),
    FOREIGN KEY (facility_id, reference) REFERENCES care_contexts (facility_id, reference)
);
COMMENT ON TABLE hip_care_context_links IS 'HIP-initiated linking of each care context: waiting for a link token, sent (link/carecontext queued), linked (on_carecontext succeeded) or failed; then the context notify.';
COMMENT ON COLUMN hip_care_context_links.patient_reference IS 'The patient referenceNumber sent to ABDM: the master patient id.';
CREATE INDEX hip_care_context_links_waiting ON hip_care_context_links (facility_id, abha_address, state);
CREATE INDEX hip_care_context_links_exchange ON hip_care_context_links (exchange_id);

ALTER TABLE hip_counter_days        ENABLE ROW LEVEL SECURITY;
ALTER TABLE hip_counter_days        FORCE ROW LEVEL SECURITY;
ALTER TABLE hip_share_tokens        ENABLE ROW LEVEL SECURITY;
ALTER TABLE hip_share_tokens        FORCE ROW LEVEL SECURITY;
ALTER TABLE hip_link_token_requests ENABLE ROW LEVEL SECURITY;
ALTER TABLE hip_link_token_requests FORCE ROW LEVEL SECURITY;
ALTER TABLE hip_care_context_links  ENABLE ROW LEVEL SECURITY;
ALTER TABLE hip_care_context_links  FORCE ROW LEVEL SECURITY;

CREATE POLICY tenant_isolation ON hip_counter_days        USING (tenant_id = app_tenant_id()) WITH CHECK (tenant_id = app_tenant_id());
CREATE POLICY tenant_isolation ON hip_share_tokens        USING (tenant_id = app_tenant_id()) WITH CHECK (tenant_id = app_tenant_id());
CREATE POLICY tenant_isolation ON hip_link_token_requests USING (tenant_id = app_tenant_id()) WITH CHECK (tenant_id = app_tenant_id());
CREATE POLICY tenant_isolation ON hip_care_context_links  USING (tenant_id = app_tenant_id()) WITH CHECK (tenant_id = app_tenant_id());
