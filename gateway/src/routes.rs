//! Every route of the API, registered together with its OpenAPI entry.
//!
//! Routes are added only through [`api_router`], with `utoipa_axum`'s
//! `routes!`, so a route cannot be served without being documented.

mod audit;
mod catalogue;
mod connectors;
mod declarations;
mod health;
mod inventory;
mod reviews;
mod scans;
mod sessions;
mod tokens;
mod users;
mod webhooks;

use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub use self::users::{MIN_PASSWORD_LEN, validate_new_user};
use crate::openapi::{ApiDoc, CommonResponses};
use crate::state::AppState;

/// Builds the routes and their OpenAPI document.
pub(crate) fn api_router() -> OpenApiRouter<AppState> {
    let mut router = registered_routes();
    utoipa::Modify::modify(&CommonResponses, router.get_openapi_mut());
    router
}

fn registered_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(health::healthz))
        .routes(routes!(health::readyz))
        .routes(routes!(sessions::sign_in))
        .routes(routes!(sessions::sign_out))
        .routes(routes!(tokens::create, tokens::list))
        .routes(routes!(tokens::revoke))
        .routes(routes!(users::create, users::list))
        .routes(routes!(catalogue::frameworks))
        .routes(routes!(
            catalogue::get_subscription,
            catalogue::put_subscription
        ))
        .routes(routes!(inventory::list_systems))
        .routes(routes!(inventory::get_system, declarations::declare))
        .routes(routes!(inventory::list_findings))
        .routes(routes!(inventory::list_evaluations))
        .routes(routes!(connectors::create, connectors::list))
        .routes(routes!(
            connectors::get,
            connectors::update,
            connectors::delete
        ))
        .routes(routes!(scans::start, scans::list))
        .routes(routes!(scans::get))
        .routes(routes!(scans::cancel))
        .routes(routes!(webhooks::create, webhooks::list))
        .routes(routes!(webhooks::update, webhooks::delete))
        .routes(routes!(webhooks::test))
        .routes(routes!(reviews::list))
        .routes(routes!(reviews::get))
        .routes(routes!(reviews::approve))
        .routes(routes!(reviews::reject))
        .routes(routes!(reviews::create_link))
        .routes(routes!(reviews::use_link))
        .routes(routes!(audit::list))
        .routes(routes!(audit::export_csv))
        .routes(routes!(audit::verify))
}
