//! Reads a finished scan back from the store and prints it as JSON or tables.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Write as _;

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

/// Writes `text` to stdout. A closed pipe (`secruna scan ... | head`) ends the output
/// quietly instead of failing the command.
pub(crate) fn write_stdout(text: &str) -> std::io::Result<()> {
    let mut stdout = std::io::stdout().lock();
    let written = stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush());
    match written {
        Err(error) if error.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other,
    }
}

/// Escapes control characters, so that names and paths taken from a scanned tree cannot
/// move the cursor, recolour the terminal or fake extra lines of output.
fn printable(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for character in text.chars() {
        if character.is_control() {
            escaped.extend(character.escape_default());
        } else {
            escaped.push(character);
        }
    }
    escaped
}

/// Renders the report as readable tables.
pub(crate) fn render_table(report: &Report, outcome: &ScanOutcome) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "scan {} for tenant {}: {}",
        report.scan_id,
        printable(&report.tenant),
        outcome.status.as_str()
    );
    render_scopes(&mut out, &report.scopes);
    if report.systems.is_empty() {
        let _ = writeln!(out, "\nno AI system found");
        return out;
    }
    for system in &report.systems {
        let _ = writeln!(out);
        let _ = writeln!(
            out,
            "{} ({})",
            printable(&system.name),
            printable(&system.root)
        );
        let area = system.annex_iii_area.as_deref().unwrap_or("-");
        let _ = writeln!(
            out,
            "  risk class {}   annex III {}   gpai {}   confidence {:.2}",
            system.risk_class, area, system.gpai, system.confidence
        );
        let _ = writeln!(out, "  kinds: {}", system.kinds.join(", "));
        if let Some(reasons) = system.reasons.as_array() {
            for reason in reasons.iter().filter_map(|reason| reason.as_str()) {
                let _ = writeln!(out, "  - {}", printable(reason));
            }
        }
        render_findings(&mut out, &system.findings);
        render_verdicts(&mut out, &system.evaluations);
    }
    out
}

/// Renders the coverage of each scope: a table, then why each scope not fully covered
/// falls short.
fn render_scopes(out: &mut String, scopes: &[coordinator::ScopeOutcome]) {
    let rows: Vec<[String; 5]> = scopes
        .iter()
        .map(|scope| {
            [
                printable(&scope.connector),
                printable(&scope.scope),
                scope.status.as_str().to_owned(),
                scope.num_findings.to_string(),
                scope.attempts.to_string(),
            ]
        })
        .collect();
    let header = ["CONNECTOR", "SCOPE", "STATUS", "FINDINGS", "ATTEMPTS"];
    let widths: Vec<usize> = (0..header.len())
        .map(|column| {
            rows.iter()
                .map(|row| row[column].chars().count())
                .chain([header[column].len()])
                .max()
                .unwrap_or(0)
                .min(60)
        })
        .collect();
    let line = |cells: [&str; 5]| {
        let padded: Vec<String> = cells
            .iter()
            .zip(&widths)
            .map(|(cell, width)| format!("{cell:<width$}"))
            .collect();
        format!("  {}\n", padded.join("  ").trim_end())
    };
    out.push_str(&line(header));
    for row in &rows {
        out.push_str(&line([&row[0], &row[1], &row[2], &row[3], &row[4]]));
    }
    for scope in scopes {
        render_scope_notes(out, scope);
    }
}

/// Lists why one scope falls short, and its non-fatal issues.
fn render_scope_notes(out: &mut String, scope: &coordinator::ScopeOutcome) {
    let name = format!(
        "{} {}",
        printable(&scope.connector),
        printable(&scope.scope)
    );
    if let Some(error) = &scope.error {
        let _ = writeln!(out, "  {name}: {}", printable(error));
    }
    if let Some(reason) = &scope.skipped {
        let _ = writeln!(out, "  {name}: skipped: {}", printable(reason));
    }
    for gap in &scope.gaps {
        let _ = writeln!(
            out,
            "  {name}: {} denied; grant {}: {}",
            printable(&gap.service),
            printable(&gap.permission),
            printable(&gap.message)
        );
    }
    for reason in &scope.incomplete {
        let _ = writeln!(out, "  {name}: incomplete: {}", printable(reason));
    }
    for issue in &scope.issues {
        let _ = writeln!(out, "    note: {}", printable(issue));
    }
}

/// Renders stored connectors as a table, without their secrets.
pub(crate) fn render_connectors(rows: &[store::connectors::ConnectorRow]) -> String {
    let mut out = String::new();
    if rows.is_empty() {
        out.push_str("no connector stored; add some with `secruna connectors apply FILE`\n");
        return out;
    }
    let name_width = rows
        .iter()
        .map(|row| row.name.chars().count())
        .max()
        .unwrap_or(4)
        .clamp(4, 40);
    let _ = writeln!(
        out,
        "{:<name_width$}  {:<9}  SECRET  CONFIG",
        "NAME", "KIND"
    );
    for row in rows {
        let secret = if row.has_secret { "set" } else { "-" };
        let _ = writeln!(
            out,
            "{:<name_width$}  {:<9}  {secret:<6}  {}",
            printable(&row.name),
            printable(&row.kind),
            printable(&row.config.to_string())
        );
    }
    out
}

fn render_findings(out: &mut String, findings: &[FindingReport]) {
    let locations: Vec<String> = findings
        .iter()
        .map(|finding| match finding.line {
            Some(line) => format!("{}:{line}", printable(&finding.path)),
            None => printable(&finding.path),
        })
        .collect();
    let width = locations
        .iter()
        .map(String::len)
        .max()
        .unwrap_or(10)
        .min(60);
    let _ = writeln!(out, "  {:<width$} {:<18} SUBJECT", "LOCATION", "KIND");
    for (finding, location) in findings.iter().zip(&locations) {
        let _ = writeln!(
            out,
            "  {location:<width$} {:<18} {}",
            finding.kind,
            printable(&finding.subject)
        );
    }
}

fn render_verdicts(out: &mut String, evaluations: &[EvaluationReport]) {
    let mut counts: BTreeMap<(&str, &str), usize> = BTreeMap::new();
    for evaluation in evaluations {
        *counts
            .entry((evaluation.framework.as_str(), evaluation.status.as_str()))
            .or_default() += 1;
    }
    for ((framework, status), count) in counts {
        let _ = writeln!(out, "  {framework}: {count} {status}");
    }
    for evaluation in evaluations
        .iter()
        .filter(|evaluation| evaluation.status == "fail")
    {
        let _ = writeln!(out, "  FAIL {}", evaluation.rule_id);
    }
}
