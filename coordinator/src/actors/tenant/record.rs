//! Validation and recording of a scan request: targets, connectors, frameworks, the scan
//! row and its audit row.

use std::path::Path;
use std::sync::Arc;

use agents::{ConnectorSpec, Source};
use serde_json::json;
use uuid::Uuid;

use super::TenantState;
use crate::crawl::{CODE_KIND, CodeSource, canonical_scope_id};
use crate::scan::{ScanError, ScanRequest};

/// Framework a tenant is subscribed to when it has no subscription yet.
const DEFAULT_FRAMEWORK: &str = "eu-ai-act";

/// A connector of a scan with the source built from it.
pub(crate) struct PlannedConnector {
    /// Connector name, unique in the scan.
    pub(crate) name: String,
    /// Provider family, for outcomes recorded before any scope is listed.
    pub(crate) provider: String,
    /// The built source.
    pub(crate) source: Arc<dyn Source>,
}

/// A validated and recorded scan.
pub(crate) struct RecordedScan {
    /// Id of the scan row.
    pub(crate) scan_id: Uuid,
    /// Frameworks to evaluate.
    pub(crate) frameworks: Vec<String>,
    /// Connectors to start, the code targets first.
    pub(crate) connectors: Vec<PlannedConnector>,
}

/// Returns the scope ids of the targets, rejecting a target that repeats or lies inside
/// another, since its files would be scanned twice and its systems stored twice.
fn distinct_scopes(targets: &[std::path::PathBuf]) -> Result<Vec<String>, ScanError> {
    let scopes: Vec<String> = targets
        .iter()
        .map(|target| canonical_scope_id(target))
        .collect();
    for (index, outer) in scopes.iter().enumerate() {
        for inner in scopes.iter().skip(index + 1) {
            let (outer_path, inner_path) = (Path::new(outer), Path::new(inner));
            if inner_path.starts_with(outer_path) {
                return Err(ScanError::OverlappingTargets {
                    outer: outer.clone(),
                    inner: inner.clone(),
                });
            }
            if outer_path.starts_with(inner_path) {
                return Err(ScanError::OverlappingTargets {
                    outer: inner.clone(),
                    inner: outer.clone(),
                });
            }
        }
    }
    Ok(scopes)
}

/// Builds the source of every connector of the request: the code targets as one `code`
/// connector, then each spec through the registry.
fn plan_connectors(
    state: &TenantState,
    request: &ScanRequest,
) -> Result<(Vec<PlannedConnector>, Vec<String>), ScanError> {
    if request.targets.is_empty() && request.connectors.is_empty() {
        return Err(ScanError::NoTargets);
    }
    let mut planned = Vec::new();
    let roots = distinct_scopes(&request.targets)?;
    if !roots.is_empty() {
        let spec = ConnectorSpec {
            name: CODE_KIND.to_owned(),
            kind: CODE_KIND.to_owned(),
            config: json!({ "paths": roots }),
            secret: None,
        };
        planned.push(build(state, &spec, request)?);
    }
    for spec in &request.connectors {
        if planned.iter().any(|connector| connector.name == spec.name) {
            return Err(ScanError::DuplicateConnector {
                name: spec.name.clone(),
            });
        }
        planned.push(build(state, spec, request)?);
    }
    Ok((planned, roots))
}

/// Builds one source. Kind `code` uses the registry's factory when one is registered, and
/// otherwise the built-in code source, which updates the request's progress counters.
fn build(
    state: &TenantState,
    spec: &ConnectorSpec,
    request: &ScanRequest,
) -> Result<PlannedConnector, ScanError> {
    let config = &state.args.shared.config;
    let registered = config.sources.kinds().any(|kind| kind == spec.kind);
    let built: Result<Arc<dyn Source>, agents::CrawlError> =
        if spec.kind == CODE_KIND && !registered {
            crate::crawl::code_roots(spec).map(|roots| {
                Arc::new(CodeSource::new(
                    config.code_options.clone(),
                    roots,
                    request.progress.clone(),
                )) as Arc<dyn Source>
            })
        } else {
            config.sources.build(spec)
        };
    let source = built.map_err(|error| ScanError::InvalidConnector {
        name: spec.name.clone(),
        message: error.message,
    })?;
    Ok(PlannedConnector {
        name: spec.name.clone(),
        provider: source.provider().to_owned(),
        source,
    })
}

/// Checks that every requested framework is in the rule book.
fn check_frameworks(state: &TenantState, frameworks: &[String]) -> Result<(), ScanError> {
    let rule_book = &state.args.shared.config.rule_book;
    for slug in frameworks {
        if rule_book.framework(slug).is_none() {
            let known: Vec<&str> = rule_book
                .frameworks()
                .map(|framework| framework.slug.as_str())
                .collect();
            return Err(ScanError::UnknownFramework {
                slug: slug.clone(),
                known: known.join(", "),
            });
        }
    }
    Ok(())
}

/// Validates the request, builds its sources, ensures the tenant and its subscription,
/// and inserts the scan row with its audit row.
pub(crate) async fn record_scan(
    state: &TenantState,
    request: &ScanRequest,
) -> Result<RecordedScan, ScanError> {
    let (connectors, roots) = plan_connectors(state, request)?;
    check_frameworks(state, &request.frameworks)?;

    let names: Vec<&str> = request
        .connectors
        .iter()
        .map(|spec| spec.name.as_str())
        .collect();
    let mut kinds: Vec<&str> = connectors
        .iter()
        .map(|connector| connector.provider.as_str())
        .collect();
    kinds.sort_unstable();
    kinds.dedup();
    let mut target_lines = roots.clone();
    target_lines.extend(names.iter().map(|name| format!("connector:{name}")));

    let mut tx = state.args.shared.config.store.begin(&state.ctx).await?;
    let tenant = store::tenants::ensure(&mut tx, &state.args.slug_path).await?;
    let frameworks = subscribe(&mut tx, &request.frameworks, &request.requested_by).await?;
    let new_scan = store::scans::NewScan {
        source: kinds.join(","),
        target: target_lines.join("\n"),
        requested_by: request.requested_by.clone(),
    };
    let scan = store::scans::create(&mut tx, new_scan).await?;
    let entry = crate::actors::audit_entry(
        &request.requested_by,
        "scan",
        &scan.id.to_string(),
        "scan.requested",
        json!({
            "tenant": tenant.slug,
            "targets": roots,
            "connectors": names,
            "frameworks": frameworks,
        }),
    );
    store::audit::append(&mut tx, entry).await?;
    tx.commit().await?;
    Ok(RecordedScan {
        scan_id: scan.id,
        frameworks,
        connectors,
    })
}

/// Adds `requested` to the tenant's subscription (or subscribes it to the default framework
/// when it has none) and returns the frameworks to evaluate, auditing any change.
async fn subscribe(
    tx: &mut store::TenantTx,
    requested: &[String],
    actor: &str,
) -> Result<Vec<String>, ScanError> {
    let current = store::subscriptions::list(tx).await?;
    let mut subscribed = current.clone();
    if requested.is_empty() && subscribed.is_empty() {
        subscribed.push(DEFAULT_FRAMEWORK.to_owned());
    }
    for slug in requested {
        if !subscribed.contains(slug) {
            subscribed.push(slug.clone());
        }
    }
    subscribed.sort();
    if subscribed != current {
        let slugs: Vec<&str> = subscribed.iter().map(String::as_str).collect();
        store::subscriptions::set(tx, &slugs).await?;
        let diff = json!({ "before": current, "after": subscribed });
        store::audit::append(
            tx,
            crate::actors::audit_entry(
                actor,
                "subscription",
                "frameworks",
                "subscription.updated",
                diff,
            ),
        )
        .await?;
    }
    if requested.is_empty() {
        Ok(subscribed)
    } else {
        Ok(requested.to_vec())
    }
}
