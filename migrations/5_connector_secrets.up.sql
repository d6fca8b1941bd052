-- Write-only connector secrets, encrypted by the application with AES-256-GCM
-- before they reach the database, and the time a connector last changed.

ALTER TABLE connectors
    ADD COLUMN secret_nonce bytea,
    ADD COLUMN secret_ciphertext bytea,
    ADD COLUMN updated_at timestamptz NOT NULL DEFAULT now(),
    ADD CONSTRAINT connectors_secret_check CHECK (
        (secret_nonce IS NULL) = (secret_ciphertext IS NULL)
        AND (secret_nonce IS NULL OR octet_length(secret_nonce) = 12)
    ),
    ADD CONSTRAINT connectors_name_check CHECK (length(name) BETWEEN 1 AND 200);

COMMENT ON COLUMN connectors.secret_nonce IS 'Random 96-bit AES-GCM nonce, new on every write of the secret';
COMMENT ON COLUMN connectors.secret_ciphertext IS 'AES-256-GCM ciphertext and tag of the secret JSON object, with the connector id as associated data; the key is never stored';
COMMENT ON COLUMN connectors.updated_at IS 'When the connector''s name, config or secret last changed';
COMMENT ON COLUMN connectors.config IS 'Connector settings without secrets; secrets live encrypted in secret_ciphertext';
