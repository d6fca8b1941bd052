-- Sign-in and API access: users with argon2id password hashes, session
-- tokens and API tokens. Tokens are stored only as SHA-256 hashes.

CREATE TABLE users (
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    tenant_path ltree NOT NULL,
    email text NOT NULL,
    password_hash text NOT NULL,
    role text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    disabled_at timestamptz,
    CONSTRAINT users_pkey PRIMARY KEY (id),
    CONSTRAINT users_tenant_email_key UNIQUE (tenant_path, email),
    CONSTRAINT users_tenant_id_key UNIQUE (tenant_path, id),
    CONSTRAINT users_tenant_fkey FOREIGN KEY (tenant_path)
        REFERENCES tenants (path) ON UPDATE CASCADE ON DELETE CASCADE,
    CONSTRAINT users_role_check CHECK (role IN ('admin', 'member', 'auditor')),
    CONSTRAINT users_email_check CHECK (email = lower(email) AND position('@' IN email) > 1)
);

COMMENT ON TABLE users IS 'People who sign in to the API; each belongs to exactly one tenant';
COMMENT ON COLUMN users.tenant_path IS 'Tenant the user belongs to; RLS compares it with the transaction''s tenant';
COMMENT ON COLUMN users.id IS 'User id, recorded as the actor of audit rows';
COMMENT ON COLUMN users.email IS 'Sign-in name, lower case, unique within the tenant';
COMMENT ON COLUMN users.password_hash IS 'argon2id hash in PHC string form; the password itself is never stored';
COMMENT ON COLUMN users.role IS 'admin manages users and tokens, member may change data, auditor may only read';
COMMENT ON COLUMN users.created_at IS 'When the user was created';
COMMENT ON COLUMN users.disabled_at IS 'When the user was disabled; a disabled user cannot sign in and its sessions stop working';

CREATE TABLE sessions (
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    tenant_path ltree NOT NULL,
    user_id uuid NOT NULL,
    token_hash bytea NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    revoked_at timestamptz,
    CONSTRAINT sessions_pkey PRIMARY KEY (id),
    CONSTRAINT sessions_token_hash_key UNIQUE (token_hash),
    CONSTRAINT sessions_tenant_fkey FOREIGN KEY (tenant_path)
        REFERENCES tenants (path) ON UPDATE CASCADE ON DELETE CASCADE,
    CONSTRAINT sessions_user_fkey FOREIGN KEY (tenant_path, user_id)
        REFERENCES users (tenant_path, id) ON DELETE CASCADE,
    CONSTRAINT sessions_token_hash_check CHECK (octet_length(token_hash) = 32),
    CONSTRAINT sessions_expiry_check CHECK (expires_at > created_at)
);

COMMENT ON TABLE sessions IS 'Sign-ins of users; the bearer token is bound to the user''s tenant when issued';
COMMENT ON COLUMN sessions.tenant_path IS 'Tenant of the user at sign-in; every request with this session runs as it';
COMMENT ON COLUMN sessions.id IS 'Session id, safe to show and log, unlike the token';
COMMENT ON COLUMN sessions.user_id IS 'User who signed in';
COMMENT ON COLUMN sessions.token_hash IS 'SHA-256 of the bearer token, so a database leak does not leak usable tokens';
COMMENT ON COLUMN sessions.created_at IS 'When the user signed in';
COMMENT ON COLUMN sessions.expires_at IS 'After this time the token is rejected';
COMMENT ON COLUMN sessions.revoked_at IS 'When the user signed out; a revoked token is rejected';

CREATE TABLE api_tokens (
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    tenant_path ltree NOT NULL,
    name text NOT NULL,
    scope text NOT NULL,
    token_hash bytea NOT NULL,
    created_by text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz,
    revoked_at timestamptz,
    CONSTRAINT api_tokens_pkey PRIMARY KEY (id),
    CONSTRAINT api_tokens_token_hash_key UNIQUE (token_hash),
    CONSTRAINT api_tokens_tenant_fkey FOREIGN KEY (tenant_path)
        REFERENCES tenants (path) ON UPDATE CASCADE ON DELETE CASCADE,
    CONSTRAINT api_tokens_scope_check CHECK (scope IN ('read', 'write', 'admin')),
    CONSTRAINT api_tokens_token_hash_check CHECK (octet_length(token_hash) = 32),
    CONSTRAINT api_tokens_name_check CHECK (length(name) BETWEEN 1 AND 200)
);

COMMENT ON TABLE api_tokens IS 'Bearer tokens for integrations, bound to one tenant when issued';
COMMENT ON COLUMN api_tokens.tenant_path IS 'Tenant the token acts for; RLS compares it with the transaction''s tenant';
COMMENT ON COLUMN api_tokens.id IS 'Token id, recorded as the actor of audit rows and used to revoke it';
COMMENT ON COLUMN api_tokens.name IS 'Label chosen by whoever created the token (ci, siem-export)';
COMMENT ON COLUMN api_tokens.scope IS 'read may only read, write may also change data, admin may also manage users and tokens';
COMMENT ON COLUMN api_tokens.token_hash IS 'SHA-256 of the bearer token; the token is shown once at creation and never stored';
COMMENT ON COLUMN api_tokens.created_by IS 'User, token or command-line account that created the token';
COMMENT ON COLUMN api_tokens.created_at IS 'When the token was created';
COMMENT ON COLUMN api_tokens.expires_at IS 'After this time the token is rejected; NULL for a token that does not expire';
COMMENT ON COLUMN api_tokens.revoked_at IS 'When the token was revoked; a revoked token is rejected';

CREATE INDEX sessions_user_idx ON sessions (tenant_path, user_id);

ALTER TABLE users ENABLE ROW LEVEL SECURITY;
ALTER TABLE users FORCE ROW LEVEL SECURITY;
CREATE POLICY users_isolation ON users
    USING (tenant_path <@ secruna_current_tenant_path())
    WITH CHECK (tenant_path <@ secruna_current_tenant_path());

ALTER TABLE sessions ENABLE ROW LEVEL SECURITY;
ALTER TABLE sessions FORCE ROW LEVEL SECURITY;
CREATE POLICY sessions_isolation ON sessions
    USING (tenant_path <@ secruna_current_tenant_path())
    WITH CHECK (tenant_path <@ secruna_current_tenant_path());

ALTER TABLE api_tokens ENABLE ROW LEVEL SECURITY;
ALTER TABLE api_tokens FORCE ROW LEVEL SECURITY;
CREATE POLICY api_tokens_isolation ON api_tokens
    USING (tenant_path <@ secruna_current_tenant_path())
    WITH CHECK (tenant_path <@ secruna_current_tenant_path());

-- A request carries only its bearer token, so the token has to be looked up
-- before any tenant is known. FORCE ROW LEVEL SECURITY applies to the table
-- owner too, so the owner (the role running this migration, which also owns
-- the lookup function below) gets a read-only policy of its own on the three
-- tables. The application login is rejected at connect time when it is or
-- inherits the owner, so this policy never applies to it.
DO $$
BEGIN
    EXECUTE format('CREATE POLICY users_owner_lookup ON users FOR SELECT TO %I USING (true)', current_user);
    EXECUTE format('CREATE POLICY sessions_owner_lookup ON sessions FOR SELECT TO %I USING (true)', current_user);
    EXECUTE format('CREATE POLICY api_tokens_owner_lookup ON api_tokens FOR SELECT TO %I USING (true)', current_user);
END
$$;

-- Returns the principal of a bearer token: only for a token that is neither
-- expired nor revoked, whose user (for a session) is not disabled, and only
-- the columns needed to open the request's tenant transaction.
CREATE FUNCTION secruna_authenticate(token_hash bytea)
    RETURNS TABLE (principal_type text, principal_id uuid, tenant_path ltree, role text, expires_at timestamptz)
    LANGUAGE sql
    STABLE
    SECURITY DEFINER
    SET search_path = pg_catalog, public
AS $$
    SELECT 'user', users.id, sessions.tenant_path, users.role, sessions.expires_at
    FROM sessions
    JOIN users ON users.tenant_path = sessions.tenant_path AND users.id = sessions.user_id
    WHERE sessions.token_hash = secruna_authenticate.token_hash
        AND sessions.revoked_at IS NULL
        AND sessions.expires_at > now()
        AND users.disabled_at IS NULL
    UNION ALL
    SELECT 'token', api_tokens.id, api_tokens.tenant_path, api_tokens.scope, api_tokens.expires_at
    FROM api_tokens
    WHERE api_tokens.token_hash = secruna_authenticate.token_hash
        AND api_tokens.revoked_at IS NULL
        AND (api_tokens.expires_at IS NULL OR api_tokens.expires_at > now())
$$;

COMMENT ON FUNCTION secruna_authenticate(bytea) IS
    'Principal of an unexpired, unrevoked bearer token, looked up by its SHA-256 before any tenant is set';

REVOKE ALL ON FUNCTION secruna_authenticate(bytea) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION secruna_authenticate(bytea) TO secruna_app;

GRANT SELECT, INSERT, UPDATE ON users TO secruna_app;
GRANT SELECT, INSERT, UPDATE ON sessions TO secruna_app;
GRANT SELECT, INSERT, UPDATE ON api_tokens TO secruna_app;

-- Keyset pagination of the API lists sorts on (created_at, id).
CREATE INDEX ai_systems_tenant_created_idx ON ai_systems (tenant_path, created_at, id);
CREATE INDEX findings_tenant_created_idx ON findings (tenant_path, created_at, id);
CREATE INDEX evaluations_tenant_created_idx ON evaluations (tenant_path, created_at, id);
CREATE INDEX audit_log_tenant_occurred_idx ON audit_log (tenant_path, occurred_at, id);
