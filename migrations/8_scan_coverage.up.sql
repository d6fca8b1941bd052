-- Per-scope coverage of a scan, written as each scope settles so a running
-- scan shows its progress, and a `cancelled` scan status.

ALTER TABLE scans DROP CONSTRAINT scans_status_check;
ALTER TABLE scans ADD CONSTRAINT scans_status_check
    CHECK (status IN ('running', 'completed', 'partial', 'failed', 'cancelled'));

COMMENT ON COLUMN scans.status IS 'running until finished; partial when some scopes were not fully covered; cancelled when a user stopped it';

CREATE TABLE scan_scopes (
    tenant_path ltree NOT NULL,
    scan_id uuid NOT NULL,
    connector text NOT NULL,
    scope text NOT NULL,
    provider text NOT NULL,
    status text NOT NULL,
    attempts integer NOT NULL DEFAULT 0,
    num_findings bigint NOT NULL DEFAULT 0,
    error text,
    skip_reason text,
    gaps jsonb NOT NULL DEFAULT '[]',
    incomplete jsonb NOT NULL DEFAULT '[]',
    issues jsonb NOT NULL DEFAULT '[]',
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT scan_scopes_pkey PRIMARY KEY (scan_id, connector, scope),
    CONSTRAINT scan_scopes_tenant_fkey FOREIGN KEY (tenant_path)
        REFERENCES tenants (path) ON UPDATE CASCADE ON DELETE CASCADE,
    CONSTRAINT scan_scopes_scan_fkey FOREIGN KEY (tenant_path, scan_id)
        REFERENCES scans (tenant_path, id) ON UPDATE CASCADE ON DELETE CASCADE,
    CONSTRAINT scan_scopes_status_check CHECK (
        status IN ('pending', 'covered', 'partial', 'skipped', 'failed', 'cancelled')
    ),
    CONSTRAINT scan_scopes_attempts_check CHECK (attempts >= 0),
    CONSTRAINT scan_scopes_num_findings_check CHECK (num_findings >= 0)
);

COMMENT ON TABLE scan_scopes IS 'One row per scope of a scan: what was covered, skipped or failed, and why';
COMMENT ON COLUMN scan_scopes.tenant_path IS 'Owning tenant; RLS compares it with the transaction''s tenant';
COMMENT ON COLUMN scan_scopes.connector IS 'Name of the connector that listed the scope (`code` for paths given to a scan)';
COMMENT ON COLUMN scan_scopes.scope IS 'Scope id inside the connector (account and region, subscription, project, organisation, path); `*` when listing the scopes failed';
COMMENT ON COLUMN scan_scopes.provider IS 'Provider family of the scope (aws, azure, gcp, github, inventory, code), the source of its findings';
COMMENT ON COLUMN scan_scopes.status IS 'pending until the scope settles, then covered, partial, skipped, failed or cancelled';
COMMENT ON COLUMN scan_scopes.attempts IS 'Crawler attempts spent on the scope, the successful one included';
COMMENT ON COLUMN scan_scopes.num_findings IS 'Findings the crawl of the scope produced';
COMMENT ON COLUMN scan_scopes.error IS 'Last error of a failed scope, or why a scope was cancelled';
COMMENT ON COLUMN scan_scopes.skip_reason IS 'Why a skipped scope does not apply (a region not enabled, a service absent)';
COMMENT ON COLUMN scan_scopes.gaps IS 'Listings denied for lack of a permission, each with the permission to grant';
COMMENT ON COLUMN scan_scopes.incomplete IS 'Listings cut short or files not read, each with the reason';
COMMENT ON COLUMN scan_scopes.issues IS 'Non-fatal problems worth showing: malformed resources, invalid declarations, classifier errors';
COMMENT ON COLUMN scan_scopes.updated_at IS 'When the row last changed, to show a running scan''s progress';

ALTER TABLE scan_scopes ENABLE ROW LEVEL SECURITY;
ALTER TABLE scan_scopes FORCE ROW LEVEL SECURITY;
CREATE POLICY scan_scopes_isolation ON scan_scopes
    USING (tenant_path <@ secruna_current_tenant_path())
    WITH CHECK (tenant_path <@ secruna_current_tenant_path());

GRANT SELECT, INSERT, UPDATE ON scan_scopes TO secruna_app;
