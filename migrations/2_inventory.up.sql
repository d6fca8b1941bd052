-- The framework catalogue and the per-tenant inventory: subscriptions,
-- connectors, scans, AI systems, findings and evaluations.

CREATE TABLE frameworks (
    slug text NOT NULL,
    title text NOT NULL,
    version text NOT NULL,
    description text NOT NULL DEFAULT '',
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT frameworks_pkey PRIMARY KEY (slug)
);

COMMENT ON TABLE frameworks IS 'Catalogue of the frameworks in the rule book; shared by all tenants, so it has no RLS';
COMMENT ON COLUMN frameworks.slug IS 'Rule book folder name, the key subscriptions and evaluations refer to';
COMMENT ON COLUMN frameworks.title IS 'Display title shown at onboarding and in reports';
COMMENT ON COLUMN frameworks.description IS 'Short summary shown when a tenant picks its frameworks';
COMMENT ON COLUMN frameworks.version IS 'Version of the framework text the rules were written from';
COMMENT ON COLUMN frameworks.updated_at IS 'Last time the catalogue entry changed, not the last time it was upserted';

GRANT SELECT, INSERT, UPDATE ON frameworks TO secruna_app;

CREATE TABLE framework_subscriptions (
    tenant_path ltree NOT NULL,
    framework_slug text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT framework_subscriptions_pkey PRIMARY KEY (tenant_path, framework_slug),
    CONSTRAINT framework_subscriptions_tenant_fkey FOREIGN KEY (tenant_path)
        REFERENCES tenants (path) ON UPDATE CASCADE ON DELETE CASCADE,
    CONSTRAINT framework_subscriptions_framework_fkey FOREIGN KEY (framework_slug)
        REFERENCES frameworks (slug)
);

COMMENT ON TABLE framework_subscriptions IS 'Frameworks a tenant is shown and evaluated against';
COMMENT ON COLUMN framework_subscriptions.tenant_path IS 'Owning tenant; RLS compares it with the transaction''s tenant';
COMMENT ON COLUMN framework_subscriptions.framework_slug IS 'Subscribed framework; must exist in the catalogue';
COMMENT ON COLUMN framework_subscriptions.created_at IS 'When the tenant subscribed, for the audit trail of onboarding';

CREATE TABLE connectors (
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    tenant_path ltree NOT NULL,
    kind text NOT NULL,
    name text NOT NULL,
    config jsonb NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT connectors_pkey PRIMARY KEY (id),
    CONSTRAINT connectors_tenant_name_key UNIQUE (tenant_path, name),
    CONSTRAINT connectors_tenant_id_key UNIQUE (tenant_path, id),
    CONSTRAINT connectors_tenant_fkey FOREIGN KEY (tenant_path)
        REFERENCES tenants (path) ON UPDATE CASCADE ON DELETE CASCADE
);

COMMENT ON TABLE connectors IS 'Places a tenant has connected for discovery: a code tree, a cloud account, a code host';
COMMENT ON COLUMN connectors.tenant_path IS 'Owning tenant; RLS compares it with the transaction''s tenant';
COMMENT ON COLUMN connectors.id IS 'Connector id, carried in actor names, logs and scans';
COMMENT ON COLUMN connectors.name IS 'Tenant-chosen label, unique within the tenant';
COMMENT ON COLUMN connectors.created_at IS 'When the connector was added, for the onboarding history';
COMMENT ON COLUMN connectors.kind IS 'Connector type (code, github, aws, azure, gcp, inventory)';
COMMENT ON COLUMN connectors.config IS 'Connector settings without secrets; credentials live outside the database';

CREATE TABLE scans (
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    tenant_path ltree NOT NULL,
    connector_id uuid,
    source text NOT NULL,
    target text NOT NULL,
    requested_by text NOT NULL,
    status text NOT NULL DEFAULT 'running',
    summary jsonb NOT NULL DEFAULT '{}',
    error text,
    started_at timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz,
    CONSTRAINT scans_pkey PRIMARY KEY (id),
    CONSTRAINT scans_tenant_id_key UNIQUE (tenant_path, id),
    CONSTRAINT scans_tenant_fkey FOREIGN KEY (tenant_path)
        REFERENCES tenants (path) ON UPDATE CASCADE ON DELETE CASCADE,
    CONSTRAINT scans_connector_fkey FOREIGN KEY (tenant_path, connector_id)
        REFERENCES connectors (tenant_path, id),
    CONSTRAINT scans_status_check CHECK (status IN ('running', 'completed', 'partial', 'failed')),
    CONSTRAINT scans_finished_check CHECK ((status = 'running') = (finished_at IS NULL))
);

COMMENT ON TABLE scans IS 'One discovery run; every inventory row records the scan that last changed it';
COMMENT ON COLUMN scans.tenant_path IS 'Owning tenant; RLS compares it with the transaction''s tenant';
COMMENT ON COLUMN scans.id IS 'Scan id, returned to the requester and recorded on every row the scan changes';
COMMENT ON COLUMN scans.connector_id IS 'Connector that ran the scan; NULL for an ad hoc scan of a path from the CLI';
COMMENT ON COLUMN scans.source IS 'Finding source the scan produces (code, aws, ...), matching findings.source';
COMMENT ON COLUMN scans.target IS 'What was scanned: a folder, an account, an organisation';
COMMENT ON COLUMN scans.requested_by IS 'User, token or scheduler that asked for the scan, for the audit trail';
COMMENT ON COLUMN scans.status IS 'running until finished; partial when some scopes failed but the rest completed';
COMMENT ON COLUMN scans.summary IS 'Counters reported at the end of the scan (files, findings, systems, errors)';
COMMENT ON COLUMN scans.started_at IS 'When the scan was requested';
COMMENT ON COLUMN scans.finished_at IS 'When the scan ended; NULL exactly while it is running';
COMMENT ON COLUMN scans.error IS 'Why the scan failed or was partial, shown to the user';

CREATE TABLE ai_systems (
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    tenant_path ltree NOT NULL,
    source text NOT NULL,
    external_id text NOT NULL,
    name text NOT NULL,
    root text NOT NULL,
    kinds text[] NOT NULL DEFAULT '{}',
    risk_class text NOT NULL,
    annex_iii_area text,
    gpai boolean NOT NULL DEFAULT false,
    reasons jsonb NOT NULL DEFAULT '[]',
    confidence real NOT NULL,
    facts jsonb NOT NULL DEFAULT '{}',
    first_scan_id uuid NOT NULL,
    changed_scan_id uuid NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT ai_systems_pkey PRIMARY KEY (id),
    CONSTRAINT ai_systems_source_external_id_key UNIQUE (tenant_path, source, external_id),
    CONSTRAINT ai_systems_tenant_id_key UNIQUE (tenant_path, id),
    CONSTRAINT ai_systems_tenant_fkey FOREIGN KEY (tenant_path)
        REFERENCES tenants (path) ON UPDATE CASCADE ON DELETE CASCADE,
    CONSTRAINT ai_systems_first_scan_fkey FOREIGN KEY (tenant_path, first_scan_id)
        REFERENCES scans (tenant_path, id),
    CONSTRAINT ai_systems_changed_scan_fkey FOREIGN KEY (tenant_path, changed_scan_id)
        REFERENCES scans (tenant_path, id),
    CONSTRAINT ai_systems_risk_class_check
        CHECK (risk_class IN ('prohibited', 'high', 'limited', 'minimal', 'unknown')),
    CONSTRAINT ai_systems_confidence_check CHECK (confidence >= 0 AND confidence <= 1)
);

COMMENT ON TABLE ai_systems IS 'AI systems found by grouping findings, one per project root for code';
COMMENT ON COLUMN ai_systems.tenant_path IS 'Owning tenant; RLS compares it with the transaction''s tenant';
COMMENT ON COLUMN ai_systems.id IS 'System id, referenced by findings and evaluations';
COMMENT ON COLUMN ai_systems.source IS 'Finding source that produced the system (code, aws, ...); part of the upsert key';
COMMENT ON COLUMN ai_systems.name IS 'Display name, from a declaration or the project folder';
COMMENT ON COLUMN ai_systems.external_id IS 'Stable id from the source, so a re-scan updates the same row';
COMMENT ON COLUMN ai_systems.root IS 'Project root relative to the scan target, or the cloud resource that anchors the system';
COMMENT ON COLUMN ai_systems.kinds IS 'What the system does with AI (calls_hosted_model_api, trains_models, ...)';
COMMENT ON COLUMN ai_systems.risk_class IS 'EU AI Act risk class; unknown when the signals do not settle it';
COMMENT ON COLUMN ai_systems.annex_iii_area IS 'Annex III area slug when the system is high-risk under Annex III';
COMMENT ON COLUMN ai_systems.gpai IS 'Whether the system builds on a general-purpose AI model';
COMMENT ON COLUMN ai_systems.reasons IS 'Human-readable reasons for the classification, shown next to the risk class';
COMMENT ON COLUMN ai_systems.confidence IS 'Classifier confidence from 0 to 1; low values send verdicts to human review';
COMMENT ON COLUMN ai_systems.facts IS 'Facts the rule book evaluates, as a JSON object of fact name to value';
COMMENT ON COLUMN ai_systems.created_at IS 'When the system was first stored';
COMMENT ON COLUMN ai_systems.updated_at IS 'When a scan last changed the row';
COMMENT ON COLUMN ai_systems.first_scan_id IS 'Scan that first found the system';
COMMENT ON COLUMN ai_systems.changed_scan_id IS 'Scan that last changed the row; an unchanged re-scan leaves it, so the row is not rewritten';

CREATE TABLE findings (
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    tenant_path ltree NOT NULL,
    system_id uuid NOT NULL,
    source text NOT NULL,
    scope text NOT NULL,
    external_id text NOT NULL,
    kind text NOT NULL,
    subject text NOT NULL,
    path text NOT NULL,
    line integer,
    confidence real NOT NULL,
    project_root text NOT NULL,
    attributes jsonb NOT NULL DEFAULT '{}',
    evidence text,
    status text NOT NULL DEFAULT 'open',
    first_scan_id uuid NOT NULL,
    changed_scan_id uuid NOT NULL,
    resolved_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT findings_pkey PRIMARY KEY (id),
    CONSTRAINT findings_source_external_id_key UNIQUE (tenant_path, source, external_id),
    CONSTRAINT findings_tenant_fkey FOREIGN KEY (tenant_path)
        REFERENCES tenants (path) ON UPDATE CASCADE ON DELETE CASCADE,
    CONSTRAINT findings_system_fkey FOREIGN KEY (tenant_path, system_id)
        REFERENCES ai_systems (tenant_path, id) ON DELETE CASCADE,
    CONSTRAINT findings_first_scan_fkey FOREIGN KEY (tenant_path, first_scan_id)
        REFERENCES scans (tenant_path, id),
    CONSTRAINT findings_changed_scan_fkey FOREIGN KEY (tenant_path, changed_scan_id)
        REFERENCES scans (tenant_path, id),
    CONSTRAINT findings_status_check CHECK (status IN ('open', 'resolved')),
    CONSTRAINT findings_resolved_check CHECK ((status = 'resolved') = (resolved_at IS NOT NULL)),
    CONSTRAINT findings_line_check CHECK (line IS NULL OR line > 0),
    CONSTRAINT findings_confidence_check CHECK (confidence >= 0 AND confidence <= 1)
);

COMMENT ON TABLE findings IS 'Raw discoveries (a dependency, an import, an artefact); resolved rather than deleted when they disappear';
COMMENT ON COLUMN findings.tenant_path IS 'Owning tenant; RLS compares it with the transaction''s tenant';
COMMENT ON COLUMN findings.id IS 'Finding id for APIs and exports';
COMMENT ON COLUMN findings.source IS 'Connector type that found it (code, aws, ...); part of the upsert key';
COMMENT ON COLUMN findings.kind IS 'Finding kind (dependency, import, artefact, ...), from the shared Finding type';
COMMENT ON COLUMN findings.confidence IS 'Detector confidence from 0 to 1';
COMMENT ON COLUMN findings.system_id IS 'AI system the finding was grouped into; the composite key keeps it inside the same tenant';
COMMENT ON COLUMN findings.scope IS 'Crawl scope (scan root, account and region); a finished scope resolves its unseen findings';
COMMENT ON COLUMN findings.external_id IS 'Stable id derived from scope, path, kind and subject, so replays update in place';
COMMENT ON COLUMN findings.subject IS 'Canonical name of what was found (openai, transformers, gguf)';
COMMENT ON COLUMN findings.path IS 'Location inside the scope, with / separators';
COMMENT ON COLUMN findings.line IS 'First line of the match, 1-based; NULL for whole-file findings such as artefacts';
COMMENT ON COLUMN findings.project_root IS 'Project root the finding belongs to, relative to the scope';
COMMENT ON COLUMN findings.attributes IS 'Detector attributes (category, provider, ecosystem, ...); secrets appear only as prefix and hash';
COMMENT ON COLUMN findings.evidence IS 'Redacted snippet shown to the user as proof';
COMMENT ON COLUMN findings.status IS 'open while the finding is seen; resolved once a scan of its scope no longer sees it';
COMMENT ON COLUMN findings.first_scan_id IS 'Scan that first found it';
COMMENT ON COLUMN findings.created_at IS 'When the finding was first stored';
COMMENT ON COLUMN findings.updated_at IS 'When a scan last changed the row';
COMMENT ON COLUMN findings.changed_scan_id IS 'Scan that last changed the row; an unchanged re-scan leaves it, so the row is not rewritten';
COMMENT ON COLUMN findings.resolved_at IS 'When a scan stopped seeing the finding; cleared when it comes back';

CREATE TABLE evaluations (
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    tenant_path ltree NOT NULL,
    system_id uuid NOT NULL,
    framework text NOT NULL,
    rule_id text NOT NULL,
    status text NOT NULL,
    reasons jsonb NOT NULL DEFAULT '[]',
    evidence_required jsonb NOT NULL DEFAULT '[]',
    changed_scan_id uuid NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT evaluations_pkey PRIMARY KEY (id),
    CONSTRAINT evaluations_system_rule_key UNIQUE (system_id, framework, rule_id),
    CONSTRAINT evaluations_tenant_fkey FOREIGN KEY (tenant_path)
        REFERENCES tenants (path) ON UPDATE CASCADE ON DELETE CASCADE,
    CONSTRAINT evaluations_system_fkey FOREIGN KEY (tenant_path, system_id)
        REFERENCES ai_systems (tenant_path, id) ON DELETE CASCADE,
    CONSTRAINT evaluations_framework_fkey FOREIGN KEY (framework)
        REFERENCES frameworks (slug),
    CONSTRAINT evaluations_changed_scan_fkey FOREIGN KEY (tenant_path, changed_scan_id)
        REFERENCES scans (tenant_path, id)
);

COMMENT ON TABLE evaluations IS 'Latest verdict of each rule for each AI system';
COMMENT ON COLUMN evaluations.tenant_path IS 'Owning tenant; RLS compares it with the transaction''s tenant';
COMMENT ON COLUMN evaluations.id IS 'Evaluation id for APIs and evidence packs';
COMMENT ON COLUMN evaluations.system_id IS 'Evaluated system; the composite key keeps it inside the same tenant';
COMMENT ON COLUMN evaluations.framework IS 'Framework the rule belongs to; must exist in the catalogue';
COMMENT ON COLUMN evaluations.rule_id IS 'Rule id within the framework''s rule book folder';
COMMENT ON COLUMN evaluations.status IS 'Verdict from the framework''s own vocabulary (pass, fail, needs_evidence, ...)';
COMMENT ON COLUMN evaluations.reasons IS 'Why the rule reached this verdict, shown to the compliance lead';
COMMENT ON COLUMN evaluations.evidence_required IS 'Evidence ids the rule asks for before it can pass';
COMMENT ON COLUMN evaluations.created_at IS 'When the rule was first evaluated for the system';
COMMENT ON COLUMN evaluations.updated_at IS 'When the verdict last changed';
COMMENT ON COLUMN evaluations.changed_scan_id IS 'Scan that last changed the verdict; an unchanged re-evaluation leaves it';

CREATE INDEX findings_system_idx ON findings (system_id);
CREATE INDEX findings_scope_idx ON findings (tenant_path, source, scope) WHERE status = 'open';
CREATE INDEX scans_tenant_started_idx ON scans (tenant_path, started_at);

ALTER TABLE framework_subscriptions ENABLE ROW LEVEL SECURITY;
ALTER TABLE framework_subscriptions FORCE ROW LEVEL SECURITY;
CREATE POLICY framework_subscriptions_isolation ON framework_subscriptions
    USING (tenant_path <@ secruna_current_tenant_path())
    WITH CHECK (tenant_path <@ secruna_current_tenant_path());

ALTER TABLE connectors ENABLE ROW LEVEL SECURITY;
ALTER TABLE connectors FORCE ROW LEVEL SECURITY;
CREATE POLICY connectors_isolation ON connectors
    USING (tenant_path <@ secruna_current_tenant_path())
    WITH CHECK (tenant_path <@ secruna_current_tenant_path());

ALTER TABLE scans ENABLE ROW LEVEL SECURITY;
ALTER TABLE scans FORCE ROW LEVEL SECURITY;
CREATE POLICY scans_isolation ON scans
    USING (tenant_path <@ secruna_current_tenant_path())
    WITH CHECK (tenant_path <@ secruna_current_tenant_path());

ALTER TABLE ai_systems ENABLE ROW LEVEL SECURITY;
ALTER TABLE ai_systems FORCE ROW LEVEL SECURITY;
CREATE POLICY ai_systems_isolation ON ai_systems
    USING (tenant_path <@ secruna_current_tenant_path())
    WITH CHECK (tenant_path <@ secruna_current_tenant_path());

ALTER TABLE findings ENABLE ROW LEVEL SECURITY;
ALTER TABLE findings FORCE ROW LEVEL SECURITY;
CREATE POLICY findings_isolation ON findings
    USING (tenant_path <@ secruna_current_tenant_path())
    WITH CHECK (tenant_path <@ secruna_current_tenant_path());

ALTER TABLE evaluations ENABLE ROW LEVEL SECURITY;
ALTER TABLE evaluations FORCE ROW LEVEL SECURITY;
CREATE POLICY evaluations_isolation ON evaluations
    USING (tenant_path <@ secruna_current_tenant_path())
    WITH CHECK (tenant_path <@ secruna_current_tenant_path());

GRANT SELECT, INSERT, DELETE ON framework_subscriptions TO secruna_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON connectors TO secruna_app;
GRANT SELECT, INSERT, UPDATE ON scans TO secruna_app;
GRANT SELECT, INSERT, UPDATE ON ai_systems TO secruna_app;
GRANT SELECT, INSERT, UPDATE ON findings TO secruna_app;
GRANT SELECT, INSERT, UPDATE ON evaluations TO secruna_app;
