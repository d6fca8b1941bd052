DROP FUNCTION IF EXISTS secruna_webhook_due_tenants();
DROP TABLE IF EXISTS webhook_deliveries;
DROP TABLE IF EXISTS webhook_outbox;
DROP TABLE IF EXISTS webhook_endpoints;
