-- +goose Up
-- The coverage a case was opened for (package claims): the patient may
-- hold several policies with one payer (a base policy and a top-up), and
-- later requests on the case (pre-authorisation, enhancement, claim) must
-- name the same one rather than guess it from the payer. claims_cases keeps
-- its row-level security (0006): a new column is covered by the table's
-- tenant_isolation policy.

ALTER TABLE claims_cases ADD COLUMN coverage_id uuid REFERENCES claims_coverages(id) ON DELETE SET NULL;
COMMENT ON COLUMN claims_cases.coverage_id IS 'The coverage on file (claims_coverages.id) the case claims under, set when the case is opened. NULL for cases opened before it was kept, or whose coverage was removed; requests then pick the patient''s coverage with the case''s payer.';

-- Removing a coverage finds its cases through this index.
CREATE INDEX claims_cases_coverage ON claims_cases (coverage_id) WHERE coverage_id IS NOT NULL;
