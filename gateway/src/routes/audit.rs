//! The audit trail: query, CSV export and chain verification.

use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use futures::StreamExt;
use serde::{Deserialize, Serialize};
use store::audit_query::{AuditFilter, AuditItem};
use store::listing::Cursor;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::audited::ReadTx;
use crate::auth::Principal;
use crate::csv;
use crate::extract::ApiQuery;
use crate::pagination::{Page, PageQuery, into_page};
use crate::problem::{ApiError, Problem};
use crate::state::AppState;

/// Bytes of CSV collected before they are sent as one chunk.
const CSV_CHUNK_BYTES: usize = 64 * 1024;

/// Chunks buffered between the database reader and the client.
const CSV_CHANNEL_CHUNKS: usize = 4;

/// Header row of the CSV export, in column order.
const CSV_COLUMNS: [&str; 15] = [
    "seq",
    "id",
    "tenant_path",
    "occurred_at",
    "actor_type",
    "actor_id",
    "entity_type",
    "entity_id",
    "action",
    "diff",
    "ip",
    "user_agent",
    "request_id",
    "prev_hash",
    "row_hash",
];

/// An audit row.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct AuditView {
    /// Row id.
    pub(crate) id: Uuid,
    /// Tenant whose chain contains the row.
    pub(crate) tenant_path: String,
    /// Position in that chain.
    pub(crate) seq: i64,
    /// user, token, system or cli.
    pub(crate) actor_type: String,
    /// Actor id.
    pub(crate) actor_id: String,
    /// Kind of entity changed.
    pub(crate) entity_type: String,
    /// Entity id.
    pub(crate) entity_id: String,
    /// Action taken (`subscription.update`).
    pub(crate) action: String,
    /// Description of the change.
    #[schema(value_type = Object)]
    pub(crate) diff: serde_json::Value,
    /// UTC time of the change.
    pub(crate) occurred_at: DateTime<Utc>,
    /// Client address.
    pub(crate) ip: Option<String>,
    /// Client user agent.
    pub(crate) user_agent: Option<String>,
    /// Request id.
    pub(crate) request_id: Option<String>,
    /// Hash of the previous row, hex.
    pub(crate) prev_hash: String,
    /// Hash of this row, hex.
    pub(crate) row_hash: String,
}

impl From<AuditItem> for AuditView {
    fn from(item: AuditItem) -> Self {
        AuditView {
            id: item.id,
            tenant_path: item.tenant_path,
            seq: item.seq,
            actor_type: item.actor_type,
            actor_id: item.actor_id,
            entity_type: item.entity_type,
            entity_id: item.entity_id,
            action: item.action,
            diff: item.diff,
            occurred_at: item.occurred_at,
            ip: item.ip,
            user_agent: item.user_agent,
            request_id: item.request_id,
            prev_hash: item.prev_hash,
            row_hash: item.row_hash,
        }
    }
}

/// Filters of the audit list and export.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct AuditQuery {
    /// Only rows of this actor id.
    pub(crate) actor_id: Option<String>,
    /// Only rows about this kind of entity.
    pub(crate) entity_type: Option<String>,
    /// Only rows about this entity id.
    pub(crate) entity_id: Option<String>,
    /// Only rows at or after this time (RFC 3339).
    pub(crate) from: Option<DateTime<Utc>>,
    /// Only rows before this time (RFC 3339).
    pub(crate) to: Option<DateTime<Utc>>,
    /// `next_cursor` of the previous page (ignored by the CSV export).
    pub(crate) cursor: Option<String>,
    /// Rows per page, 1 to 500 (default 50; ignored by the CSV export).
    pub(crate) limit: Option<i64>,
}

impl AuditQuery {
    fn filter(&self) -> Result<AuditFilter, ApiError> {
        if let (Some(from), Some(to)) = (self.from, self.to)
            && from >= to
        {
            return Err(ApiError::invalid("to", "`to` must be later than `from`"));
        }
        Ok(AuditFilter {
            actor_id: self.actor_id.clone(),
            entity_type: self.entity_type.clone(),
            entity_id: self.entity_id.clone(),
            from: self.from,
            to: self.to,
        })
    }
}

/// Result of recomputing the tenant's audit chain.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct VerifyView {
    /// Whether every row matches its hash and follows the previous one.
    pub(crate) intact: bool,
    /// Rows checked before the first bad one, or all rows.
    pub(crate) rows_checked: u64,
    /// First row that breaks the chain.
    pub(crate) first_bad: Option<BadRowView>,
}

/// A row that breaks the chain.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct BadRowView {
    /// Position in the chain.
    pub(crate) seq: i64,
    /// Row id; `null` when the row is missing.
    pub(crate) id: Option<Uuid>,
    /// Description of the fault.
    pub(crate) reason: String,
}

/// Lists audit rows of the tenant and its subsidiaries, oldest first.
#[utoipa::path(get, path = "/api/v1/audit", tag = "audit", params(AuditQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "One page of audit rows", body = Page<AuditView>),
        (status = 422, description = "Invalid filter or cursor", body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn list(
    mut read: ReadTx,
    ApiQuery(query): ApiQuery<AuditQuery>,
) -> Result<Json<Page<AuditView>>, ApiError> {
    let filter = query.filter()?;
    let page = PageQuery {
        cursor: query.cursor,
        limit: query.limit,
    }
    .to_request()?;
    let rows = store::audit_query::page(&mut read.tx, &filter, page).await?;
    let key = |row: &AuditItem| Cursor {
        at: row.occurred_at,
        id: row.id,
    };
    Ok(Json(into_page(rows, page, key, AuditView::from)))
}

/// Exports matching audit rows as CSV, streamed from the database.
#[utoipa::path(get, path = "/api/v1/audit.csv", tag = "audit", params(AuditQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "CSV with a header row; cells that start like a formula get a leading '", content_type = "text/csv", body = String),
        (status = 422, description = "Invalid filter", body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn export_csv(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(query): ApiQuery<AuditQuery>,
) -> Result<Response, ApiError> {
    let filter = query.filter()?;
    let mut tx = state.store().begin_read_only(&principal.tenant).await?;
    let (chunk_tx, mut chunk_rx) =
        tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(CSV_CHANNEL_CHUNKS);

    tokio::spawn(async move {
        let mut buffer = String::new();
        csv::push_record(&mut buffer, CSV_COLUMNS);
        let mut rows = store::audit_query::stream(&mut tx, &filter);
        while let Some(row) = rows.next().await {
            let item = match row {
                Ok(item) => item,
                Err(error) => {
                    tracing::error!(%error, "audit export failed while reading rows");
                    let _ = chunk_tx
                        .send(Err(std::io::Error::other("audit export failed")))
                        .await;
                    return;
                }
            };
            push_item(&mut buffer, &item);
            if buffer.len() >= CSV_CHUNK_BYTES {
                let chunk = Bytes::from(std::mem::take(&mut buffer));
                if chunk_tx.send(Ok(chunk)).await.is_err() {
                    return;
                }
            }
        }
        if !buffer.is_empty() {
            let _ = chunk_tx.send(Ok(Bytes::from(buffer))).await;
        }
    });

    let body = futures::stream::poll_fn(move |context| chunk_rx.poll_recv(context));
    let mut response = Body::from_stream(body).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    headers.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_static("attachment; filename=\"audit.csv\""),
    );
    Ok(response)
}

fn push_item(buffer: &mut String, item: &AuditItem) {
    let seq = item.seq.to_string();
    let id = item.id.to_string();
    let occurred_at = item
        .occurred_at
        .format("%Y-%m-%dT%H:%M:%S%.6fZ")
        .to_string();
    let diff = item.diff.to_string();
    let cells = [
        seq.as_str(),
        id.as_str(),
        item.tenant_path.as_str(),
        occurred_at.as_str(),
        item.actor_type.as_str(),
        item.actor_id.as_str(),
        item.entity_type.as_str(),
        item.entity_id.as_str(),
        item.action.as_str(),
        diff.as_str(),
        item.ip.as_deref().unwrap_or(""),
        item.user_agent.as_deref().unwrap_or(""),
        item.request_id.as_deref().unwrap_or(""),
        item.prev_hash.as_str(),
        item.row_hash.as_str(),
    ];
    csv::push_record(buffer, cells);
}

/// Recomputes the audit chain of the caller's own tenant and names the first
/// bad row.
#[utoipa::path(get, path = "/api/v1/audit/verify", tag = "audit", security(("bearer" = [])),
    responses(
        (status = 200, description = "Result of the check", body = VerifyView),
        (status = 401, description = "Missing or invalid token", body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn verify(mut read: ReadTx) -> Result<Json<VerifyView>, ApiError> {
    let report = store::audit::verify(&mut read.tx).await?;
    let view = VerifyView {
        intact: report.first_bad.is_none(),
        rows_checked: report.rows_checked,
        first_bad: report.first_bad.map(|bad| BadRowView {
            seq: bad.seq,
            id: bad.id,
            reason: bad.reason,
        }),
    };
    Ok(Json(view))
}
