-- The secruna_app role is left in place: roles belong to the whole cluster,
-- and other databases in it may still grant to it.
DROP TABLE tenants;
DROP FUNCTION secruna_current_tenant_path();
REVOKE USAGE ON SCHEMA public FROM secruna_app;
DROP EXTENSION IF EXISTS ltree;
