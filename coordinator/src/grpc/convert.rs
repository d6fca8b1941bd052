//! Conversions between stored rows and `secruna.v1` messages, page tokens, and the
//! mapping of store errors to status codes.

use chrono::{DateTime, SecondsFormat, Utc};
use proto::v1;
use store::listing::{Cursor, PageRequest};
use tonic::Status;
use tracing::warn;
use uuid::Uuid;

/// Page size used when the request leaves it 0.
pub(crate) const DEFAULT_PAGE_SIZE: u32 = 100;

/// Largest page size a request may ask for.
pub(crate) const MAX_PAGE_SIZE: u32 = 500;

/// Maps a store error to `UNAVAILABLE` and logs it once; the message carries no detail
/// of the database.
pub(crate) fn store_status(error: store::Error) -> Status {
    warn!(%error, "a gRPC call failed in the store");
    Status::unavailable("reading or writing the database failed; retry later")
}

/// Parses a UUID from the request field `field`.
pub(crate) fn parse_id(field: &str, value: &str) -> Result<Uuid, Status> {
    if value.is_empty() {
        return Err(Status::invalid_argument(format!(
            "field `{field}` is empty: set it to a UUID"
        )));
    }
    Uuid::parse_str(value)
        .map_err(|_| Status::invalid_argument(format!("field `{field}` is `{value}`, not a UUID")))
}

/// Builds the page request of a list call from its `page_size` and `page_token`, reading
/// one row more than the page so the response can tell whether a next page exists.
pub(crate) fn page_request(
    page_size: u32,
    page_token: &str,
) -> Result<(PageRequest, usize), Status> {
    let size = match page_size {
        0 => DEFAULT_PAGE_SIZE,
        1..=MAX_PAGE_SIZE => page_size,
        _ => {
            return Err(Status::invalid_argument(format!(
                "field `page_size` is {page_size}: use 1 to {MAX_PAGE_SIZE}, or 0 for \
                 {DEFAULT_PAGE_SIZE}"
            )));
        }
    };
    let after = if page_token.is_empty() {
        None
    } else {
        Some(decode_cursor(page_token)?)
    };
    let page = PageRequest {
        after,
        limit: i64::from(size) + 1,
    };
    Ok((page, size as usize))
}

/// Cuts `rows` to `size` and returns the token of the next page, empty when `rows` held
/// no more than `size`.
pub(crate) fn next_page<T>(
    rows: &mut Vec<T>,
    size: usize,
    key: impl Fn(&T) -> (DateTime<Utc>, Uuid),
) -> String {
    if rows.len() <= size {
        return String::new();
    }
    rows.truncate(size);
    let (at, id) = key(&rows[size - 1]);
    encode_cursor(Cursor { at, id })
}

/// Encodes a cursor as an opaque token: hex of `<nanoseconds since epoch>/<uuid>`.
fn encode_cursor(cursor: Cursor) -> String {
    let nanos = cursor.at.timestamp_nanos_opt().unwrap_or_default();
    hex::encode(format!("{nanos}/{}", cursor.id))
}

/// Decodes a token of [`encode_cursor`].
fn decode_cursor(token: &str) -> Result<Cursor, Status> {
    let invalid = || {
        Status::invalid_argument(
            "field `page_token` is invalid: pass next_page_token of the previous response",
        )
    };
    let bytes = hex::decode(token).map_err(|_| invalid())?;
    let text = String::from_utf8(bytes).map_err(|_| invalid())?;
    let (nanos, id) = text.split_once('/').ok_or_else(invalid)?;
    let nanos: i64 = nanos.parse().map_err(|_| invalid())?;
    let id = Uuid::parse_str(id).map_err(|_| invalid())?;
    Ok(Cursor {
        at: DateTime::from_timestamp_nanos(nanos),
        id,
    })
}

/// Formats a time as RFC 3339 with microseconds, as Postgres stores it.
pub(crate) fn time(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// Returns the strings of a JSON array; other values give an empty list.
pub(crate) fn strings(value: &serde_json::Value) -> Vec<String> {
    value
        .as_array()
        .map(|items| {
            items
                .iter()
                .map(|item| {
                    item.as_str()
                        .map_or_else(|| item.to_string(), str::to_owned)
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Converts a tenant ltree path back to its slug path, falling back to the ltree text.
pub(crate) fn tenant_slug(ltree: &str) -> String {
    store::TenantPath::from_ltree(ltree)
        .map(|path| path.slug_path())
        .unwrap_or_else(|_| ltree.to_owned())
}

/// Converts a listed system.
pub(crate) fn system(item: store::listing::SystemItem) -> v1::AiSystem {
    v1::AiSystem {
        system_id: item.id.to_string(),
        tenant: tenant_slug(&item.tenant_path),
        source: item.source,
        name: item.name,
        root: item.root,
        kinds: item.kinds,
        risk_class: item.risk_class,
        annex_iii_area: item.annex_iii_area.unwrap_or_default(),
        gpai: item.gpai,
        reasons: strings(&item.reasons),
        confidence: item.confidence,
        facts_json: item.facts.to_string(),
        created_at: time(item.created_at),
        updated_at: time(item.updated_at),
    }
}

/// Converts a stored finding.
pub(crate) fn stored_finding(row: store::findings::FindingRow) -> v1::StoredFinding {
    let attributes = row
        .attributes
        .as_object()
        .map(|fields| {
            fields
                .iter()
                .map(|(key, value)| {
                    let text = value
                        .as_str()
                        .map_or_else(|| value.to_string(), str::to_owned);
                    (key.clone(), text)
                })
                .collect()
        })
        .unwrap_or_default();
    v1::StoredFinding {
        finding_id: row.id.to_string(),
        finding: Some(v1::Finding {
            source: row.source,
            scope: row.scope,
            external_id: row.external_id,
            kind: row.kind,
            subject: row.subject,
            path: row.path,
            line: row
                .line
                .and_then(|line| u32::try_from(line).ok())
                .unwrap_or(0),
            confidence: row.confidence,
            project_root: row.project_root,
            attributes,
            evidence: row.evidence.unwrap_or_default(),
        }),
        status: row.status,
    }
}

/// Converts a stored verdict.
pub(crate) fn evaluation_row(row: store::evaluations::EvaluationRow) -> v1::Evaluation {
    v1::Evaluation {
        evaluation_id: row.id.to_string(),
        system_id: row.system_id.to_string(),
        framework: row.framework,
        rule_id: row.rule_id,
        status: row.status,
        reasons: strings(&row.reasons),
        evidence_required: strings(&row.evidence_required),
        updated_at: time(row.updated_at),
    }
}

/// Converts a listed verdict.
pub(crate) fn evaluation_item(item: store::listing::EvaluationItem) -> v1::Evaluation {
    v1::Evaluation {
        evaluation_id: item.id.to_string(),
        system_id: item.system_id.to_string(),
        framework: item.framework,
        rule_id: item.rule_id,
        status: item.status,
        reasons: strings(&item.reasons),
        evidence_required: strings(&item.evidence_required),
        updated_at: time(item.updated_at),
    }
}

/// Converts a stored scan.
pub(crate) fn scan(row: store::scans::ScanRow) -> v1::Scan {
    v1::Scan {
        scan_id: row.id.to_string(),
        source: row.source,
        target: row.target,
        requested_by: row.requested_by,
        status: row.status,
        summary_json: row.summary.to_string(),
        error: row.error.unwrap_or_default(),
        started_at: time(row.started_at),
        finished_at: row.finished_at.map(time).unwrap_or_default(),
    }
}
