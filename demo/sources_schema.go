package demo

// The demo vendors' own database schemas, deliberately unlike each other,
// as real vendors' are: different names for the same things, different id
// formats, dates as text in three layouts, °F and °C, upper-case names,
// DICOM person names, birth year only. The mapping files in sources/mappings
// absorb every difference.

// vendorSchemas maps each demo vendor to its schema name and DDL.
var vendorSchemas = []struct {
	vendor, schema, ddl string
}{
	{"medisoft", "demo_medisoft", `
CREATE TABLE patient_master (
    mrn          text PRIMARY KEY,
    site_code    text NOT NULL,
    first_name   text NOT NULL,
    middle_name  text,
    last_name    text,
    sex          text NOT NULL,            -- Male, Female, Other
    dob          date,
    mobile_no    text,
    abha_no      text,                     -- 91-xxxx-xxxx-xxxx
    abha_addr    text,
    address_line text,
    pin          text,
    created_on   timestamp NOT NULL,
    modified_on  timestamp NOT NULL
);
CREATE TABLE opd_visit (
    visit_no        text PRIMARY KEY,
    site_code       text NOT NULL,
    mrn             text NOT NULL REFERENCES patient_master,
    visit_dt        timestamp NOT NULL,    -- local time, no zone
    dept            text NOT NULL,
    consultant      text NOT NULL,
    chief_complaint text,
    modified_on     timestamp NOT NULL
);
CREATE TABLE visit_diagnosis (
    visit_no       text NOT NULL REFERENCES opd_visit,
    seq            integer NOT NULL,
    icd10          text NOT NULL,
    diagnosis_desc text NOT NULL,
    PRIMARY KEY (visit_no, seq)
);
CREATE TABLE vitals (
    visit_no    text NOT NULL REFERENCES opd_visit,
    param_code  text NOT NULL,             -- BP_SYS, PULSE, TEMP (°F) ...
    value       numeric NOT NULL,
    unit        text NOT NULL,
    recorded_at timestamp NOT NULL,
    PRIMARY KEY (visit_no, param_code)
);
CREATE TABLE ipd_admission (
    ip_no             text PRIMARY KEY,
    site_code         text NOT NULL,
    mrn               text NOT NULL REFERENCES patient_master,
    admit_dt          timestamp NOT NULL,
    discharge_dt      timestamp,
    ward              text NOT NULL,
    consultant        text NOT NULL,
    discharge_summary text,
    modified_on       timestamp NOT NULL
);
CREATE TABLE admission_diagnosis (
    ip_no          text NOT NULL REFERENCES ipd_admission,
    seq            integer NOT NULL,
    icd10          text NOT NULL,
    diagnosis_desc text NOT NULL,
    PRIMARY KEY (ip_no, seq)
);
-- Procedures done during a stay, by MediSoft's own procedure codes.
CREATE TABLE ipd_procedure (
    ip_no       text NOT NULL REFERENCES ipd_admission,
    seq         integer NOT NULL,
    proc_code   text NOT NULL,             -- SUR-APPX-LAP, CAR-PTCA ...
    proc_name   text NOT NULL,
    start_dt    timestamp NOT NULL,
    end_dt      timestamp,
    surgeon     text NOT NULL,
    anaesthesia text,                      -- GA, SA, LA
    PRIMARY KEY (ip_no, seq)
);
CREATE INDEX opd_visit_mrn ON opd_visit (mrn, visit_dt);
CREATE INDEX ipd_admission_mrn ON ipd_admission (mrn, admit_dt);
CREATE INDEX patient_master_mobile ON patient_master (right(regexp_replace(mobile_no, '\D', '', 'g'), 10));
`},
	{"careware", "demo_careware", `
CREATE TABLE persons (
    person_id   bigint PRIMARY KEY,
    uhid        text NOT NULL UNIQUE,      -- CW/2024/000123
    full_name   text NOT NULL,
    gender_cd   smallint NOT NULL,         -- 1 male, 2 female, 3 other
    birth_date  text,                      -- DD-MM-YYYY
    phone       text,                      -- +91 98450 12345
    health_id   text,                      -- ABHA number, 14 digits, no dashes
    phr_address text,
    addr        text,
    pincode     text,
    last_update timestamptz NOT NULL
);
CREATE TABLE encounters (
    enc_id      bigint PRIMARY KEY,
    person_id   bigint NOT NULL REFERENCES persons,
    enc_type    char(2) NOT NULL,          -- OP, IP
    start_ts    timestamptz NOT NULL,
    end_ts      timestamptz,
    speciality  text NOT NULL,
    doctor_name text NOT NULL,
    notes       text,
    last_update timestamptz NOT NULL
);
CREATE TABLE problems (
    enc_id       bigint NOT NULL REFERENCES encounters,
    seq          integer NOT NULL,
    problem_cd   text NOT NULL,            -- CareWare's own codes
    problem_text text NOT NULL,
    icd10_cd     text,                     -- added by medical records when an inpatient stay is coded
    PRIMARY KEY (enc_id, seq)
);
CREATE TABLE procedures_done (
    proc_id   bigint PRIMARY KEY,
    enc_id    bigint NOT NULL REFERENCES encounters,
    sct_code  text NOT NULL,               -- SNOMED CT concept id
    proc_text text NOT NULL,
    done_from timestamptz NOT NULL,
    done_to   timestamptz,
    done_by   text NOT NULL
);
CREATE TABLE observations (
    obs_id    bigint PRIMARY KEY,
    enc_id    bigint NOT NULL REFERENCES encounters,
    obs_name  text NOT NULL,               -- Pulse Rate, Temperature (°C) ...
    obs_value text NOT NULL,
    obs_unit  text,
    taken_at  timestamptz NOT NULL
);
CREATE TABLE discharge_notes (
    enc_id    bigint PRIMARY KEY REFERENCES encounters,
    note_text text NOT NULL,
    signed_by text NOT NULL,
    signed_at timestamptz NOT NULL
);
CREATE INDEX encounters_person ON encounters (person_id, start_ts);
CREATE INDEX procedures_done_enc ON procedures_done (enc_id);
`},
	{"labtrack", "demo_labtrack", `
CREATE TABLE lab_patient (
    lab_pid       text PRIMARY KEY,        -- LAB-67890
    branch        text NOT NULL,           -- BLR01, MYS01
    patient_name  text NOT NULL,           -- upper case
    gender        char(1) NOT NULL,
    dob           date,
    age_years     integer,
    contact_no    text,
    hosp_mrn      text,                    -- the HIS id, when the desk typed it
    registered_at timestamp NOT NULL
);
CREATE TABLE lab_order (
    order_id         text PRIMARY KEY,
    lab_pid          text NOT NULL REFERENCES lab_patient,
    branch           text NOT NULL,
    panel_code       text NOT NULL,
    panel_name       text NOT NULL,
    collected_at     timestamp NOT NULL,
    reported_at      timestamp,
    status           text NOT NULL,        -- FINAL, PRELIM
    referring_doctor text,
    pathologist      text,
    modified_at      timestamp NOT NULL
);
CREATE TABLE lab_result (
    order_id     text NOT NULL REFERENCES lab_order,
    line_no      integer NOT NULL,
    test_code    text NOT NULL,            -- LabTrack's own codes
    test_name    text NOT NULL,
    result_value text NOT NULL,
    units        text,
    ref_low      numeric,
    ref_high     numeric,
    flag         text,                     -- H, L or empty
    PRIMARY KEY (order_id, line_no)
);
CREATE INDEX lab_order_pid ON lab_order (lab_pid, reported_at);
CREATE INDEX lab_order_modified ON lab_order (modified_at);
`},
	{"radview", "demo_radview", `
CREATE TABLE ris_patient (
    rad_id   text PRIMARY KEY,             -- RAD-11111
    pat_name text NOT NULL,                -- DICOM: FAMILY^GIVEN
    birth_dt char(8),                      -- YYYYMMDD
    sex      char(1),
    phone    text,
    created  timestamp NOT NULL
);
CREATE TABLE study (
    accession     text PRIMARY KEY,
    rad_id        text NOT NULL REFERENCES ris_patient,
    study_uid     text NOT NULL UNIQUE,
    study_code    text NOT NULL,
    modality      text NOT NULL,           -- DX, CT, US, MR
    study_desc    text NOT NULL,
    body_part     text,
    study_date    char(8) NOT NULL,        -- YYYYMMDD
    study_time    char(6) NOT NULL,        -- HHMMSS
    report_status char(1) NOT NULL,        -- F final, P preliminary
    report_text   text,
    impression    text,
    radiologist   text,
    finalised_at  timestamp,
    updated       timestamp NOT NULL,
    -- The study's key image, the thumbnail the radiologist marked (PNG).
    -- The demo PACS holds one generated 16x16 image for every study; NULL
    -- when none was marked.
    key_image     bytea DEFAULT '\x89504e470d0a1a0a0000000d49484452000000100000001008000000003a98a0bd000000504944415478da62d16040052c5cd413e8616028013398b8c0a00724066631dbb0b2b2b2d682251d4fb2b2b2a298c1856e2817dc8c6560fe321013aa62430003c3062e646b77413490e57440000000ffff979309802e6a594f0000000049454e44ae426082'
);
CREATE INDEX study_rad_id ON study (rad_id, study_date);
`},
	{"pharmaone", "demo_pharmaone", `
CREATE TABLE customer (
    cust_id   text PRIMARY KEY,
    store_id  text NOT NULL,               -- ST-BLR, ST-HSN
    cust_name text NOT NULL,
    mobile    text,                        -- +91-9845012345
    yob       integer,                     -- birth year only
    gender    text,                        -- male, female
    created   timestamp NOT NULL
);
CREATE TABLE rx_order (
    rx_no      text PRIMARY KEY,
    cust_id    text NOT NULL REFERENCES customer,
    store_id   text NOT NULL,
    ordered_at timestamp NOT NULL,
    prescriber text,
    status     text NOT NULL,              -- DISPENSED, OPEN
    updated_at timestamp NOT NULL
);
CREATE TABLE rx_line (
    rx_no         text NOT NULL REFERENCES rx_order,
    line_no       integer NOT NULL,
    drug_code     text NOT NULL,           -- PharmaOne item codes
    drug_name     text NOT NULL,
    dose          text,
    frequency     text,
    duration_days integer,
    qty           integer,
    PRIMARY KEY (rx_no, line_no)
);
CREATE INDEX rx_order_cust ON rx_order (cust_id, ordered_at);
`},
	// Billdesk keeps its own patient register keyed by the HIS's UHID, a
	// bill header per OPD visit or inpatient stay (pointing at the HIS
	// encounter) and a line per charge. Amounts are numeric rupees; the
	// header's net_amt is what the patient or payer owes, taxes included.
	{"billdesk", "demo_billdesk", `
CREATE TABLE bd_patient (
    uhid       text PRIMARY KEY,           -- the HIS UHID: CW/2024/000123
    pat_name   text NOT NULL,
    sex        char(1) NOT NULL,           -- M, F
    dob        date,
    mobile     text,                       -- 10 digits
    created_at timestamp NOT NULL
);
CREATE TABLE bill_hdr (
    bill_no     text PRIMARY KEY,          -- MYS-IP-2025-00012, MYS-OP-2025-00345
    uhid        text NOT NULL REFERENCES bd_patient,
    bill_type   char(2) NOT NULL,          -- IP, OP
    adm_no      text NOT NULL,             -- the HIS encounter of the stay or visit
    admit_dt    timestamp NOT NULL,
    disch_dt    timestamp,
    bill_dt     timestamp NOT NULL,        -- local time, no zone
    bill_status char(1) NOT NULL,          -- F final, D draft, C cancelled
    payer       text NOT NULL,             -- SELF, PMJAY, INSURANCE
    consultant  text,
    gross_amt   numeric(12,2) NOT NULL,    -- sum of line amounts
    disc_amt    numeric(12,2) NOT NULL,
    tax_amt     numeric(12,2) NOT NULL,
    net_amt     numeric(12,2) NOT NULL,    -- gross - discount + tax
    updated_at  timestamp NOT NULL
);
CREATE TABLE bill_line (
    bill_no   text NOT NULL REFERENCES bill_hdr,
    line_no   integer NOT NULL,
    svc_group text NOT NULL,               -- ROOM, NURS, PKG, LAB, RAD, PHARM, CONSUM, CONS
    item_code text NOT NULL,               -- Billdesk tariff code, or the package code
    item_name text NOT NULL,
    svc_date  date NOT NULL,
    qty       numeric(8,2) NOT NULL,
    uom       text,
    rate      numeric(10,2) NOT NULL,
    amount    numeric(12,2) NOT NULL,      -- qty x rate
    disc      numeric(10,2) NOT NULL DEFAULT 0,
    cgst      numeric(10,2) NOT NULL DEFAULT 0,
    sgst      numeric(10,2) NOT NULL DEFAULT 0,
    PRIMARY KEY (bill_no, line_no)
);
CREATE INDEX bill_hdr_uhid ON bill_hdr (uhid, bill_dt);
CREATE INDEX bill_hdr_updated ON bill_hdr (updated_at);
`},
}
