-- Vendor "alpha": a normalised HIS that already speaks standard codes.
DROP SCHEMA IF EXISTS t_alpha CASCADE;
CREATE SCHEMA t_alpha;
CREATE TABLE t_alpha.patients (id text PRIMARY KEY, given text, family text, sex char(1), born date, phone text, abha text, abha_addr text);
CREATE TABLE t_alpha.visits (id text PRIMARY KEY, patient_id text REFERENCES t_alpha.patients, at timestamp, clinic text, doctor text, changed timestamp);
CREATE TABLE t_alpha.diagnoses (visit_id text REFERENCES t_alpha.visits, n int, icd text, label text);
CREATE TABLE t_alpha.results (visit_id text REFERENCES t_alpha.visits, n int, loinc text, label text, val numeric, unit text, lo numeric, hi numeric, flag text);

INSERT INTO t_alpha.patients VALUES
  ('P-001', 'Lakshmi', 'Gowda', 'F', '1984-07-04', '9845012345', '91-1234-5678-9012', 'lakshmi.gowda@sbx'),
  ('P-002', 'Mohammed Irfan', 'Khan', 'M', '1990-12-01', '9900112233', NULL, NULL),
  ('P-003', 'O''Brien', '100%', 'M', '1970-01-01', '9000000003', NULL, NULL);
INSERT INTO t_alpha.visits VALUES
  ('V-10', 'P-001', '2025-03-01 10:30:00', 'General Medicine', 'Dr. Anand Rao', '2025-03-01 11:00:00'),
  ('V-11', 'P-001', '2025-06-15 09:15:00', 'Endocrinology', 'Dr. Meera Krishnan', '2025-06-15 10:00:00'),
  ('V-20', 'P-002', '2025-04-20 16:45:00', 'ENT', 'Dr. Syed Rizwan', '2025-04-20 17:00:00');
INSERT INTO t_alpha.diagnoses VALUES
  ('V-10', 1, 'E11.9', 'Type 2 diabetes mellitus without complications'),
  ('V-10', 2, 'I10', 'Essential (primary) hypertension'),
  ('V-11', 1, 'E11.9', 'Type 2 diabetes mellitus without complications'),
  ('V-20', 1, 'J06.9', 'Acute upper respiratory infection, unspecified');
INSERT INTO t_alpha.results VALUES
  ('V-10', 1, '718-7', 'Hemoglobin [Mass/volume] in Blood', 11.2, 'g/dL', 12.0, 16.0, 'L'),
  ('V-10', 2, '1558-6', 'Fasting glucose [Mass/volume] in Serum or Plasma', 146, 'mg/dL', 70, 100, 'H'),
  ('V-10', 3, '4548-4', 'Hemoglobin A1c/Hemoglobin.total in Blood', 7.4, '%', 4.0, 5.6, 'H'),
  ('V-11', 1, '1558-6', 'Fasting glucose [Mass/volume] in Serum or Plasma', 98, 'mg/dL', 70, 100, NULL);
