//! Outcomes of a connector's scopes: crawled (covered, partial or skipped), failed,
//! cancelled, or failed together because the listing failed.

use agents::CrawlError;

use super::{ConnectorState, ScopeState, record_scopes};
use crate::actors::crawler::ScopeResult;
use crate::scan::{ALL_SCOPES, ScopeOutcome, ScopeStatus};

/// Stores the outcome of scope `index` and writes its row; returns `false` when the scope
/// had already settled (a late report after a cancel), leaving it unchanged.
fn settle(state: &mut ConnectorState, index: usize, outcome: ScopeOutcome) -> bool {
    if state.scopes[index].outcome.is_some() {
        return false;
    }
    crate::metrics::scope_settled(outcome.status.as_str());
    record_scopes(state, vec![outcome.to_record()]);
    state.scopes[index].outcome = Some(outcome);
    true
}

/// Records a scope whose crawl finished: skipped when the source said the scope does not
/// apply, partial with gaps or incomplete listings, covered otherwise.
pub(super) fn record_crawled(
    state: &mut ConnectorState,
    index: usize,
    result: ScopeResult,
) -> bool {
    let report = result.report;
    let status = if report.skipped.is_some() {
        ScopeStatus::Skipped
    } else if report.is_complete() {
        ScopeStatus::Covered
    } else {
        ScopeStatus::Partial
    };
    let scope = &state.scopes[index];
    let mut issues = report.issues;
    issues.extend(result.issues);
    let outcome = ScopeOutcome {
        connector: state.args.name.clone(),
        provider: scope.scope.provider.clone(),
        scope: scope.scope.id.clone(),
        status,
        attempts: scope.attempts,
        error: None,
        skipped: report.skipped,
        num_findings: result.num_findings,
        num_failed_systems: result.num_failed_systems,
        gaps: report.gaps,
        incomplete: report.incomplete,
        issues,
    };
    if !settle(state, index, outcome) {
        return false;
    }
    state.scopes[index].seen = result.seen_external_ids;
    state.system_ids.extend(result.system_ids);
    true
}

/// Records a scope as failed with `message`.
pub(super) fn record_failed(state: &mut ConnectorState, index: usize, message: String) -> bool {
    let outcome = unsettled(state, &state.scopes[index], ScopeStatus::Failed, message);
    settle(state, index, outcome)
}

/// Records every open scope as cancelled.
pub(super) fn record_cancelled(state: &mut ConnectorState) {
    let message = "scan cancelled before the scope settled".to_owned();
    for index in 0..state.scopes.len() {
        let outcome = unsettled(
            state,
            &state.scopes[index],
            ScopeStatus::Cancelled,
            message.clone(),
        );
        settle(state, index, outcome);
    }
    if state.scopes.is_empty() {
        // Cancelled while listing: one entry stands for the scopes never listed.
        let scope = agents::Scope::new(state.args.source.provider(), ALL_SCOPES);
        push_placeholder(state, scope, ScopeStatus::Cancelled, message);
    }
}

/// Records the failure to list scopes as one failed entry for all of them.
pub(super) fn record_listing_failed(state: &mut ConnectorState, error: CrawlError) {
    let message = format!(
        "listing the scopes of connector `{}` failed: {error}",
        state.args.name
    );
    tracing::error!(connector.name = %state.args.name, scan.id = %state.args.scan_id, error = %message, "scope listing failed");
    let scope = agents::Scope::new(state.args.source.provider(), ALL_SCOPES);
    push_placeholder(state, scope, ScopeStatus::Failed, message);
}

/// Adds a settled entry that stands for scopes that were never listed.
fn push_placeholder(
    state: &mut ConnectorState,
    scope: agents::Scope,
    status: ScopeStatus,
    message: String,
) {
    state.scopes.push(ScopeState {
        scope,
        attempts: 0,
        outcome: None,
        seen: Vec::new(),
    });
    let index = state.scopes.len() - 1;
    let outcome = unsettled(state, &state.scopes[index], status, message);
    settle(state, index, outcome);
}

fn unsettled(
    state: &ConnectorState,
    scope: &ScopeState,
    status: ScopeStatus,
    message: String,
) -> ScopeOutcome {
    ScopeOutcome::unsettled(
        &state.args.name,
        &scope.scope.provider,
        &scope.scope.id,
        status,
        scope.attempts,
        message,
    )
}
