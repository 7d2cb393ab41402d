-- Vendor "beta": the same people and visits, one wide findings table, its
-- own codes and units, dates as text, ABHA numbers without dashes.
DROP SCHEMA IF EXISTS t_beta CASCADE;
CREATE SCHEMA t_beta;
CREATE TABLE t_beta.pt (pt_no text PRIMARY KEY, full_nm text, gender_code int, dob_txt text, mob text, health_no text, phr text);
CREATE TABLE t_beta.enc (enc_key text PRIMARY KEY, pt_no text, enc_date text, enc_time text, dept text, dr text, upd timestamptz);
CREATE TABLE t_beta.findings (enc_key text, kind text, line int, local_code text, descr text, result text, units text, range_txt text, abn text);

INSERT INTO t_beta.pt VALUES
  ('P-001', 'Lakshmi Gowda', 2, '04/07/1984', '+91 98450 12345', '91123456789012', 'LAKSHMI.GOWDA@SBX'),
  ('P-002', 'Mohammed Irfan Khan', 1, '01/12/1990', '099001 12233', NULL, NULL),
  ('P-003', 'O''Brien 100%', 1, '01/01/1970', '9000000003', NULL, NULL);
INSERT INTO t_beta.enc VALUES
  ('V-10', 'P-001', '2025-03-01', '10:30', 'General Medicine', 'Dr. Anand Rao', '2025-03-01 11:00:00+05:30'),
  ('V-11', 'P-001', '2025-06-15', '09:15', 'Endocrinology', 'Dr. Meera Krishnan', '2025-06-15 10:00:00+05:30'),
  ('V-20', 'P-002', '2025-04-20', '16:45', 'ENT', 'Dr. Syed Rizwan', '2025-04-20 17:00:00+05:30');
INSERT INTO t_beta.findings VALUES
  ('V-10', 'DX', 1, 'DM-2', 'Type 2 diabetes mellitus without complications', NULL, NULL, NULL, NULL),
  ('V-10', 'DX', 2, 'HTN', 'Essential (primary) hypertension', NULL, NULL, NULL, NULL),
  ('V-11', 'DX', 1, 'DM-2', 'Type 2 diabetes mellitus without complications', NULL, NULL, NULL, NULL),
  ('V-20', 'DX', 1, 'URI', 'Acute upper respiratory infection, unspecified', NULL, NULL, NULL, NULL),
  ('V-10', 'LAB', 1, 'HGB', 'Hemoglobin [Mass/volume] in Blood', '11.2', 'gm%', '12.0-16.0', 'LOW'),
  ('V-10', 'LAB', 2, 'GLU-F', 'Fasting glucose [Mass/volume] in Serum or Plasma', '146', 'mg/dl', '70-100', 'HIGH'),
  ('V-10', 'LAB', 3, 'A1C', 'Hemoglobin A1c/Hemoglobin.total in Blood', '7.4', 'percent', '4.0-5.6', 'HIGH'),
  ('V-11', 'LAB', 1, 'GLU-F', 'Fasting glucose [Mass/volume] in Serum or Plasma', '98', 'mg/dl', '70-100', '');
