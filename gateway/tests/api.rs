//! REST gateway tests against a real PostgreSQL, through the full router.

mod api {
    pub(crate) mod harness;

    mod audit;
    mod auth;
    mod connectors;
    mod declarations;
    mod inventory;
    mod metrics;
    mod openapi;
    mod reviews;
    mod scans;
    mod tenancy;
    mod webhooks;
}
