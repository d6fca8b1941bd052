//! Webhook endpoints (admins only): create, list, update, delete, and a
//! test delivery. The signing secret is shown once, when the endpoint is
//! created or its secret is rotated.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use store::webhooks::{EndpointRow, EndpointUpdate, NewEndpoint};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::audited::{AdminAccess, AuditedTx, ReadTx};
use crate::auth::Access;
use crate::extract::{ApiJson, ApiPath};
use crate::problem::{ApiError, Problem};
use crate::state::AppState;
use crate::webhooks::{self, EVENT_TYPES, TEST_EVENT};

/// An endpoint to create.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewEndpointBody {
    /// `http://` or `https://` URL that receives POST requests.
    pub(crate) url: String,
    /// `json` (default), `slack` or `teams`.
    #[serde(default)]
    pub(crate) format: Option<String>,
    /// Event types to deliver: `scan.completed`, `scan.failed`,
    /// `system.discovered`, `system.risk_changed`, `verdict.changed`,
    /// `review.requested`, `audit.appended`.
    pub(crate) events: Vec<String>,
}

/// An endpoint, without its secret.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct EndpointView {
    /// Endpoint id.
    pub(crate) id: Uuid,
    /// Destination URL.
    pub(crate) url: String,
    /// Body format.
    pub(crate) format: String,
    /// Event types delivered.
    pub(crate) events: Vec<String>,
    /// Whether new events are queued for the endpoint.
    pub(crate) enabled: bool,
    /// Creator.
    pub(crate) created_by: String,
    /// Creation time.
    pub(crate) created_at: DateTime<Utc>,
    /// Last change.
    pub(crate) updated_at: DateTime<Utc>,
}

impl From<EndpointRow> for EndpointView {
    fn from(row: EndpointRow) -> Self {
        EndpointView {
            id: row.id,
            url: row.url,
            format: row.format,
            events: row.events,
            enabled: row.enabled,
            created_by: row.created_by,
            created_at: row.created_at,
            updated_at: row.updated_at,
        }
    }
}

/// A new endpoint; the secret is shown only in this response.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct EndpointCreated {
    /// Key of the `x-secruna-signature` HMAC-SHA256.
    pub(crate) secret: String,
    /// The stored endpoint.
    #[serde(flatten)]
    pub(crate) view: EndpointView,
}

/// Result of a test delivery.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct TestDelivery {
    /// Event id sent in `x-secruna-event-id`.
    pub(crate) event_id: Uuid,
    /// Whether the destination returned a 2xx status.
    pub(crate) delivered: bool,
    /// HTTP status of the response, `null` when none arrived.
    pub(crate) response_status: Option<u16>,
    /// Cause of the failure, when the delivery failed.
    pub(crate) error: Option<String>,
}

async fn validate(state: &AppState, body: &NewEndpointBody) -> Result<String, ApiError> {
    let format = body.format.clone().unwrap_or_else(|| "json".to_owned());
    validate_format(&format)?;
    validate_events(&body.events)?;
    validate_url(state, &body.url).await?;
    Ok(format)
}

fn validate_format(format: &str) -> Result<(), ApiError> {
    if !matches!(format, "json" | "slack" | "teams") {
        return Err(ApiError::invalid(
            "format",
            format!("format `{format}` is unknown; use json, slack or teams"),
        ));
    }
    Ok(())
}

fn validate_events(events: &[String]) -> Result<(), ApiError> {
    if events.is_empty() {
        return Err(ApiError::invalid(
            "events",
            format!(
                "events is empty; list one or more of {}",
                EVENT_TYPES.join(", ")
            ),
        ));
    }
    for (index, event) in events.iter().enumerate() {
        if !EVENT_TYPES.contains(&event.as_str()) {
            return Err(ApiError::invalid(
                format!("events[{index}]"),
                format!("event `{event}` is unknown; use {}", EVENT_TYPES.join(", ")),
            ));
        }
    }
    Ok(())
}

async fn validate_url(state: &AppState, text: &str) -> Result<(), ApiError> {
    let url = reqwest::Url::parse(text)
        .ok()
        .filter(|url| matches!(url.scheme(), "http" | "https") && url.host_str().is_some())
        .filter(|_| text.len() <= 2048)
        .ok_or_else(|| {
            ApiError::invalid(
                "url",
                "url must be an absolute http:// or https:// URL of at most 2048 characters",
            )
        })?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err(ApiError::invalid(
            "url",
            "url must not carry a user name or password",
        ));
    }
    let host = url.host_str().unwrap_or_default();
    let port = url.port_or_known_default().unwrap_or(443);
    webhooks::resolve_allowed(host, port, &state.config().webhook_allow)
        .await
        .map_err(|error| ApiError::invalid("url", error))?;
    Ok(())
}

/// Draws a new signing secret for endpoint `id` and returns it with its
/// encrypted form, or a 422 naming `field` when the server has no key.
fn new_secret(
    state: &AppState,
    id: Uuid,
    field: &str,
) -> Result<(String, store::connectors::SealedSecret), ApiError> {
    let Some(key) = state.config().secret_key.as_ref() else {
        return Err(ApiError::invalid(
            field,
            "this server has no key to encrypt webhook secrets with; the operator sets \
             SECRUNA_SECRET_KEY (32 random bytes in base64)",
        ));
    };
    let (secret, _) = crate::auth::generate_token();
    let secret = secret.replacen(crate::auth::TOKEN_PREFIX, "whsec_", 1);
    let sealed = key
        .seal(id, secret.as_bytes())
        .map_err(|error| ApiError::Internal(error.to_string()))?;
    Ok((secret, sealed))
}

/// Creates a webhook endpoint and returns its signing secret once.
#[utoipa::path(post, path = "/api/v1/webhooks", tag = "webhooks", request_body = NewEndpointBody,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Endpoint created", body = EndpointCreated),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid body, a rejected destination, or no server key", body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn create(
    State(state): State<AppState>,
    mut tx: AuditedTx<AdminAccess>,
    ApiJson(body): ApiJson<NewEndpointBody>,
) -> Result<(StatusCode, Json<EndpointCreated>), ApiError> {
    let format = validate(&state, &body).await?;
    let id = Uuid::new_v4();
    let (secret, sealed) = new_secret(&state, id, "url")?;
    let created_by = tx
        .principal()
        .map(|principal| principal.actor())
        .unwrap_or_default();
    let endpoint = NewEndpoint {
        id,
        url: body.url,
        format,
        events: body.events,
        secret: sealed,
        created_by,
    };
    let row = store::webhooks::create(tx.tx(), &endpoint).await?;
    let diff = serde_json::json!({"url": row.url, "format": row.format, "events": row.events});
    tx.record("webhook", &id.to_string(), "webhook.create", diff)
        .await?;
    tx.commit().await?;
    Ok((
        StatusCode::CREATED,
        Json(EndpointCreated {
            secret,
            view: row.into(),
        }),
    ))
}

/// Lists the tenant's webhook endpoints.
#[utoipa::path(get, path = "/api/v1/webhooks", tag = "webhooks", security(("bearer" = [])),
    responses(
        (status = 200, description = "Endpoints, oldest first", body = Vec<EndpointView>),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn list(mut read: ReadTx) -> Result<Json<Vec<EndpointView>>, ApiError> {
    read.principal.require(Access::Admin)?;
    let rows = store::webhooks::list(&mut read.tx).await?;
    Ok(Json(rows.into_iter().map(EndpointView::from).collect()))
}

fn not_found(id: Uuid) -> ApiError {
    ApiError::NotFound {
        entity: "webhook",
        id: id.to_string(),
    }
}

/// Changes to a webhook endpoint; absent fields keep their value.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct EndpointPatch {
    /// New `http://` or `https://` destination.
    #[serde(default)]
    pub(crate) url: Option<String>,
    /// New event types (replaces the list).
    #[serde(default)]
    pub(crate) events: Option<Vec<String>>,
    /// New body format: `json`, `slack` or `teams`.
    #[serde(default)]
    pub(crate) format: Option<String>,
    /// `false` pauses deliveries of new events, `true` resumes them.
    #[serde(default)]
    pub(crate) enabled: Option<bool>,
    /// `true` replaces the signing secret; the new one is returned once.
    #[serde(default)]
    pub(crate) rotate_secret: Option<bool>,
}

/// An updated endpoint, with its new secret when it was rotated.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct EndpointUpdated {
    /// New signing secret; present only in the response that rotated it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) secret: Option<String>,
    /// The stored endpoint.
    #[serde(flatten)]
    pub(crate) view: EndpointView,
}

/// Updates a webhook endpoint: its URL, events, format or enabled flag, and
/// rotates its signing secret on request.
#[utoipa::path(patch, path = "/api/v1/webhooks/{id}", tag = "webhooks", request_body = EndpointPatch,
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Endpoint id")),
    responses(
        (status = 200, description = "Endpoint updated", body = EndpointUpdated),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such endpoint in the tenant", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid field, a rejected destination, or no server key to rotate with", body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn update(
    State(state): State<AppState>,
    mut tx: AuditedTx<AdminAccess>,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<EndpointPatch>,
) -> Result<Json<EndpointUpdated>, ApiError> {
    if let Some(format) = &body.format {
        validate_format(format)?;
    }
    if let Some(events) = &body.events {
        validate_events(events)?;
    }
    if let Some(url) = &body.url {
        validate_url(&state, url).await?;
    }
    let rotated = match body.rotate_secret {
        Some(true) => Some(new_secret(&state, id, "rotate_secret")?),
        _ => None,
    };

    let (before, _) = store::webhooks::get(tx.tx(), id)
        .await?
        .ok_or_else(|| not_found(id))?;
    let change = EndpointUpdate {
        url: body.url,
        format: body.format,
        events: body.events,
        enabled: body.enabled,
        secret: rotated.as_ref().map(|(_, sealed)| sealed.clone()),
    };
    let after = store::webhooks::update(tx.tx(), id, &change)
        .await?
        .ok_or_else(|| not_found(id))?;
    let diff = serde_json::json!({
        "url": {"from": before.url, "to": after.url},
        "format": {"from": before.format, "to": after.format},
        "events": {"from": before.events, "to": after.events},
        "enabled": {"from": before.enabled, "to": after.enabled},
        "secret_rotated": rotated.is_some(),
    });
    tx.record("webhook", &id.to_string(), "webhook.update", diff)
        .await?;
    tx.commit().await?;
    Ok(Json(EndpointUpdated {
        secret: rotated.map(|(secret, _)| secret),
        view: after.into(),
    }))
}

/// Deletes a webhook endpoint and its undelivered events.
#[utoipa::path(delete, path = "/api/v1/webhooks/{id}", tag = "webhooks", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Endpoint id")),
    responses(
        (status = 200, description = "Endpoint deleted", body = EndpointView),
        (status = 404, description = "No such endpoint in the tenant", body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn delete(
    mut tx: AuditedTx<AdminAccess>,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<EndpointView>, ApiError> {
    let row = store::webhooks::delete(tx.tx(), id)
        .await?
        .ok_or_else(|| not_found(id))?;
    let diff = serde_json::json!({"url": row.url});
    tx.record("webhook", &id.to_string(), "webhook.delete", diff)
        .await?;
    tx.commit().await?;
    Ok(Json(row.into()))
}

/// Sends a `webhook.test` event to the endpoint now, once, and returns the
/// outcome; the attempt is recorded like any other.
#[utoipa::path(post, path = "/api/v1/webhooks/{id}/test", tag = "webhooks", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Endpoint id")),
    responses(
        (status = 200, description = "Delivery attempted", body = TestDelivery),
        (status = 404, description = "No such endpoint in the tenant", body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn test(
    State(state): State<AppState>,
    mut tx: AuditedTx<AdminAccess>,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<TestDelivery>, ApiError> {
    let (endpoint, sealed) = store::webhooks::get(tx.tx(), id)
        .await?
        .ok_or_else(|| not_found(id))?;
    let key = state.config().secret_key.clone().ok_or_else(|| {
        ApiError::Internal(
            "SECRUNA_SECRET_KEY is not set, so the signing secret cannot be read".to_owned(),
        )
    })?;
    let secret = key
        .open(id, &sealed)
        .map_err(|error| ApiError::Internal(error.to_string()))?;
    let event_id = Uuid::now_v7();
    let tenant = tx.tx().context().path().slug_path();
    let data = serde_json::json!({"message": "test delivery requested through the API"});
    let body = store::webhooks::render_body(&endpoint.format, event_id, TEST_EVENT, &tenant, &data);
    store::webhooks::enqueue(tx.tx(), event_id, id, TEST_EVENT, &body).await?;
    tx.record(
        "webhook",
        &id.to_string(),
        "webhook.test",
        serde_json::json!({"event_id": event_id}),
    )
    .await?;
    let context = tx.tx().context().clone();
    tx.commit().await?;

    let outcome = webhooks::send(&state, &endpoint.url, &secret, event_id, TEST_EVENT, &body).await;
    webhooks::record(&state, &context, event_id, 1, &outcome).await?;
    Ok(Json(TestDelivery {
        event_id,
        delivered: outcome.is_delivered(),
        response_status: outcome.response_status,
        error: outcome.error,
    }))
}
