-- Seeds one tenant with AI systems, findings and verdicts for the REST
-- benchmark. Runs as the schema owner (a superuser here), so row-level
-- security does not apply and rows are written directly with generate_series.
--
-- psql variables:
--   tenant_path  ltree path of an existing tenant (created by `secruna tokens create`)
--   systems      number of AI systems to insert
--
-- Shape of the data, chosen to resemble what scans store:
--   - systems come in batches of 40 that share one created_at, as a scan's
--     upserts inside one transaction do, so cursors must break ties by id;
--   - risk classes: minimal 50 %, limited 25 %, high 12 %, unknown 11 %,
--     prohibited 2 %;
--   - 1 to 4 findings per system (2.5 on average) and 6 verdicts per system.

\set ON_ERROR_STOP on

BEGIN;

INSERT INTO frameworks (slug, title, version, description)
VALUES ('eu-ai-act', 'EU Artificial Intelligence Act', 'Regulation (EU) 2024/1689', '')
ON CONFLICT (slug) DO NOTHING;

INSERT INTO framework_subscriptions (tenant_path, framework_slug)
VALUES (:'tenant_path'::ltree, 'eu-ai-act')
ON CONFLICT DO NOTHING;

CREATE TEMP TABLE bench_scan ON COMMIT DROP AS
WITH inserted AS (
    INSERT INTO scans (tenant_path, source, target, requested_by, status, summary, finished_at)
    VALUES (:'tenant_path'::ltree, 'code', '/srv/repos', 'cli:bench', 'completed', '{}', now())
    RETURNING id
)
SELECT id FROM inserted;

INSERT INTO ai_systems (
    id, tenant_path, source, external_id, name, root, kinds, risk_class, annex_iii_area, gpai,
    reasons, confidence, facts, first_scan_id, changed_scan_id, created_at, updated_at
)
SELECT
    gen_random_uuid(),
    :'tenant_path'::ltree,
    'code',
    'code:/srv/repos:team-' || (i % 97) || '/service-' || i,
    'service-' || i,
    'team-' || (i % 97) || '/service-' || i,
    CASE i % 5
        WHEN 0 THEN ARRAY['calls_hosted_model_api']
        WHEN 1 THEN ARRAY['calls_hosted_model_api', 'uses_ml_libraries']
        WHEN 2 THEN ARRAY['uses_ml_libraries']
        WHEN 3 THEN ARRAY['trains_models', 'uses_ml_libraries', 'ships_model_artefacts']
        ELSE ARRAY['serves_models', 'ships_model_artefacts']
    END,
    risk.class,
    CASE WHEN risk.class = 'high' THEN (ARRAY['employment', 'education', 'essential-services'])[1 + i % 3] END,
    i % 5 IN (0, 1),
    jsonb_build_array(
        'imports ' || (ARRAY['openai', 'transformers', 'torch', 'langchain', 'anthropic'])[1 + i % 5]
            || ' in team-' || (i % 97) || '/service-' || i || '/src/main.py',
        CASE risk.class
            WHEN 'high' THEN 'declared Annex III area in secruna.yaml'
            WHEN 'prohibited' THEN 'declared prohibited practice flag'
            WHEN 'limited' THEN 'interacts with people through a chat interface'
            WHEN 'unknown' THEN 'no declaration; the signals do not settle the risk class'
            ELSE 'no interaction with people and no Annex III signal'
        END
    ),
    (0.35 + (i % 13) * 0.05)::real,
    jsonb_build_object(
        'system.role', CASE WHEN i % 7 = 0 THEN 'provider' ELSE 'deployer' END,
        'system.markets', jsonb_build_array('EU'),
        'system.risk_class', risk.class,
        'system.builds_on_gpai', i % 5 IN (0, 1),
        'system.interacts_with_people', risk.class = 'limited',
        'system.processes_personal_data', i % 3 = 0,
        'system.model_source', CASE WHEN i % 5 IN (0, 1) THEN 'hosted_api' ELSE 'in_house' END,
        'system.logging_enabled', i % 2 = 0
    ),
    scan.id,
    scan.id,
    created.at,
    created.at + interval '3 days'
FROM generate_series(1, :systems) AS i
CROSS JOIN bench_scan AS scan
CROSS JOIN LATERAL (
    SELECT timestamptz '2026-01-05 08:00:00.123456+00'
        + (i / 40) * interval '17 minutes 3.000257 seconds' AS at
) AS created
CROSS JOIN LATERAL (
    SELECT CASE
        WHEN i % 100 < 50 THEN 'minimal'
        WHEN i % 100 < 75 THEN 'limited'
        WHEN i % 100 < 87 THEN 'high'
        WHEN i % 100 < 98 THEN 'unknown'
        ELSE 'prohibited'
    END AS class
) AS risk;

INSERT INTO findings (
    tenant_path, system_id, source, scope, external_id, kind, subject, path, line, confidence,
    project_root, attributes, evidence, first_scan_id, changed_scan_id, created_at, updated_at
)
SELECT
    systems.tenant_path,
    systems.id,
    'code',
    '/srv/repos',
    systems.external_id || ':' || n,
    (ARRAY['dependency', 'import', 'client', 'artefact'])[n],
    (ARRAY['openai', 'transformers', 'torch', 'safetensors'])[n],
    systems.root || (ARRAY['/requirements.txt', '/src/main.py', '/src/client.py', '/models/model.safetensors'])[n],
    CASE WHEN n = 4 THEN NULL ELSE 3 + n END,
    0.9::real,
    systems.root,
    jsonb_build_object('category', (ARRAY['ml_library', 'ml_library', 'hosted_api', 'artefact'])[n],
        'provider', 'openai', 'language', 'python'),
    CASE WHEN n = 4 THEN NULL ELSE 'import openai' END,
    systems.first_scan_id,
    systems.changed_scan_id,
    systems.created_at,
    systems.updated_at
FROM ai_systems AS systems
CROSS JOIN LATERAL generate_series(1, 1 + abs(hashtext(systems.external_id)) % 4) AS n
WHERE systems.tenant_path = :'tenant_path'::ltree;

INSERT INTO evaluations (
    tenant_path, system_id, framework, rule_id, status, reasons, evidence_required,
    changed_scan_id, created_at, updated_at
)
SELECT
    systems.tenant_path,
    systems.id,
    'eu-ai-act',
    rule.id,
    (ARRAY['pass', 'fail', 'needs_evidence', 'not_applicable'])[1 + abs(hashtext(systems.external_id || rule.id)) % 4],
    jsonb_build_array('rule ' || rule.id || ' evaluated from the declared facts'),
    '[]'::jsonb,
    systems.changed_scan_id,
    systems.created_at,
    systems.updated_at
FROM ai_systems AS systems
CROSS JOIN unnest(ARRAY[
    'eu-ai-act/art-4-ai-literacy', 'eu-ai-act/art-5-prohibited-practices',
    'eu-ai-act/art-6-high-risk-classification', 'eu-ai-act/art-26-deployer-duties',
    'eu-ai-act/art-50-transparency', 'eu-ai-act/art-14-human-oversight'
]) AS rule (id)
WHERE systems.tenant_path = :'tenant_path'::ltree;

COMMIT;

VACUUM ANALYZE ai_systems;
VACUUM ANALYZE findings;
VACUUM ANALYZE evaluations;
