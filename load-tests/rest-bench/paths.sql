-- Prints the URL paths of the benchmark's request mix, one per line: a third first pages
-- (limit 50), a third first pages filtered by risk class, and a third later pages reached
-- through a cursor, some of them filtered too. Runs as the schema owner.
--
-- psql variable: tenant_path, ltree path of the seeded tenant.
--
-- A cursor is the gateway's `<microseconds since the epoch>.<uuid>` of the row the page
-- starts after. Those rows sit at fixed fractions of the tenant's systems, so the later
-- pages come from the start, the middle and the end of the list.

\set ON_ERROR_STOP on

WITH classes (risk_class) AS (
    VALUES ('prohibited'), ('high'), ('limited'), ('minimal'), ('unknown')
),
ordered AS (
    SELECT created_at, id, risk_class,
        row_number() OVER (ORDER BY created_at, id) AS position,
        row_number() OVER (PARTITION BY risk_class ORDER BY created_at, id) AS class_position,
        count(*) OVER () AS total,
        count(*) OVER (PARTITION BY risk_class) AS class_total
    FROM ai_systems
    WHERE tenant_path <@ :'tenant_path'::ltree
),
first_pages AS (
    SELECT '/api/v1/systems?limit=50' AS path, copy AS sort_key
    FROM generate_series(1, 10) AS copy
),
filtered_pages AS (
    SELECT '/api/v1/systems?limit=50&risk_class=' || risk_class AS path, copy AS sort_key
    FROM classes CROSS JOIN generate_series(1, 2) AS copy
),
later_pages AS (
    SELECT '/api/v1/systems?limit=50&cursor='
            || (extract(epoch FROM created_at) * 1000000)::bigint || '.' || id AS path,
        position AS sort_key
    FROM ordered
    WHERE position IN (
        SELECT greatest(1, (total * fraction)::bigint)
        FROM (SELECT max(total) AS total FROM ordered) AS size
        CROSS JOIN unnest(ARRAY[0.01, 0.1, 0.25, 0.4, 0.55, 0.75, 0.95]) AS fraction
    )
),
filtered_later_pages AS (
    SELECT '/api/v1/systems?limit=50&risk_class=' || risk_class || '&cursor='
            || (extract(epoch FROM created_at) * 1000000)::bigint || '.' || id AS path,
        position AS sort_key
    FROM ordered
    WHERE (risk_class, class_position) IN (
        ('high', greatest(1, (class_total * 0.5)::bigint)),
        ('limited', greatest(1, (class_total * 0.3)::bigint)),
        ('prohibited', greatest(1, (class_total * 0.6)::bigint))
    )
)
SELECT path FROM (
    SELECT path, 1 AS part, sort_key FROM first_pages
    UNION ALL SELECT path, 2, sort_key FROM filtered_pages
    UNION ALL SELECT path, 3, sort_key FROM later_pages
    UNION ALL SELECT path, 4, sort_key FROM filtered_later_pages
) AS mix
ORDER BY sort_key, part, path;
