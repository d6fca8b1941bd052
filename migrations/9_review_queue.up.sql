-- The human review queue: verdicts the evaluator could not settle wait here
-- for a person to approve or reject them, optionally through a signed
-- single-use link handed to a second person. Webhook endpoints also gain an
-- on/off switch so they can be paused without losing their secret.

CREATE TABLE reviews (
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    tenant_path ltree NOT NULL,
    system_id uuid NOT NULL,
    framework text NOT NULL,
    rule_id text NOT NULL,
    verdict text NOT NULL,
    status text NOT NULL DEFAULT 'pending',
    decided_verdict text,
    requested_by text NOT NULL,
    decided_by text,
    comment text,
    decided_at timestamptz,
    link_requester text,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT reviews_pkey PRIMARY KEY (id),
    CONSTRAINT reviews_system_rule_key UNIQUE (system_id, framework, rule_id),
    CONSTRAINT reviews_tenant_id_key UNIQUE (tenant_path, id),
    CONSTRAINT reviews_tenant_fkey FOREIGN KEY (tenant_path)
        REFERENCES tenants (path) ON UPDATE CASCADE ON DELETE CASCADE,
    CONSTRAINT reviews_system_fkey FOREIGN KEY (tenant_path, system_id)
        REFERENCES ai_systems (tenant_path, id) ON DELETE CASCADE,
    CONSTRAINT reviews_framework_fkey FOREIGN KEY (framework)
        REFERENCES frameworks (slug),
    CONSTRAINT reviews_status_check CHECK (status IN ('pending', 'approved', 'rejected')),
    CONSTRAINT reviews_decision_check CHECK (
        (status = 'pending') = (decided_at IS NULL)
        AND (status = 'pending') = (decided_by IS NULL)
        AND (status = 'pending') = (comment IS NULL)
    ),
    CONSTRAINT reviews_decided_verdict_check CHECK (decided_verdict IS NULL OR status = 'rejected'),
    CONSTRAINT reviews_comment_check CHECK (comment IS NULL OR length(comment) BETWEEN 1 AND 4000)
);

COMMENT ON TABLE reviews IS 'Verdicts waiting for, or settled by, a human decision; one row per system and rule';
COMMENT ON COLUMN reviews.tenant_path IS 'Owning tenant; RLS compares it with the transaction''s tenant';
COMMENT ON COLUMN reviews.id IS 'Review id used by the API and by review links';
COMMENT ON COLUMN reviews.system_id IS 'System whose verdict is reviewed; the composite key keeps it inside the same tenant';
COMMENT ON COLUMN reviews.framework IS 'Framework of the reviewed rule';
COMMENT ON COLUMN reviews.rule_id IS 'Reviewed rule within the framework';
COMMENT ON COLUMN reviews.verdict IS 'Verdict the evaluator proposed; a different proposal from a later scan reopens the review';
COMMENT ON COLUMN reviews.status IS 'pending until a person approves or rejects the proposed verdict';
COMMENT ON COLUMN reviews.decided_verdict IS 'Verdict the reviewer set instead of the proposed one when rejecting; NULL keeps the proposal shown';
COMMENT ON COLUMN reviews.requested_by IS 'Actor that asked for the review (system:coordinator for scan results)';
COMMENT ON COLUMN reviews.decided_by IS 'User, token or review link that made the last decision';
COMMENT ON COLUMN reviews.comment IS 'Reviewer''s reason for the last decision; required with every decision';
COMMENT ON COLUMN reviews.decided_at IS 'When the last decision was made; NULL exactly while pending';
COMMENT ON COLUMN reviews.link_requester IS 'Actor that asked a second person to decide through a review link; that actor may no longer decide the review';
COMMENT ON COLUMN reviews.created_at IS 'When the review was first requested; the pagination key with id';
COMMENT ON COLUMN reviews.updated_at IS 'When the row last changed';

CREATE INDEX reviews_tenant_created_idx ON reviews (tenant_path, created_at, id);
CREATE INDEX reviews_system_idx ON reviews (system_id);

CREATE TABLE review_links (
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    tenant_path ltree NOT NULL,
    review_id uuid NOT NULL,
    decisions text[] NOT NULL,
    verdict text NOT NULL,
    nonce_hash bytea NOT NULL,
    expires_at timestamptz NOT NULL,
    created_by text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    used_at timestamptz,
    used_by_name text,
    CONSTRAINT review_links_pkey PRIMARY KEY (id),
    CONSTRAINT review_links_nonce_hash_key UNIQUE (nonce_hash),
    CONSTRAINT review_links_tenant_fkey FOREIGN KEY (tenant_path)
        REFERENCES tenants (path) ON UPDATE CASCADE ON DELETE CASCADE,
    CONSTRAINT review_links_review_fkey FOREIGN KEY (tenant_path, review_id)
        REFERENCES reviews (tenant_path, id) ON DELETE CASCADE,
    CONSTRAINT review_links_decisions_check
        CHECK (cardinality(decisions) > 0 AND decisions <@ ARRAY['approve', 'reject']),
    CONSTRAINT review_links_nonce_hash_check CHECK (octet_length(nonce_hash) = 32),
    CONSTRAINT review_links_expiry_check CHECK (expires_at > created_at),
    CONSTRAINT review_links_used_check CHECK ((used_at IS NULL) = (used_by_name IS NULL))
);

COMMENT ON TABLE review_links IS 'Signed single-use links that let a second person decide one review without an account';
COMMENT ON COLUMN review_links.tenant_path IS 'Owning tenant; RLS compares it with the transaction''s tenant';
COMMENT ON COLUMN review_links.id IS 'Link id, recorded as the actor of the decision made through it';
COMMENT ON COLUMN review_links.review_id IS 'The one review the link may decide';
COMMENT ON COLUMN review_links.decisions IS 'Decisions the link allows (approve, reject); also signed into the link';
COMMENT ON COLUMN review_links.verdict IS 'Proposed verdict the link was created for; once a later scan proposes another, the link is refused';
COMMENT ON COLUMN review_links.nonce_hash IS 'SHA-256 of the link''s random nonce; the link itself is never stored';
COMMENT ON COLUMN review_links.expires_at IS 'After this time the link is refused with 410';
COMMENT ON COLUMN review_links.created_by IS 'Requester who created the link; may not decide through it';
COMMENT ON COLUMN review_links.used_at IS 'When the link was used; a used link is refused with 410';
COMMENT ON COLUMN review_links.used_by_name IS 'Name the reviewer gave when using the link, for the audit trail';

CREATE INDEX review_links_review_idx ON review_links (review_id);

ALTER TABLE reviews ENABLE ROW LEVEL SECURITY;
ALTER TABLE reviews FORCE ROW LEVEL SECURITY;
CREATE POLICY reviews_isolation ON reviews
    USING (tenant_path <@ secruna_current_tenant_path())
    WITH CHECK (tenant_path <@ secruna_current_tenant_path());

ALTER TABLE review_links ENABLE ROW LEVEL SECURITY;
ALTER TABLE review_links FORCE ROW LEVEL SECURITY;
CREATE POLICY review_links_isolation ON review_links
    USING (tenant_path <@ secruna_current_tenant_path())
    WITH CHECK (tenant_path <@ secruna_current_tenant_path());

GRANT SELECT, INSERT, UPDATE, DELETE ON reviews TO secruna_app;
GRANT SELECT, INSERT, UPDATE ON review_links TO secruna_app;

ALTER TABLE webhook_endpoints
    ADD COLUMN enabled boolean NOT NULL DEFAULT true,
    ADD COLUMN updated_at timestamptz NOT NULL DEFAULT now();

COMMENT ON COLUMN webhook_endpoints.enabled IS 'false pauses the endpoint: no new events are queued for it';
COMMENT ON COLUMN webhook_endpoints.updated_at IS 'When the endpoint was last changed through the API';

GRANT UPDATE ON webhook_endpoints TO secruna_app;
