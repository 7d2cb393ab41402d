-- +goose Up
-- Billing set-up (package claims): the payers a tenant bills through NHCX,
-- which facility is empanelled with which payer and scheme, and the
-- insurance coverage on file for master patients. A claim starts from
-- these: the coverage names the payer and the member, the empanelment says
-- the treating facility may bill that payer.

CREATE TABLE claims_payers (
    tenant_id   uuid NOT NULL REFERENCES tenants(id),
    payer_code  text NOT NULL CHECK (payer_code <> '' AND payer_code = lower(payer_code)),
    name        text NOT NULL CHECK (name <> ''),
    scheme_kind text NOT NULL CHECK (scheme_kind IN ('pmjay', 'state_scheme', 'private_insurer', 'tpa')),
    active      boolean NOT NULL DEFAULT true,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, payer_code)
);
COMMENT ON TABLE claims_payers IS 'Insurers, TPAs and government schemes the tenant bills, by their NHCX participant code. The code is NHCX''s, so two tenants may list the same payer.';
COMMENT ON COLUMN claims_payers.payer_code IS 'NHCX participant code of the payer (e.g. 1000003538@hcx), lower-cased as claims_participants codes are.';
COMMENT ON COLUMN claims_payers.scheme_kind IS 'pmjay (Ayushman Bharat PM-JAY, through the NHA), state_scheme (a state government scheme), private_insurer, or tpa (a third-party administrator acting for insurers).';
COMMENT ON COLUMN claims_payers.active IS 'An inactive payer keeps its history but takes no new coverage.';

CREATE TABLE claims_empanelments (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id   uuid NOT NULL REFERENCES tenants(id),
    facility_id uuid NOT NULL REFERENCES facilities(id),
    payer_code  text NOT NULL,
    scheme_name text NOT NULL DEFAULT '',
    scheme_code text NOT NULL DEFAULT '',
    valid_from  date,
    valid_to    date,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (tenant_id, payer_code) REFERENCES claims_payers (tenant_id, payer_code),
    UNIQUE (tenant_id, facility_id, payer_code, scheme_code),
    CHECK (valid_to IS NULL OR valid_from IS NULL OR valid_to >= valid_from)
);
COMMENT ON TABLE claims_empanelments IS 'A facility''s empanelment with a payer (and, for payers with several, one scheme): the facility may bill that payer between valid_from and valid_to.';
COMMENT ON COLUMN claims_empanelments.scheme_code IS 'The payer''s code of the scheme or package list (e.g. PMJAY-KA); empty when the payer has one.';
COMMENT ON COLUMN claims_empanelments.valid_from IS 'Empanelled since; NULL when not recorded. valid_to NULL: no end date.';
CREATE INDEX claims_empanelments_payer ON claims_empanelments (tenant_id, payer_code);

CREATE TABLE claims_coverages (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id     uuid NOT NULL REFERENCES tenants(id),
    patient_id    uuid NOT NULL REFERENCES patients(id),
    payer_code    text NOT NULL,
    plan_name     text NOT NULL DEFAULT '',
    policy_number text NOT NULL DEFAULT '',
    member_id     text NOT NULL DEFAULT '',
    relationship  text NOT NULL DEFAULT 'self' CHECK (relationship IN ('self', 'spouse', 'child', 'parent', 'other')),
    valid_from    date,
    valid_to      date,
    updated_by    text NOT NULL CHECK (updated_by <> ''),
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (tenant_id, payer_code) REFERENCES claims_payers (tenant_id, payer_code),
    UNIQUE (tenant_id, patient_id, payer_code, policy_number, member_id),
    CHECK (policy_number <> '' OR member_id <> ''),
    CHECK (valid_to IS NULL OR valid_from IS NULL OR valid_to >= valid_from)
);
COMMENT ON TABLE claims_coverages IS 'Insurance coverage on file for a master patient: which payer, plan, policy and member id a claim for them names.';
COMMENT ON COLUMN claims_coverages.patient_id IS 'The master patient (patients.id) the coverage was entered for. Reads include coverage of masters merged into it.';
COMMENT ON COLUMN claims_coverages.member_id IS 'The beneficiary''s id with the payer: the PM-JAY id for PM-JAY, the member or card number for an insurer.';
COMMENT ON COLUMN claims_coverages.relationship IS 'The patient''s relationship to the policy holder (subscriber): self, spouse, child, parent or other.';
COMMENT ON COLUMN claims_coverages.updated_by IS 'Who entered or last changed the coverage (staff user, or "demo").';
CREATE INDEX claims_coverages_patient ON claims_coverages (tenant_id, patient_id);

ALTER TABLE claims_payers       ENABLE ROW LEVEL SECURITY;
ALTER TABLE claims_payers       FORCE ROW LEVEL SECURITY;
ALTER TABLE claims_empanelments ENABLE ROW LEVEL SECURITY;
ALTER TABLE claims_empanelments FORCE ROW LEVEL SECURITY;
ALTER TABLE claims_coverages    ENABLE ROW LEVEL SECURITY;
ALTER TABLE claims_coverages    FORCE ROW LEVEL SECURITY;

CREATE POLICY tenant_isolation ON claims_payers       USING (tenant_id = app_tenant_id()) WITH CHECK (tenant_id = app_tenant_id());
CREATE POLICY tenant_isolation ON claims_empanelments USING (tenant_id = app_tenant_id()) WITH CHECK (tenant_id = app_tenant_id());
CREATE POLICY tenant_isolation ON claims_coverages    USING (tenant_id = app_tenant_id()) WITH CHECK (tenant_id = app_tenant_id());

-- Migration 0001's default privileges already give sangam_app these when
-- the same user migrates; granting them here keeps that true when another
-- user runs this migration.
GRANT SELECT, INSERT, UPDATE, DELETE ON claims_payers, claims_empanelments, claims_coverages TO sangam_app;
