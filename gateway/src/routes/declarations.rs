//! `PATCH /api/v1/systems/{id}`: facts a team declares about an AI system
//! through the API, in the fields of a `secruna.yaml` declaration.
//!
//! Declared fields take precedence over the project's `secruna.yaml` and
//! over inferred facts. The change reclassifies the system from its open
//! findings and re-evaluates it against the tenant's subscribed frameworks
//! in the same transaction as the audit row. Scans overlay the same stored
//! fields on the project's `secruna.yaml`, so a rescan keeps them.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::State;
use proto::{Declaration, DeclarationError, Finding, FindingKind};
use serde_json::{Map, Value};
use store::declared::Reclassified;
use store::evaluations::EvaluationUpsert;
use store::findings::FindingRow;
use uuid::Uuid;

use super::inventory::SystemView;
use crate::audited::AuditedTx;
use crate::extract::{ApiJson, ApiPath};
use crate::problem::{ApiError, Problem};
use crate::state::AppState;

/// Declares facts about a system. The body is an object of `secruna.yaml`
/// fields (`purpose`, `role`, `annex_iii`, `article_5`, `human_oversight`,
/// `markets`, ...); a field set to `null` drops its earlier declaration.
#[utoipa::path(patch, path = "/api/v1/systems/{id}", tag = "inventory",
    request_body(content = Object, description = "secruna.yaml fields to declare; null removes one"),
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "System id")),
    responses(
        (status = 200, description = "System reclassified and re-evaluated", body = SystemView),
        (status = 403, description = "Read-only principal", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such system in the tenant", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid field", body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn declare(
    State(state): State<AppState>,
    mut tx: AuditedTx,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<Value>,
) -> Result<Json<SystemView>, ApiError> {
    let Value::Object(patch) = body else {
        return Err(ApiError::BadRequest(
            "the body must be a JSON object of secruna.yaml fields".to_owned(),
        ));
    };
    for (key, value) in &patch {
        if !value.is_null() {
            validate_field(key, value)?;
        }
    }
    let not_found = || ApiError::NotFound {
        entity: "system",
        id: id.to_string(),
    };
    let before = store::listing::system(tx.tx(), id)
        .await?
        .ok_or_else(not_found)?;
    let (declared_before, scan_id) = store::declared::get(tx.tx(), id)
        .await?
        .ok_or_else(not_found)?;
    let declared = apply_patch(&declared_before, &patch);
    let rows = store::findings::list_open_for_system(tx.tx(), id).await?;
    let findings = to_findings(rows);
    let declaration = merged_declaration(&findings, &declared)?;
    let classification =
        coordinator::classify::classify(&before.root, &findings, Some(&declaration));

    let update = Reclassified {
        declared: declared.clone(),
        name: classification.name.clone(),
        risk_class: classification.risk_class.as_str().to_owned(),
        annex_iii_area: classification.annex_iii_area.clone(),
        gpai: classification.gpai,
        reasons: serde_json::json!(classification.reasons),
        confidence: classification.confidence,
        facts: serde_json::to_value(&classification.facts)
            .map_err(|error| ApiError::Internal(format!("serialising facts failed: {error}")))?,
    };
    store::declared::reclassify(tx.tx(), id, &update).await?;
    let num_verdicts = evaluate(&state, &mut tx, id, scan_id, &classification.facts).await?;

    let diff = serde_json::json!({
        "declared": field_diff(&declared_before, &declared),
        "risk_class": changed(&Value::from(before.risk_class.clone()), &Value::from(update.risk_class.clone())),
        "verdicts_written": num_verdicts,
    });
    tx.record("system", &id.to_string(), "system.declare", diff)
        .await?;
    let after = store::listing::system(tx.tx(), id)
        .await?
        .ok_or_else(not_found)?;
    tx.commit().await?;
    Ok(Json(after.into()))
}

/// Checks one declared field by parsing it alone as a declaration, so the
/// problem names the field and the values it accepts.
fn validate_field(key: &str, value: &Value) -> Result<(), ApiError> {
    let mut single = Map::new();
    single.insert(key.to_owned(), value.clone());
    // JSON is valid YAML, so the declaration parser checks the value with
    // the same rules and messages as a secruna.yaml file.
    let text = Value::Object(single).to_string();
    match Declaration::from_yaml(&text) {
        Ok(_) => Ok(()),
        Err(DeclarationError::Invalid { field, message, .. }) => Err(ApiError::invalid(
            field.unwrap_or_else(|| key.to_owned()),
            message,
        )),
        Err(other) => Err(ApiError::invalid(key, other.to_string())),
    }
}

/// Applies `patch` to the stored declared fields: `null` removes a field.
fn apply_patch(declared: &Value, patch: &Map<String, Value>) -> Value {
    let mut fields = declared.as_object().cloned().unwrap_or_default();
    for (key, value) in patch {
        if value.is_null() {
            fields.remove(key);
        } else {
            fields.insert(key.clone(), value.clone());
        }
    }
    Value::Object(fields)
}

/// Turns stored findings back into the classifier's input; rows of a kind
/// this build does not know are skipped.
fn to_findings(rows: Vec<FindingRow>) -> Vec<Finding> {
    rows.into_iter()
        .filter_map(|row| {
            let kind = row.kind.parse::<FindingKind>().ok()?;
            let attributes: BTreeMap<String, String> =
                serde_json::from_value(row.attributes).unwrap_or_default();
            Some(Finding {
                source: row.source,
                scope: row.scope,
                external_id: row.external_id,
                kind,
                subject: row.subject,
                path: row.path,
                line: row.line.and_then(|line| u32::try_from(line).ok()),
                confidence: row.confidence,
                project_root: row.project_root,
                attributes,
                evidence: row.evidence,
            })
        })
        .collect()
}

/// Overlays the API-declared fields on the project's `secruna.yaml`, if it
/// has one.
fn merged_declaration(findings: &[Finding], declared: &Value) -> Result<Declaration, ApiError> {
    let file = findings
        .iter()
        .find(|finding| finding.kind == FindingKind::Declaration)
        .and_then(|finding| Declaration::from_attributes(&finding.attributes).ok())
        .unwrap_or_default();
    file.overlaid(declared)
        .map_err(|error| ApiError::invalid("declared", error.to_string()))
}

/// Evaluates the system against every subscribed framework and stores the
/// verdicts; returns how many were inserted or changed.
async fn evaluate(
    state: &AppState,
    tx: &mut AuditedTx,
    system_id: Uuid,
    scan_id: Uuid,
    facts: &rule_book::Facts,
) -> Result<u64, ApiError> {
    let today = chrono::Utc::now().date_naive();
    let frameworks = store::subscriptions::list(tx.tx()).await?;
    let mut evaluations = Vec::new();
    for framework in &frameworks {
        let verdicts = state
            .rule_book()
            .evaluate(framework, facts, today)
            .map_err(|error| {
                ApiError::Internal(format!("evaluating `{framework}` failed: {error}"))
            })?;
        evaluations.extend(verdicts.into_iter().map(|verdict| EvaluationUpsert {
            system_id,
            framework: verdict.framework,
            rule_id: verdict.rule_id,
            status: verdict.status,
            reasons: serde_json::json!(verdict.reasons),
            evidence_required: serde_json::json!(verdict.evidence_required),
            scan_id,
        }));
    }
    Ok(store::evaluations::upsert_batch(tx.tx(), &evaluations).await?)
}

/// Returns `{field: {"from": .., "to": ..}}` for every declared field that changed.
fn field_diff(before: &Value, after: &Value) -> Value {
    let empty = Map::new();
    let before = before.as_object().unwrap_or(&empty);
    let after = after.as_object().unwrap_or(&empty);
    let mut diff = Map::new();
    for key in before.keys().chain(after.keys()) {
        let old = before.get(key).unwrap_or(&Value::Null);
        let new = after.get(key).unwrap_or(&Value::Null);
        if old != new {
            diff.insert(key.clone(), serde_json::json!({"from": old, "to": new}));
        }
    }
    Value::Object(diff)
}

/// Returns `{"from": .., "to": ..}` when the value changed, `null` otherwise.
fn changed(before: &Value, after: &Value) -> Value {
    if before == after {
        Value::Null
    } else {
        serde_json::json!({"from": before, "to": after})
    }
}
