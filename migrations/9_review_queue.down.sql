REVOKE UPDATE ON webhook_endpoints FROM secruna_app;
ALTER TABLE webhook_endpoints DROP COLUMN IF EXISTS updated_at, DROP COLUMN IF EXISTS enabled;
DROP TABLE IF EXISTS review_links;
DROP TABLE IF EXISTS reviews;
