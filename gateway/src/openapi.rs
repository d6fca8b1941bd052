//! The OpenAPI 3.1 document, generated from the handlers' annotations.

use utoipa::Modify;
use utoipa::OpenApi;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};

/// Document root: metadata, tags and the bearer security scheme; paths are
/// added by the router as routes are registered.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Secruna API",
        description = "Inventory of AI systems, their risk classes and verdicts, and the audit trail"
    ),
    modifiers(&BearerScheme),
    tags(
        (name = "health", description = "Probes for supervisors and load balancers"),
        (name = "auth", description = "Sign-in, users and API tokens"),
        (name = "onboarding", description = "Framework catalogue and subscription"),
        (name = "inventory", description = "AI systems, findings and verdicts"),
        (name = "connectors", description = "Code trees, cloud accounts and code hosts to discover in"),
        (name = "scans", description = "Discovery runs"),
        (name = "audit", description = "The tamper-evident audit trail"),
        (name = "webhooks", description = "Signed event deliveries to tenant endpoints"),
        (name = "reviews", description = "Verdicts waiting for a human decision, and two-person review links"),
    )
)]
pub(crate) struct ApiDoc;

/// Adds the `bearer` security scheme that every protected path names.
struct BearerScheme;

impl Modify for BearerScheme {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}
