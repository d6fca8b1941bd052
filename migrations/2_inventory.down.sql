DROP TABLE evaluations;
DROP TABLE findings;
DROP TABLE ai_systems;
DROP TABLE scans;
DROP TABLE connectors;
DROP TABLE framework_subscriptions;
DROP TABLE frameworks;
