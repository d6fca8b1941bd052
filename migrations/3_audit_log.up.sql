-- Tamper-evident audit trail: one hash chain per tenant. The application may
-- append and read rows but never change or delete them.

CREATE TABLE audit_log (
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    tenant_path ltree NOT NULL,
    seq bigint NOT NULL,
    actor_type text NOT NULL,
    actor_id text NOT NULL,
    entity_type text NOT NULL,
    entity_id text NOT NULL,
    action text NOT NULL,
    diff jsonb NOT NULL DEFAULT '{}',
    occurred_at timestamptz NOT NULL,
    ip inet,
    user_agent text,
    request_id text,
    prev_hash bytea NOT NULL,
    row_hash bytea NOT NULL,
    CONSTRAINT audit_log_pkey PRIMARY KEY (id),
    CONSTRAINT audit_log_tenant_seq_key UNIQUE (tenant_path, seq),
    -- No ON UPDATE CASCADE: the tenant path is part of each hashed row, so
    -- renaming a tenant with audit rows must fail instead of breaking its chain.
    CONSTRAINT audit_log_tenant_fkey FOREIGN KEY (tenant_path)
        REFERENCES tenants (path),
    CONSTRAINT audit_log_seq_check CHECK (seq > 0),
    CONSTRAINT audit_log_prev_hash_check CHECK (octet_length(prev_hash) = 32),
    CONSTRAINT audit_log_row_hash_check CHECK (octet_length(row_hash) = 32)
);

COMMENT ON TABLE audit_log IS 'Append-only record of every mutation, chained per tenant by SHA-256';
COMMENT ON COLUMN audit_log.tenant_path IS 'Tenant whose chain the row belongs to; RLS compares it with the transaction''s tenant';
COMMENT ON COLUMN audit_log.id IS 'Row id (UUIDv7, so ids sort by time), part of the hashed row';
COMMENT ON COLUMN audit_log.seq IS 'Position in the tenant''s chain, starting at 1 without gaps, so a deleted row is detected';
COMMENT ON COLUMN audit_log.actor_type IS 'Kind of actor (user, token, staff, system)';
COMMENT ON COLUMN audit_log.actor_id IS 'User, token or staff id that made the change';
COMMENT ON COLUMN audit_log.entity_type IS 'Kind of entity changed (scan, subscription, connector)';
COMMENT ON COLUMN audit_log.entity_id IS 'Id of the entity changed';
COMMENT ON COLUMN audit_log.action IS 'What happened to the entity (create, update, delete)';
COMMENT ON COLUMN audit_log.diff IS 'JSON description of the change, part of the hashed row';
COMMENT ON COLUMN audit_log.occurred_at IS 'UTC time of the change at microsecond precision, the precision that is hashed';
COMMENT ON COLUMN audit_log.ip IS 'Client address of the request, when the change came over the network';
COMMENT ON COLUMN audit_log.user_agent IS 'Client user agent, to tell API scripts from the dashboard';
COMMENT ON COLUMN audit_log.request_id IS 'Request id that ties the row to logs and traces';
COMMENT ON COLUMN audit_log.prev_hash IS 'row_hash of the previous row in the chain, 32 zero bytes for the first row';
COMMENT ON COLUMN audit_log.row_hash IS 'SHA-256 of prev_hash followed by the canonical serialisation of the row';

CREATE TABLE audit_chain_heads (
    tenant_path ltree NOT NULL,
    last_seq bigint NOT NULL,
    last_hash bytea NOT NULL,
    CONSTRAINT audit_chain_heads_pkey PRIMARY KEY (tenant_path),
    CONSTRAINT audit_chain_heads_tenant_fkey FOREIGN KEY (tenant_path)
        REFERENCES tenants (path),
    CONSTRAINT audit_chain_heads_last_hash_check CHECK (octet_length(last_hash) = 32)
);

COMMENT ON TABLE audit_chain_heads IS 'Latest row of each tenant''s audit chain; appends lock it FOR UPDATE so concurrent writers cannot fork the chain';
COMMENT ON COLUMN audit_chain_heads.tenant_path IS 'Tenant whose chain this is; RLS compares it with the transaction''s tenant';
COMMENT ON COLUMN audit_chain_heads.last_seq IS 'seq of the newest row, 0 before the first append';
COMMENT ON COLUMN audit_chain_heads.last_hash IS 'row_hash of the newest row, 32 zero bytes before the first append';

ALTER TABLE audit_log ENABLE ROW LEVEL SECURITY;
ALTER TABLE audit_log FORCE ROW LEVEL SECURITY;
CREATE POLICY audit_log_isolation ON audit_log
    USING (tenant_path <@ secruna_current_tenant_path())
    WITH CHECK (tenant_path <@ secruna_current_tenant_path());

ALTER TABLE audit_chain_heads ENABLE ROW LEVEL SECURITY;
ALTER TABLE audit_chain_heads FORCE ROW LEVEL SECURITY;
CREATE POLICY audit_chain_heads_isolation ON audit_chain_heads
    USING (tenant_path <@ secruna_current_tenant_path())
    WITH CHECK (tenant_path <@ secruna_current_tenant_path());

GRANT SELECT, INSERT ON audit_log TO secruna_app;
GRANT SELECT, INSERT, UPDATE ON audit_chain_heads TO secruna_app;
