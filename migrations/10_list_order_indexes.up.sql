-- Indexes for the keyset-paginated API lists, which sort on (created_at, id).
--
-- The (tenant_path, created_at, id) indexes of the auth migration cannot
-- return rows in that order, because every row-level security policy filters
-- with tenant_path <@ <tenant>: a subtree test, not an equality, so the
-- leading column is never fixed. Without these indexes, each page of
-- GET /api/v1/systems, /findings and /evaluations read the whole table and
-- sorted it. With 100,000 systems, 250,000 findings and 600,000 verdicts in
-- one tenant, EXPLAIN ANALYZE timed a first page at 54 to 133 ms for systems,
-- 187 ms for findings and 388 ms for verdicts (2-core machine, other builds
-- running). With them, a page is an ordered index scan that stops after
-- limit + 1 rows, and the policy filters those rows (under 1 ms).
--
-- The risk-class index serves GET /api/v1/systems?risk_class=...; the other
-- filters (kind, source, status) scan in (created_at, id) order and skip the
-- rows that do not match.
--
-- NOTE: the planner assumes the policy keeps about 1 % of the rows, since it
-- cannot see the tenant path the transaction sets. With the default
-- random_page_cost of 4 it then prefers reading the whole risk class and
-- sorting it (measured 8 ms for 2,000 rows, 40 ms for 12,000) over the
-- ordered scan of the risk-class index. With random_page_cost = 1.1, the
-- usual value for SSD storage, it takes the ordered scan.

CREATE INDEX ai_systems_created_idx ON ai_systems (created_at, id);
CREATE INDEX ai_systems_risk_created_idx ON ai_systems (risk_class, created_at, id);
CREATE INDEX findings_created_idx ON findings (created_at, id);
CREATE INDEX evaluations_created_idx ON evaluations (created_at, id);
