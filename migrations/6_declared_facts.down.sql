ALTER TABLE ai_systems
    DROP CONSTRAINT IF EXISTS ai_systems_declared_check,
    DROP COLUMN IF EXISTS declared;
