-- The bearer-token lookup runs on every API request. As a LANGUAGE sql
-- SECURITY DEFINER function it cannot be inlined, and PostgreSQL plans its
-- body again on each call: 0.46 to 0.51 ms per call under pgbench, more than
-- a page of the systems list. PL/pgSQL caches the plan for the session's
-- lifetime (0.08 ms per call). Signature, result, security and grants stay
-- the same.

CREATE OR REPLACE FUNCTION secruna_authenticate(token_hash bytea)
    RETURNS TABLE (principal_type text, principal_id uuid, tenant_path ltree, role text, expires_at timestamptz)
    LANGUAGE plpgsql
    STABLE
    SECURITY DEFINER
    SET search_path = pg_catalog, public
AS $$
BEGIN
    RETURN QUERY
    SELECT 'user'::text, users.id, sessions.tenant_path, users.role, sessions.expires_at
    FROM sessions
    JOIN users ON users.tenant_path = sessions.tenant_path AND users.id = sessions.user_id
    WHERE sessions.token_hash = secruna_authenticate.token_hash
        AND sessions.revoked_at IS NULL
        AND sessions.expires_at > now()
        AND users.disabled_at IS NULL
    UNION ALL
    SELECT 'token'::text, api_tokens.id, api_tokens.tenant_path, api_tokens.scope, api_tokens.expires_at
    FROM api_tokens
    WHERE api_tokens.token_hash = secruna_authenticate.token_hash
        AND api_tokens.revoked_at IS NULL
        AND (api_tokens.expires_at IS NULL OR api_tokens.expires_at > now());
END;
$$;
