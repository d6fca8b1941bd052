COMMENT ON COLUMN connectors.config IS 'Connector settings without secrets; credentials live outside the database';
ALTER TABLE connectors
    DROP CONSTRAINT IF EXISTS connectors_name_check,
    DROP CONSTRAINT IF EXISTS connectors_secret_check,
    DROP COLUMN IF EXISTS updated_at,
    DROP COLUMN IF EXISTS secret_ciphertext,
    DROP COLUMN IF EXISTS secret_nonce;
