-- +goose Up
-- The patient master index (package patients): one master patient per
-- person, linked to every (facility, source system, local id) record of
-- that person, with ABHA identifiers, the blocking keys matching searches,
-- the match decisions and review items, and the history of merges.

CREATE TABLE patients (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id   uuid NOT NULL REFERENCES tenants(id),
    merged_into uuid REFERENCES patients(id),
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    CHECK (merged_into IS DISTINCT FROM id)
);
COMMENT ON TABLE patients IS 'Master patients. Demographics live on the links (each source''s view of the person); a master is the set of its links.';
COMMENT ON COLUMN patients.merged_into IS 'Set while this master is merged into another: its links and identifiers then belong to that one, and patient_merges holds what moved so an unmerge can move it back.';
CREATE INDEX patients_merged_into ON patients (merged_into) WHERE merged_into IS NOT NULL;
CREATE INDEX patients_active ON patients (tenant_id, created_at, id) WHERE merged_into IS NULL;

CREATE TABLE patient_links (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id        uuid NOT NULL REFERENCES tenants(id),
    patient_id       uuid NOT NULL REFERENCES patients(id),
    facility_id      uuid NOT NULL REFERENCES facilities(id),
    source_system_id uuid NOT NULL REFERENCES source_systems(id),
    local_id         text NOT NULL CHECK (local_id <> '' AND length(local_id) <= 200),
    name             text NOT NULL DEFAULT '',
    gender           text NOT NULL DEFAULT '' CHECK (gender IN ('', 'M', 'F', 'O')),
    birth_date       date,
    birth_year       integer,
    mobile           text NOT NULL DEFAULT '',
    address          text NOT NULL DEFAULT '',
    pin_code         text NOT NULL DEFAULT '',
    abha_number      text NOT NULL DEFAULT '',
    abha_address     text NOT NULL DEFAULT '',
    name_canonical   text NOT NULL DEFAULT '',
    record_sha256    bytea NOT NULL,
    linked_by        text NOT NULL CHECK (linked_by IN ('new', 'abha_number', 'abha_address', 'score')),
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    UNIQUE (source_system_id, local_id)
);
COMMENT ON TABLE patient_links IS 'One patient record of one source system (an MRN in a HIS, a patient id in a LIMS), as that source last described it, and the master patient it belongs to.';
COMMENT ON COLUMN patient_links.mobile IS 'Normalised to 10 digits; empty when the source had none or an unusable one. Likewise pin_code (6 digits), abha_number (14 digits) and abha_address (lower case).';
COMMENT ON COLUMN patient_links.name_canonical IS 'The name in the matcher''s canonical spelling (see patients/names.go), kept to show reviewers what was compared.';
COMMENT ON COLUMN patient_links.record_sha256 IS 'Hash of the source record as received, so that an unchanged record ingested again is recognised without rewriting anything.';
COMMENT ON COLUMN patient_links.linked_by IS 'How the link first reached a master: new (it made its own), abha_number or abha_address (deterministic), score (probabilistic auto-link).';
CREATE INDEX patient_links_patient ON patient_links (patient_id);
CREATE INDEX patient_links_mobile ON patient_links (tenant_id, mobile) WHERE mobile <> '';

CREATE TABLE patient_link_keys (
    tenant_id uuid NOT NULL REFERENCES tenants(id),
    key       text NOT NULL,
    link_id   uuid NOT NULL REFERENCES patient_links(id) ON DELETE CASCADE,
    PRIMARY KEY (tenant_id, key, link_id)
);
COMMENT ON TABLE patient_link_keys IS 'Blocking keys: a new record is compared only with the links that share one of its keys (phonetic name + birth year, name pair, name + PIN code, mobile), never with the whole index.';
CREATE INDEX patient_link_keys_link ON patient_link_keys (link_id);

CREATE TABLE patient_identifiers (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id   uuid NOT NULL REFERENCES tenants(id),
    patient_id  uuid NOT NULL REFERENCES patients(id),
    link_id     uuid REFERENCES patient_links(id) ON DELETE CASCADE,
    kind        text NOT NULL CHECK (kind IN ('abha_number', 'abha_address')),
    value       text NOT NULL CHECK (value <> ''),
    verified    boolean NOT NULL DEFAULT false,
    created_at  timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE patient_identifiers IS 'ABHA numbers (14 digits) and addresses of master patients. A row with link_id came from that source record and is unverified; a row without was verified through ABDM (scan and share, linking) and is trusted by discovery.';
CREATE INDEX patient_identifiers_value ON patient_identifiers (tenant_id, kind, value);
CREATE INDEX patient_identifiers_patient ON patient_identifiers (patient_id);
CREATE UNIQUE INDEX patient_identifiers_per_link ON patient_identifiers (link_id, kind) WHERE link_id IS NOT NULL;
CREATE UNIQUE INDEX patient_identifiers_verified ON patient_identifiers (patient_id, kind, value) WHERE link_id IS NULL;

CREATE TABLE patient_matches (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id         uuid NOT NULL REFERENCES tenants(id),
    link_id           uuid NOT NULL REFERENCES patient_links(id),
    patient_id        uuid NOT NULL REFERENCES patients(id),
    candidate_id      uuid NOT NULL REFERENCES patients(id),
    candidate_link_id uuid NOT NULL REFERENCES patient_links(id),
    method            text NOT NULL CHECK (method IN ('abha_number', 'abha_address', 'score')),
    score             double precision NOT NULL,
    evidence          jsonb NOT NULL,
    status            text NOT NULL CHECK (status IN ('auto_linked', 'open', 'merged', 'distinct', 'superseded')),
    created_at        timestamptz NOT NULL DEFAULT now(),
    decided_by        text NOT NULL DEFAULT '',
    decided_at        timestamptz,
    decision_reason   text NOT NULL DEFAULT '',
    CHECK (patient_id <> candidate_id OR status = 'auto_linked')
);
COMMENT ON TABLE patient_matches IS 'Every matching decision worth explaining: automatic links (status auto_linked, candidate = the master linked to) and review items between two masters (open until a person decides: merged or distinct; superseded when a merge made the question moot).';
COMMENT ON COLUMN patient_matches.link_id IS 'The incoming record whose matching raised this; candidate_link_id is the record it was compared with.';
COMMENT ON COLUMN patient_matches.evidence IS 'Per-field comparison: [{field, left, right, outcome, weight}], left being the candidate. Holds demographics; never logged.';
CREATE INDEX patient_matches_queue ON patient_matches (tenant_id, status, score DESC) WHERE status = 'open';
CREATE INDEX patient_matches_patient ON patient_matches (patient_id);
CREATE INDEX patient_matches_candidate ON patient_matches (candidate_id);
-- One open question per pair of masters, whichever way round it was asked.
CREATE UNIQUE INDEX patient_matches_open_pair ON patient_matches
    (tenant_id, least(patient_id, candidate_id), greatest(patient_id, candidate_id)) WHERE status = 'open';
-- Pairs a person called distinct are not asked about again.
CREATE INDEX patient_matches_distinct_pair ON patient_matches
    (tenant_id, least(patient_id, candidate_id), greatest(patient_id, candidate_id)) WHERE status = 'distinct';

CREATE TABLE patient_merges (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id    uuid NOT NULL REFERENCES tenants(id),
    kind         text NOT NULL CHECK (kind IN ('merge', 'unmerge')),
    survivor_id  uuid NOT NULL REFERENCES patients(id),
    merged_id    uuid NOT NULL REFERENCES patients(id),
    actor        text NOT NULL CHECK (actor <> ''),
    reason       text NOT NULL CHECK (reason <> ''),
    match_id     bigint REFERENCES patient_matches(id),
    reverses     bigint UNIQUE REFERENCES patient_merges(id),
    moved        jsonb NOT NULL,
    occurred_at  timestamptz NOT NULL DEFAULT now(),
    CHECK ((kind = 'unmerge') = (reverses IS NOT NULL)),
    CHECK (survivor_id <> merged_id)
);
COMMENT ON TABLE patient_merges IS 'Append-only history of merges and unmerges: who, when, why. A merge is undone by exactly one unmerge row pointing at it (reverses).';
COMMENT ON COLUMN patient_merges.moved IS 'What the merge changed, so the unmerge restores exactly that: {"links": [...], "identifiers": [...], "closed": [...], "repointed": [{"id", "column"}], "superseded": [...]} (ids of links, identifiers and matches).';
CREATE INDEX patient_merges_survivor ON patient_merges (survivor_id, id DESC);
CREATE INDEX patient_merges_merged ON patient_merges (merged_id, id DESC);
CREATE INDEX patient_merges_recent ON patient_merges (tenant_id, id DESC);

ALTER TABLE patients            ENABLE ROW LEVEL SECURITY;
ALTER TABLE patients            FORCE ROW LEVEL SECURITY;
ALTER TABLE patient_links       ENABLE ROW LEVEL SECURITY;
ALTER TABLE patient_links       FORCE ROW LEVEL SECURITY;
ALTER TABLE patient_link_keys   ENABLE ROW LEVEL SECURITY;
ALTER TABLE patient_link_keys   FORCE ROW LEVEL SECURITY;
ALTER TABLE patient_identifiers ENABLE ROW LEVEL SECURITY;
ALTER TABLE patient_identifiers FORCE ROW LEVEL SECURITY;
ALTER TABLE patient_matches     ENABLE ROW LEVEL SECURITY;
ALTER TABLE patient_matches     FORCE ROW LEVEL SECURITY;
ALTER TABLE patient_merges      ENABLE ROW LEVEL SECURITY;
ALTER TABLE patient_merges      FORCE ROW LEVEL SECURITY;

CREATE POLICY tenant_isolation ON patients            USING (tenant_id = app_tenant_id()) WITH CHECK (tenant_id = app_tenant_id());
CREATE POLICY tenant_isolation ON patient_links       USING (tenant_id = app_tenant_id()) WITH CHECK (tenant_id = app_tenant_id());
CREATE POLICY tenant_isolation ON patient_link_keys   USING (tenant_id = app_tenant_id()) WITH CHECK (tenant_id = app_tenant_id());
CREATE POLICY tenant_isolation ON patient_identifiers USING (tenant_id = app_tenant_id()) WITH CHECK (tenant_id = app_tenant_id());
CREATE POLICY tenant_isolation ON patient_matches     USING (tenant_id = app_tenant_id()) WITH CHECK (tenant_id = app_tenant_id());
CREATE POLICY tenant_isolation ON patient_merges      USING (tenant_id = app_tenant_id()) WITH CHECK (tenant_id = app_tenant_id());
