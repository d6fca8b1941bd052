//! Reads everything an evidence pack contains, in one read-only transaction, so the
//! inventory, the verdicts and the audit chain head are one consistent snapshot.

use std::collections::VecDeque;

use futures::TryStreamExt;
use rule_book::RuleBook;
use serde_json::{Value, json};
use store::listing::{Cursor, EvaluationFilter, PageRequest};
use store::{Store, TenantContext, TenantTx};

use super::{AUDIT_EXCERPT_ROWS, AuditHead, EvidenceError};

/// Rows read per page of verdicts.
const EVALUATION_PAGE_ROWS: i64 = 1000;

/// The data of one pack, ready to be written.
#[derive(Debug, Clone, PartialEq)]
pub struct EvidenceData {
    /// Tenant slug path.
    pub tenant: String,
    /// Framework slug.
    pub framework: String,
    /// Framework title.
    pub framework_title: String,
    /// Framework version.
    pub framework_version: String,
    /// Rule book version hash.
    pub rule_book_version_hash: String,
    /// Head of the tenant's audit chain at reading time.
    pub audit_chain_head: Option<AuditHead>,
    /// Reading time, RFC 3339.
    pub generated_at: String,
    /// Actor that requested the pack.
    pub generated_by: String,
    /// JSON array of systems, each with its open findings.
    pub inventory: Value,
    /// JSON array of the framework's verdicts.
    pub evaluations: Value,
    /// JSON array of the latest audit rows, oldest first.
    pub audit_excerpt: Value,
}

/// Reads the pack data of `framework` for the tenant of `ctx`.
pub async fn collect(
    store: &Store,
    ctx: &TenantContext,
    rule_book: &RuleBook,
    framework: &str,
    generated_by: &str,
) -> Result<EvidenceData, EvidenceError> {
    let definition = rule_book
        .framework(framework)
        .ok_or_else(|| EvidenceError::UnknownFramework(framework.to_owned()))?;
    let mut tx = store.begin_read_only(ctx).await?;
    let inventory = inventory(&mut tx).await?;
    let evaluations = evaluations(&mut tx, framework).await?;
    let (audit_excerpt, audit_chain_head) = audit(&mut tx).await?;
    tx.commit().await?;
    Ok(EvidenceData {
        tenant: ctx.path().slug_path(),
        framework: framework.to_owned(),
        framework_title: definition.title.clone(),
        framework_version: definition.version.clone(),
        rule_book_version_hash: rule_book.version_hash().to_owned(),
        audit_chain_head,
        generated_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        generated_by: generated_by.to_owned(),
        inventory,
        evaluations,
        audit_excerpt,
    })
}

/// Lists every visible system with its open findings.
async fn inventory(tx: &mut TenantTx) -> Result<Value, EvidenceError> {
    let systems = store::systems::list(tx).await?;
    let mut items = Vec::with_capacity(systems.len());
    for system in systems {
        let findings = store::findings::list_open_for_system(tx, system.id).await?;
        let findings: Vec<Value> = findings
            .into_iter()
            .map(|finding| {
                json!({
                    "id": finding.id,
                    "source": finding.source,
                    "scope": finding.scope,
                    "external_id": finding.external_id,
                    "kind": finding.kind,
                    "subject": finding.subject,
                    "path": finding.path,
                    "line": finding.line,
                    "confidence": finding.confidence,
                    "attributes": finding.attributes,
                    "evidence": finding.evidence,
                })
            })
            .collect();
        items.push(json!({
            "id": system.id,
            "tenant": tenant_slug(&system.tenant_path),
            "source": system.source,
            "external_id": system.external_id,
            "name": system.name,
            "root": system.root,
            "kinds": system.kinds,
            "risk_class": system.risk_class,
            "annex_iii_area": system.annex_iii_area,
            "gpai": system.gpai,
            "reasons": system.reasons,
            "confidence": system.confidence,
            "facts": system.facts,
            "updated_at": system.updated_at,
            "findings": findings,
        }));
    }
    Ok(Value::Array(items))
}

/// Lists every verdict of the framework, page by page.
async fn evaluations(tx: &mut TenantTx, framework: &str) -> Result<Value, EvidenceError> {
    let filter = EvaluationFilter {
        frameworks: vec![framework.to_owned()],
        system_id: None,
        status: None,
    };
    let mut items = Vec::new();
    let mut after = None;
    loop {
        let page = PageRequest {
            after,
            limit: EVALUATION_PAGE_ROWS,
        };
        let rows = store::listing::evaluations(tx, &filter, page).await?;
        let num_rows = rows.len();
        if let Some(last) = rows.last() {
            after = Some(Cursor {
                at: last.created_at,
                id: last.id,
            });
        }
        items.extend(rows.into_iter().map(|row| {
            json!({
                "id": row.id,
                "system_id": row.system_id,
                "framework": row.framework,
                "rule_id": row.rule_id,
                "status": row.status,
                "reasons": row.reasons,
                "evidence_required": row.evidence_required,
                "updated_at": row.updated_at,
            })
        }));
        if (num_rows as i64) < EVALUATION_PAGE_ROWS {
            break;
        }
    }
    Ok(Value::Array(items))
}

/// Streams the audit rows, keeping the latest [`AUDIT_EXCERPT_ROWS`] and the head of the
/// tenant's own chain. Client addresses and user agents are left out of the excerpt,
/// because they are personal data the pack's readers do not need.
async fn audit(tx: &mut TenantTx) -> Result<(Value, Option<AuditHead>), EvidenceError> {
    let own_path = tx.context().path().as_str().to_owned();
    let mut latest: VecDeque<Value> = VecDeque::with_capacity(AUDIT_EXCERPT_ROWS);
    let mut head: Option<AuditHead> = None;
    let filter = store::audit_query::AuditFilter::default();
    let mut rows = store::audit_query::stream(tx, &filter);
    while let Some(row) = rows.try_next().await? {
        if row.tenant_path == own_path && head.as_ref().is_none_or(|head| row.seq > head.seq) {
            head = Some(AuditHead {
                seq: row.seq,
                row_hash: row.row_hash.clone(),
            });
        }
        if latest.len() == AUDIT_EXCERPT_ROWS {
            latest.pop_front();
        }
        latest.push_back(json!({
            "id": row.id,
            "tenant": tenant_slug(&row.tenant_path),
            "seq": row.seq,
            "actor_type": row.actor_type,
            "actor_id": row.actor_id,
            "entity_type": row.entity_type,
            "entity_id": row.entity_id,
            "action": row.action,
            "diff": row.diff,
            "occurred_at": row.occurred_at,
            "request_id": row.request_id,
            "prev_hash": row.prev_hash,
            "row_hash": row.row_hash,
        }));
    }
    Ok((Value::Array(latest.into()), head))
}

fn tenant_slug(ltree: &str) -> String {
    store::TenantPath::from_ltree(ltree)
        .map(|path| path.slug_path())
        .unwrap_or_else(|_| ltree.to_owned())
}
