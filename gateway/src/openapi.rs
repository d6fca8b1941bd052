//! The OpenAPI 3.1 document, generated from the handlers' annotations.

use utoipa::Modify;
use utoipa::OpenApi;
use utoipa::openapi::path::Operation;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder};

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

/// Documents the problem responses shared by whole kinds of operations, so
/// handlers need not repeat them. Operations behind the bearer token get 401
/// and 429, those with a JSON body get 400, 413 and 415, and those with an
/// `{id}` path segment get 422. It is applied once every route is
/// registered, because the derived document has no paths yet.
pub(crate) struct CommonResponses;

impl Modify for CommonResponses {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for (path, item) in openapi.paths.paths.iter_mut() {
            let has_id = path.contains("{id}");
            let operations = [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.patch,
            ];
            for operation in operations.into_iter().flatten() {
                add_common_responses(operation, has_id);
            }
        }
    }
}

fn add_common_responses(operation: &mut Operation, has_id: bool) {
    let mut statuses = Vec::new();
    if operation
        .security
        .as_ref()
        .is_some_and(|list| !list.is_empty())
    {
        statuses.push(("401", "Missing, unknown, expired or revoked bearer token"));
        statuses.push(("429", "The tenant's request rate is over its limit"));
    }
    if operation.request_body.is_some() {
        statuses.push(("400", "The body is not a JSON document"));
        statuses.push(("413", "The body is larger than the limit"));
        statuses.push(("415", "The body is not declared as application/json"));
    }
    if has_id {
        statuses.push((
            "422",
            "Invalid request value, such as an id that is not a UUID",
        ));
    }
    for (status, description) in statuses {
        let problem = ContentBuilder::new()
            .schema(Some(Ref::from_schema_name("Problem")))
            .build();
        let response = ResponseBuilder::new()
            .description(description)
            .content(crate::problem::PROBLEM_JSON, problem)
            .build();
        operation
            .responses
            .responses
            .entry(status.to_owned())
            .or_insert(RefOr::T(response));
    }
}
