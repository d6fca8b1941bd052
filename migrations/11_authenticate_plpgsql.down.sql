CREATE OR REPLACE FUNCTION secruna_authenticate(token_hash bytea)
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
