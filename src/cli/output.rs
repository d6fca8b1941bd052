//! Reads a finished scan back from the store and prints it as JSON or tables.

use std::collections::BTreeMap;

use coordinator::ScanOutcome;
use serde::Serialize;
use store::{Store, TenantContext, TenantPath};
use uuid::Uuid;

/// The `--format json` document.
#[derive(Debug, Serialize)]
pub(crate) struct Report {
    scan_id: Uuid,
    tenant: String,
    status: coordinator::ScanStatus,
    frameworks: Vec<String>,
    scopes: Vec<coordinator::ScopeOutcome>,
    systems: Vec<SystemReport>,
}

#[derive(Debug, Serialize)]
struct SystemReport {
    id: Uuid,
    name: String,
    root: String,
    kinds: Vec<String>,
    risk_class: String,
    annex_iii_area: Option<String>,
    gpai: bool,
    reasons: serde_json::Value,
    confidence: f32,
    findings: Vec<FindingReport>,
    evaluations: Vec<EvaluationReport>,
}

#[derive(Debug, Serialize)]
struct FindingReport {
    path: String,
    line: Option<i32>,
    kind: String,
    subject: String,
    confidence: f32,
}

#[derive(Debug, Serialize)]
struct EvaluationReport {
    framework: String,
    rule_id: String,
    status: String,
}

/// Loads the systems a scan wrote, with their open findings and evaluations.
pub(crate) async fn load_report(
    store: &Store,
    tenant: &str,
    outcome: &ScanOutcome,
) -> anyhow::Result<Report> {
    let path = TenantPath::from_slug_path(tenant)?;
    let mut tx = store.begin(&TenantContext::new(path)).await?;
    let mut systems = Vec::new();
    for row in store::systems::list(&mut tx).await? {
        if !outcome.system_ids.contains(&row.id) {
            continue;
        }
        let findings = store::findings::list_open_for_system(&mut tx, row.id).await?;
        let evaluations = store::evaluations::list_for_system(&mut tx, row.id).await?;
        systems.push(SystemReport {
            id: row.id,
            name: row.name,
            root: row.root,
            kinds: row.kinds,
            risk_class: row.risk_class,
            annex_iii_area: row.annex_iii_area,
            gpai: row.gpai,
            reasons: row.reasons,
            confidence: row.confidence,
            findings: findings
                .into_iter()
                .map(|finding| FindingReport {
                    path: finding.path,
                    line: finding.line,
                    kind: finding.kind,
                    subject: finding.subject,
                    confidence: finding.confidence,
                })
                .collect(),
            evaluations: evaluations
                .into_iter()
                .filter(|evaluation| outcome.frameworks.contains(&evaluation.framework))
                .map(|evaluation| EvaluationReport {
                    framework: evaluation.framework,
                    rule_id: evaluation.rule_id,
                    status: evaluation.status,
                })
                .collect(),
        });
    }
    tx.commit().await?;
    systems.sort_by(|left, right| left.root.cmp(&right.root));
    Ok(Report {
        scan_id: outcome.scan_id,
        tenant: tenant.to_owned(),
        status: outcome.status,
        frameworks: outcome.frameworks.clone(),
        scopes: outcome.scopes.clone(),
        systems,
    })
}

/// Prints the report as readable tables.
pub(crate) fn print_table(report: &Report, outcome: &ScanOutcome) {
    println!("scan {} for tenant {}: {}", report.scan_id, report.tenant, outcome.status.as_str());
    for scope in &report.scopes {
        let error = scope.error.as_deref().map(|error| format!(" ({error})")).unwrap_or_default();
        let status = match scope.status {
            coordinator::ScopeStatus::Covered => "covered",
            coordinator::ScopeStatus::Failed => "failed",
        };
        println!("  scope {}: {status}, {} findings{error}", scope.scope, scope.num_findings);
        for issue in &scope.issues {
            println!("    note: {issue}");
        }
    }
    if report.systems.is_empty() {
        println!("\nno AI system found");
        return;
    }
    for system in &report.systems {
        println!();
        println!("{} ({})", system.name, system.root);
        let area = system.annex_iii_area.as_deref().unwrap_or("-");
        println!(
            "  risk class {}   annex III {}   gpai {}   confidence {:.2}",
            system.risk_class, area, system.gpai, system.confidence
        );
        println!("  kinds: {}", system.kinds.join(", "));
        if let Some(reasons) = system.reasons.as_array() {
            for reason in reasons.iter().filter_map(|reason| reason.as_str()) {
                println!("  - {reason}");
            }
        }
        print_findings(&system.findings);
        print_verdicts(&system.evaluations);
    }
}

fn print_findings(findings: &[FindingReport]) {
    let width = findings.iter().map(|finding| finding.path.len() + 6).max().unwrap_or(10).min(60);
    println!("  {:<width$} {:<18} {}", "LOCATION", "KIND", "SUBJECT");
    for finding in findings {
        let location = match finding.line {
            Some(line) => format!("{}:{line}", finding.path),
            None => finding.path.clone(),
        };
        println!("  {location:<width$} {:<18} {}", finding.kind, finding.subject);
    }
}

fn print_verdicts(evaluations: &[EvaluationReport]) {
    let mut counts: BTreeMap<(&str, &str), usize> = BTreeMap::new();
    for evaluation in evaluations {
        *counts.entry((evaluation.framework.as_str(), evaluation.status.as_str())).or_default() += 1;
    }
    for ((framework, status), count) in counts {
        println!("  {framework}: {count} {status}");
    }
    for evaluation in evaluations.iter().filter(|evaluation| evaluation.status == "fail") {
        println!("  FAIL {}", evaluation.rule_id);
    }
}
