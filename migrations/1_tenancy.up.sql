-- Tenancy foundations: the ltree extension, the application group role, the
-- tenant-path function every row-level security policy calls, and the
-- tenants table itself.

CREATE EXTENSION IF NOT EXISTS ltree;

-- Roles are global to the cluster, while migrations run once per database, so
-- several databases (and concurrent test databases) may race to create the
-- role. A duplicate is the expected outcome of losing that race.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'secruna_app') THEN
        CREATE ROLE secruna_app NOLOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE;
    END IF;
EXCEPTION
    WHEN duplicate_object OR unique_violation THEN
        NULL;
END
$$;

GRANT USAGE ON SCHEMA public TO secruna_app;

-- Every policy calls this one function. current_setting(..., true) returns
-- NULL on a connection that never set the variable but '' once any earlier
-- transaction on that connection set it locally, and ''::ltree is the root,
-- an ancestor of every path. NULLIF turns both states into NULL, and a
-- comparison with NULL matches no row, so an unset tenant sees nothing.
CREATE FUNCTION secruna_current_tenant_path() RETURNS ltree
    LANGUAGE sql
    STABLE
    PARALLEL SAFE
AS $$
    SELECT NULLIF(current_setting('app.current_tenant_path', true), '')::ltree
$$;

COMMENT ON FUNCTION secruna_current_tenant_path() IS
    'Tenant path of the current transaction, or NULL when unset or empty; every RLS policy calls it so they fail closed';

REVOKE ALL ON FUNCTION secruna_current_tenant_path() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION secruna_current_tenant_path() TO secruna_app;

CREATE TABLE tenants (
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    slug text NOT NULL,
    path ltree NOT NULL,
    parent_path ltree,
    tenant_path ltree GENERATED ALWAYS AS (path) STORED,
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT tenants_pkey PRIMARY KEY (id),
    CONSTRAINT tenants_slug_key UNIQUE (slug),
    CONSTRAINT tenants_path_key UNIQUE (path),
    CONSTRAINT tenants_parent_path_check CHECK (
        parent_path IS NULL OR (nlevel(path) > 1 AND parent_path = subpath(path, 0, nlevel(path) - 1))
    )
);

COMMENT ON TABLE tenants IS 'Customer organisations, arranged as a tree by ltree path';
COMMENT ON COLUMN tenants.id IS 'Surrogate key for APIs and tokens, so references from outside survive a change of path';
COMMENT ON COLUMN tenants.slug IS 'Slash-separated slug path as the customer typed it (acme/emea); the path is derived from it';
COMMENT ON COLUMN tenants.path IS 'ltree of escaped slugs; the key every customer row refers to through tenant_path';
COMMENT ON COLUMN tenants.parent_path IS 'Path of the parent tenant, NULL for a root; no foreign key, because a subsidiary may be created before its parent';
COMMENT ON COLUMN tenants.tenant_path IS 'Copy of path so the tenants table carries the same RLS column as every other customer table';
COMMENT ON COLUMN tenants.created_at IS 'When the tenant was first seen, for support and audit';

CREATE INDEX tenants_path_gist ON tenants USING gist (path);

ALTER TABLE tenants ENABLE ROW LEVEL SECURITY;
ALTER TABLE tenants FORCE ROW LEVEL SECURITY;
CREATE POLICY tenants_isolation ON tenants
    USING (tenant_path <@ secruna_current_tenant_path())
    WITH CHECK (tenant_path <@ secruna_current_tenant_path());

GRANT SELECT, INSERT ON tenants TO secruna_app;
