-- Facts about an AI system declared through the API, kept apart from what
-- scans infer so that a re-scan cannot overwrite them.

ALTER TABLE ai_systems
    ADD COLUMN declared jsonb NOT NULL DEFAULT '{}',
    ADD CONSTRAINT ai_systems_declared_check CHECK (jsonb_typeof(declared) = 'object');

COMMENT ON COLUMN ai_systems.declared IS 'Declaration fields set through the API, in secruna.yaml form, overlaid on the project''s secruna.yaml when the API reclassifies the system';
