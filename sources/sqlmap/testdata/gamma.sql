-- Vendor "gamma": admissions with the procedures done in them, and a
-- billing module whose bills point at the admission.
DROP SCHEMA IF EXISTS t_gamma CASCADE;
CREATE SCHEMA t_gamma;
CREATE TABLE t_gamma.patients (id text PRIMARY KEY, name text, sex char(1), born date);
CREATE TABLE t_gamma.admissions (ip_no text PRIMARY KEY, patient_id text REFERENCES t_gamma.patients, admitted timestamp, discharged timestamp, ward text, doctor text);
CREATE TABLE t_gamma.procedures (ip_no text REFERENCES t_gamma.admissions, n int, snomed text, local_cd text, label text, started timestamp, ended timestamp, surgeon text, site text);
CREATE TABLE t_gamma.bills (bill_no text PRIMARY KEY, patient_id text REFERENCES t_gamma.patients, ip_no text, kind text, billed_at timestamp, status text, net_amt numeric(12,2), gross_amt numeric(12,2));
CREATE TABLE t_gamma.bill_lines (bill_no text REFERENCES t_gamma.bills, n int, grp text, item_code text, item_name text, qty numeric, unit text, rate numeric(12,2), amount numeric(12,2), disc numeric(12,2), cgst numeric(12,2), sgst numeric(12,2), served date);

INSERT INTO t_gamma.patients VALUES ('G-1', 'Savitha Rao', 'F', '1994-02-11');
INSERT INTO t_gamma.admissions VALUES
  ('IP-7', 'G-1', '2025-06-10 08:20:00', '2025-06-13 11:00:00', 'Surgical ward', 'Dr. Prashanth Shetty');
INSERT INTO t_gamma.procedures VALUES
  ('IP-7', 1, '6025007', 'LAPAPP', 'Laparoscopic appendicectomy', '2025-06-10 14:05:00', '2025-06-10 15:10:00', 'Dr. Prashanth Shetty', 'Appendix'),
  ('IP-7', 2, NULL, 'DRESS', 'Wound dressing', '2025-06-12 10:00:00', NULL, 'Dr. Prashanth Shetty', NULL);
INSERT INTO t_gamma.bills VALUES
  ('B-1', 'G-1', 'IP-7', 'IP', '2025-06-13 10:30:00', 'FINAL', NULL, NULL),
  ('B-2', 'G-1', 'IP-7', 'IP', '2025-06-11 18:00:00', 'CANCELLED', 500.00, 500.00),
  ('B-3', 'G-1', NULL, 'OP', '2025-07-01 09:40:00', 'FINAL', 500.00, 500.00);
INSERT INTO t_gamma.bill_lines VALUES
  ('B-1', 1, 'ROOM', 'RM-GEN', 'General ward bed', 3, 'day', 1500.00, NULL, NULL, NULL, NULL, '2025-06-13'),
  ('B-1', 2, 'PKG', 'SG039A', 'Appendicectomy package (demo code)', 1, NULL, NULL, 25000.00, NULL, NULL, NULL, '2025-06-10'),
  ('B-1', 3, 'LAB', 'LAB-CBC', 'Complete blood count', 1, 'test', 350.00, 350.00, 35.00, 0, 0, '2025-06-10'),
  ('B-1', 4, 'PHARM', 'PH-PCM', 'Paracetamol 500 mg tablet', 10, 'tablet', 12.50, 125.00, 0, 3.13, 3.13, '2025-06-12'),
  ('B-2', 1, 'ROOM', 'RM-GEN', 'General ward bed', 1, 'day', 500.00, 500.00, NULL, NULL, NULL, '2025-06-11'),
  ('B-3', 1, 'CONS', 'CONS-OP', 'Surgical follow-up consultation', 1, NULL, 500.00, 500.00, NULL, NULL, NULL, '2025-07-01');
