DROP INDEX IF EXISTS audit_log_tenant_occurred_idx;
DROP INDEX IF EXISTS evaluations_tenant_created_idx;
DROP INDEX IF EXISTS findings_tenant_created_idx;
DROP INDEX IF EXISTS ai_systems_tenant_created_idx;
DROP FUNCTION IF EXISTS secruna_authenticate(bytea);
DROP TABLE IF EXISTS api_tokens;
DROP TABLE IF EXISTS sessions;
DROP TABLE IF EXISTS users;
