DROP INDEX IF EXISTS evaluations_created_idx;
DROP INDEX IF EXISTS findings_created_idx;
DROP INDEX IF EXISTS ai_systems_risk_created_idx;
DROP INDEX IF EXISTS ai_systems_created_idx;
