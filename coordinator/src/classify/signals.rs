//! Signals in the findings of one system: its kinds, whether it builds on a general-purpose
//! AI model, and a short description of each finding for the reasons.

use proto::{Finding, FindingKind};

/// System kinds in output order.
pub(crate) const KINDS: [&str; 5] = [
    "calls_hosted_model_api",
    "trains_models",
    "serves_models",
    "ships_model_artefacts",
    "uses_ml_libraries",
];

/// The kinds a system has, with the first finding that shows each one.
pub(crate) struct KindEvidence<'a> {
    /// Kind name from [`KINDS`].
    pub(crate) kind: &'static str,
    /// Findings that show the kind, in sorted order.
    pub(crate) findings: Vec<&'a Finding>,
}

/// Returns the kind a finding shows, from its `category` attribute, or from its finding kind
/// when an agent left the category out.
pub(crate) fn kind_of(finding: &Finding) -> Option<&'static str> {
    if let Some(category) = finding.attributes.get("category") {
        return match category.as_str() {
            "hosted_api" => Some("calls_hosted_model_api"),
            "training" => Some("trains_models"),
            "serving" => Some("serves_models"),
            "artefact" => Some("ships_model_artefacts"),
            "ml_library" => Some("uses_ml_libraries"),
            _ => None,
        };
    }
    match finding.kind {
        FindingKind::Client | FindingKind::ApiEndpoint | FindingKind::Secret => {
            Some("calls_hosted_model_api")
        }
        FindingKind::Artefact => Some("ships_model_artefacts"),
        FindingKind::ServingContainer => Some("serves_models"),
        FindingKind::Import | FindingKind::Dependency => match finding.attributes.get("provider") {
            Some(_) => Some("calls_hosted_model_api"),
            None => Some("uses_ml_libraries"),
        },
        _ => None,
    }
}

/// Groups sorted findings by the kind they show, in [`KINDS`] order.
pub(crate) fn kinds<'a>(findings: &[&'a Finding]) -> Vec<KindEvidence<'a>> {
    KINDS
        .into_iter()
        .map(|kind| KindEvidence {
            kind,
            findings: findings
                .iter()
                .copied()
                .filter(|f| kind_of(f) == Some(kind))
                .collect(),
        })
        .filter(|evidence| !evidence.findings.is_empty())
        .collect()
}

/// Returns the findings whose subject is a general-purpose AI model or an API serving one.
pub(crate) fn gpai_findings<'a>(findings: &[&'a Finding]) -> Vec<&'a Finding> {
    findings
        .iter()
        .copied()
        .filter(|finding| {
            finding
                .attributes
                .get("gpai")
                .is_some_and(|value| value == "true")
        })
        .collect()
}

/// Returns the sentence for one kind, naming its first finding, such as
/// "calls a hosted model API: imports openai (src/app.py:3)".
pub(crate) fn kind_reason(evidence: &KindEvidence<'_>) -> String {
    let label = match evidence.kind {
        "calls_hosted_model_api" => "calls a hosted model API",
        "trains_models" => "trains models",
        "serves_models" => "serves models",
        "ships_model_artefacts" => "ships model artefacts",
        _ => "uses ML libraries",
    };
    format!("{label}: {}", describe_with_count(&evidence.findings))
}

/// Describes the first finding and counts the others, such as
/// "imports openai (src/app.py:3) and 2 more findings".
pub(crate) fn describe_with_count(findings: &[&Finding]) -> String {
    let Some(first) = findings.first() else {
        return "no finding".to_owned();
    };
    let others = findings.len() - 1;
    match others {
        0 => describe(first),
        1 => format!("{} and 1 more finding", describe(first)),
        _ => format!("{} and {others} more findings", describe(first)),
    }
}

/// Describes one finding with its location, such as "imports openai (src/app.py:3)".
pub(crate) fn describe(finding: &Finding) -> String {
    let subject = &finding.subject;
    let action = match finding.kind {
        FindingKind::Dependency => format!("depends on {subject}"),
        FindingKind::Import => format!("imports {subject}"),
        FindingKind::Client => format!("creates a {subject} client"),
        FindingKind::ApiEndpoint => format!("calls {subject}"),
        FindingKind::ModelId => format!("names model {subject}"),
        FindingKind::Artefact => format!("ships a {subject} model file"),
        FindingKind::ModelCard => format!("has a model card for {subject}"),
        FindingKind::ServingContainer => format!("runs the {subject} serving container"),
        FindingKind::IacResource => format!("provisions {subject}"),
        FindingKind::McpServer => format!("configures the MCP server {subject}"),
        FindingKind::CiAction => format!("uses the CI action {subject}"),
        FindingKind::Secret => format!("contains a {subject} API key"),
        FindingKind::Declaration => format!("declares {subject}"),
        FindingKind::CloudResource => format!("runs the cloud resource {subject}"),
        FindingKind::InventoryEntry => format!("lists the bought tool {subject}"),
    };
    match finding.line {
        Some(line) => format!("{action} ({}:{line})", finding.path),
        None => format!("{action} ({})", finding.path),
    }
}
