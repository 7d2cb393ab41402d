-- +goose Up
-- The name of the HIP a consent artefact is for, as the consent manager
-- gives it in consents/on-fetch (hip {id, name}), so that what the HIU
-- received can say "from City Hospital" rather than only the HIP's service
-- id. hiu_consents keeps its row-level security (0009): a new column is
-- covered by the table's tenant_isolation policy.

ALTER TABLE hiu_consents ADD COLUMN hip_name text NOT NULL DEFAULT '';
COMMENT ON COLUMN hiu_consents.hip_name IS 'The HIP''s name from the fetched artefact; empty when the consent manager gave none (show hip_id instead).';
