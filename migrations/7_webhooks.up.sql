-- Webhooks: endpoints per tenant, an outbox written in the transaction of
-- the change that raises an event, and one row per delivery attempt.

CREATE TABLE webhook_endpoints (
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    tenant_path ltree NOT NULL,
    url text NOT NULL,
    format text NOT NULL,
    events text[] NOT NULL,
    secret_nonce bytea NOT NULL,
    secret_ciphertext bytea NOT NULL,
    created_by text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT webhook_endpoints_pkey PRIMARY KEY (id),
    CONSTRAINT webhook_endpoints_tenant_id_key UNIQUE (tenant_path, id),
    CONSTRAINT webhook_endpoints_tenant_fkey FOREIGN KEY (tenant_path)
        REFERENCES tenants (path) ON UPDATE CASCADE ON DELETE CASCADE,
    CONSTRAINT webhook_endpoints_format_check CHECK (format IN ('json', 'slack', 'teams')),
    CONSTRAINT webhook_endpoints_events_check CHECK (cardinality(events) > 0),
    CONSTRAINT webhook_endpoints_url_check CHECK (url ~ '^https?://' AND length(url) <= 2048),
    CONSTRAINT webhook_endpoints_nonce_check CHECK (octet_length(secret_nonce) = 12)
);

COMMENT ON TABLE webhook_endpoints IS 'URLs a tenant wants events delivered to, signed with a per-endpoint secret';
COMMENT ON COLUMN webhook_endpoints.tenant_path IS 'Owning tenant; RLS compares it with the transaction''s tenant';
COMMENT ON COLUMN webhook_endpoints.url IS 'Destination; its addresses are checked against the operator''s allow-list on every attempt';
COMMENT ON COLUMN webhook_endpoints.format IS 'Body format: json, or a slack or teams message';
COMMENT ON COLUMN webhook_endpoints.events IS 'Event types delivered to this endpoint';
COMMENT ON COLUMN webhook_endpoints.secret_nonce IS 'AES-GCM nonce of the signing secret';
COMMENT ON COLUMN webhook_endpoints.secret_ciphertext IS 'HMAC signing secret encrypted with AES-256-GCM, the endpoint id as associated data';
COMMENT ON COLUMN webhook_endpoints.created_by IS 'User or token that created the endpoint';

CREATE TABLE webhook_outbox (
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    tenant_path ltree NOT NULL,
    endpoint_id uuid NOT NULL,
    event_type text NOT NULL,
    body bytea NOT NULL,
    status text NOT NULL DEFAULT 'pending',
    num_attempts integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    created_at timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz,
    CONSTRAINT webhook_outbox_pkey PRIMARY KEY (id),
    CONSTRAINT webhook_outbox_tenant_fkey FOREIGN KEY (tenant_path)
        REFERENCES tenants (path) ON UPDATE CASCADE ON DELETE CASCADE,
    CONSTRAINT webhook_outbox_endpoint_fkey FOREIGN KEY (tenant_path, endpoint_id)
        REFERENCES webhook_endpoints (tenant_path, id) ON DELETE CASCADE,
    CONSTRAINT webhook_outbox_status_check CHECK (status IN ('pending', 'delivered', 'failed')),
    CONSTRAINT webhook_outbox_finished_check CHECK ((status = 'pending') = (finished_at IS NULL))
);

COMMENT ON TABLE webhook_outbox IS 'Events waiting for delivery, written in the transaction of the change that raised them';
COMMENT ON COLUMN webhook_outbox.id IS 'Event id, sent unchanged on every attempt so receivers can drop duplicates';
COMMENT ON COLUMN webhook_outbox.body IS 'Request body, serialised once; these exact bytes are signed and sent on every attempt';
COMMENT ON COLUMN webhook_outbox.status IS 'pending until delivered, or failed after the last attempt';
COMMENT ON COLUMN webhook_outbox.next_attempt_at IS 'Earliest time of the next attempt; also leases the row to a dispatcher';

CREATE INDEX webhook_outbox_due_idx ON webhook_outbox (next_attempt_at) WHERE status = 'pending';

CREATE TABLE webhook_deliveries (
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    tenant_path ltree NOT NULL,
    event_id uuid NOT NULL,
    attempt integer NOT NULL,
    attempted_at timestamptz NOT NULL DEFAULT now(),
    response_status integer,
    error text,
    duration_ms integer NOT NULL,
    CONSTRAINT webhook_deliveries_pkey PRIMARY KEY (id),
    CONSTRAINT webhook_deliveries_tenant_fkey FOREIGN KEY (tenant_path)
        REFERENCES tenants (path) ON UPDATE CASCADE ON DELETE CASCADE,
    CONSTRAINT webhook_deliveries_event_fkey FOREIGN KEY (event_id)
        REFERENCES webhook_outbox (id) ON DELETE CASCADE
);

COMMENT ON TABLE webhook_deliveries IS 'Every delivery attempt of an outbox event, with its outcome';
COMMENT ON COLUMN webhook_deliveries.response_status IS 'HTTP status of the response; NULL when no response arrived';
COMMENT ON COLUMN webhook_deliveries.error IS 'Why the attempt failed, when it did';

CREATE INDEX webhook_deliveries_event_idx ON webhook_deliveries (event_id);

ALTER TABLE webhook_endpoints ENABLE ROW LEVEL SECURITY;
ALTER TABLE webhook_endpoints FORCE ROW LEVEL SECURITY;
CREATE POLICY webhook_endpoints_isolation ON webhook_endpoints
    USING (tenant_path <@ secruna_current_tenant_path())
    WITH CHECK (tenant_path <@ secruna_current_tenant_path());

ALTER TABLE webhook_outbox ENABLE ROW LEVEL SECURITY;
ALTER TABLE webhook_outbox FORCE ROW LEVEL SECURITY;
CREATE POLICY webhook_outbox_isolation ON webhook_outbox
    USING (tenant_path <@ secruna_current_tenant_path())
    WITH CHECK (tenant_path <@ secruna_current_tenant_path());

ALTER TABLE webhook_deliveries ENABLE ROW LEVEL SECURITY;
ALTER TABLE webhook_deliveries FORCE ROW LEVEL SECURITY;
CREATE POLICY webhook_deliveries_isolation ON webhook_deliveries
    USING (tenant_path <@ secruna_current_tenant_path())
    WITH CHECK (tenant_path <@ secruna_current_tenant_path());

-- The dispatcher runs outside any tenant, so it learns which tenants have
-- due events through this function and then opens one transaction per
-- tenant. The owner gets a read-only policy for it, as for token lookup.
DO $$
BEGIN
    EXECUTE format('CREATE POLICY webhook_outbox_owner_due ON webhook_outbox FOR SELECT TO %I USING (true)', current_user);
END
$$;

CREATE FUNCTION secruna_webhook_due_tenants()
    RETURNS TABLE (tenant_path ltree)
    LANGUAGE sql
    STABLE
    SECURITY DEFINER
    SET search_path = pg_catalog, public
AS $$
    SELECT DISTINCT webhook_outbox.tenant_path FROM webhook_outbox
    WHERE webhook_outbox.status = 'pending' AND webhook_outbox.next_attempt_at <= now()
$$;

COMMENT ON FUNCTION secruna_webhook_due_tenants() IS
    'Tenants with webhook events due for delivery; returns no event data';

REVOKE ALL ON FUNCTION secruna_webhook_due_tenants() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION secruna_webhook_due_tenants() TO secruna_app;

GRANT SELECT, INSERT, DELETE ON webhook_endpoints TO secruna_app;
GRANT SELECT, INSERT, UPDATE ON webhook_outbox TO secruna_app;
GRANT SELECT, INSERT ON webhook_deliveries TO secruna_app;
