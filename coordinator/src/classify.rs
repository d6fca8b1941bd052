//! Classification of one AI system under the EU AI Act, from its findings and its
//! `secruna.yaml` declaration.
//!
//! [`classify`] is pure and deterministic: no IO, and the findings are sorted before use, so
//! their order does not change the result. Declared facts win over inferred ones. Without a
//! declared purpose, the purpose comes from the manifests' `project_description` attributes.
//! Either text is read with the phrase table in `classify/purposes.yaml`, at lower confidence
//! than a declared fact.
//!
//! The risk class follows these rules, in order:
//! 1. any Article 5 practice, declared or inferred: `prohibited`;
//! 2. a declared Annex I product, or an Annex III point without a valid Art 6(3) derogation:
//!    `high`;
//! 3. Annex III answered with "none": `limited` with an Article 50 signal, or when the system
//!    builds on a GPAI model and the team has not declared both `interacts_with_people` and
//!    `generates_synthetic_content` false; otherwise `minimal`;
//! 4. no declared `annex_iii` and no purpose text: `unknown`, because code alone cannot tell a
//!    CV screener from a recipe bot.

mod decide;
mod facts;
mod phrase;
mod purpose;
mod signals;

use std::fmt;
use std::path::{Component, Path, PathBuf};

use proto::{Declaration, Finding, FindingKind};
use rule_book::Facts;
use serde::{Deserialize, Serialize};

use decide::{Inputs, PurposeSource};
use facts::Observed;

/// EU AI Act risk class of a system.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RiskClass {
    /// Performs a practice banned by Article 5.
    Prohibited,
    /// High-risk under Art 6: an Annex III point or an Annex I product.
    High,
    /// Subject to the Article 50 transparency duties only.
    Limited,
    /// None of the above.
    Minimal,
    /// The facts needed to decide are missing.
    Unknown,
}

impl RiskClass {
    /// Returns the name stored in `ai_systems.risk_class` and printed in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            RiskClass::Prohibited => "prohibited",
            RiskClass::High => "high",
            RiskClass::Limited => "limited",
            RiskClass::Minimal => "minimal",
            RiskClass::Unknown => "unknown",
        }
    }
}

impl fmt::Display for RiskClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The classification of one system.
#[derive(Debug, Clone, PartialEq)]
pub struct Classification {
    /// System name; see [`system_name`].
    pub name: String,
    /// Project root relative to the scan root (`.` for the scan root itself).
    pub root: String,
    /// Kinds, in this order when present: `calls_hosted_model_api`, `trains_models`,
    /// `serves_models`, `ships_model_artefacts`, `uses_ml_libraries`.
    pub kinds: Vec<String>,
    /// EU AI Act risk class.
    pub risk_class: RiskClass,
    /// Annex III area slug, set when the class is `high` because of Annex III.
    pub annex_iii_area: Option<String>,
    /// Whether the system builds on a general-purpose AI model, or declares that it is one.
    pub gpai: bool,
    /// Sentences that explain the result, each naming its evidence.
    pub reasons: Vec<String>,
    /// Confidence in the risk class, in `[0, 1]`; at least 0.9 when it rests on declared facts.
    pub confidence: f32,
    /// Facts for the rule-book evaluator; unknown facts are absent.
    pub facts: Facts,
}

/// Classifies the system at `root` from its findings and its declaration.
///
/// `declaration` is the parsed `secruna.yaml` of the root, if there is one; the declaration
/// finding in `findings` only supplies its path for the reasons.
pub fn classify(
    root: &str,
    findings: &[Finding],
    declaration: Option<&Declaration>,
) -> Classification {
    let sorted = sorted_findings(findings);
    let declaration_path = declaration_path(root, &sorted);

    let kind_evidence = signals::kinds(&sorted);
    let gpai_findings = signals::gpai_findings(&sorted);
    let builds_on_gpai = !gpai_findings.is_empty();
    let is_gpai_model = declaration.and_then(|d| d.gpai_model) == Some(true);

    let purposes = purpose_sources(declaration, &declaration_path, &sorted);
    let inputs = Inputs {
        declaration,
        declaration_path: &declaration_path,
        purposes: &purposes,
        builds_on_gpai,
    };
    let decision = decide::decide(&inputs);

    let kinds: Vec<String> = kind_evidence
        .iter()
        .map(|evidence| evidence.kind.to_owned())
        .collect();
    let mut reasons: Vec<String> = kind_evidence.iter().map(signals::kind_reason).collect();
    reasons.extend(gpai_reasons(
        &gpai_findings,
        is_gpai_model,
        &declaration_path,
    ));
    reasons.extend(decision.reasons.iter().cloned());

    let observed = Observed {
        kinds: &kinds,
        builds_on_gpai,
        has_code_findings: sorted.iter().any(|f| f.kind != FindingKind::Declaration),
        has_model_card: sorted.iter().any(|f| f.kind == FindingKind::ModelCard),
    };
    let facts = facts::build_facts(declaration, &decision, &observed);
    let annex_iii_area = match decision.risk_class {
        RiskClass::High => decision
            .annex_iii
            .as_ref()
            .and_then(|known| known.value.first()),
        _ => None,
    };
    Classification {
        name: system_name(root, declaration, findings),
        root: root.to_owned(),
        kinds,
        risk_class: decision.risk_class,
        annex_iii_area: annex_iii_area.map(|point| point.area.slug().to_owned()),
        gpai: builds_on_gpai || is_gpai_model,
        reasons,
        confidence: decision.confidence,
        facts,
    }
}

/// Returns the reasons for the `gpai` flag: the first GPAI finding and a declared GPAI model.
fn gpai_reasons(
    gpai_findings: &[&Finding],
    is_gpai_model: bool,
    declaration_path: &str,
) -> Vec<String> {
    let mut reasons = Vec::new();
    if !gpai_findings.is_empty() {
        let evidence = signals::describe_with_count(gpai_findings);
        reasons.push(format!("builds on a general-purpose AI model: {evidence}"));
    }
    if is_gpai_model {
        reasons.push(format!("declares gpai_model true in {declaration_path}"));
    }
    reasons
}

/// Returns the system's name: the declared `name`, else the `package_name` attribute of the
/// first finding that has one (set from a manifest), else the name of the root folder.
///
/// The root folder is `root` resolved against the findings' `scope` (the absolute scan root),
/// so the scan root itself (`.`) is named after its folder too.
pub fn system_name(root: &str, declaration: Option<&Declaration>, findings: &[Finding]) -> String {
    let declared = declaration.and_then(|d| d.name.as_deref()).map(str::trim);
    if let Some(name) = declared.filter(|name| !name.is_empty()) {
        return name.to_owned();
    }
    let sorted = sorted_findings(findings);
    let package = sorted
        .iter()
        .find_map(|finding| finding.attributes.get("package_name"));
    if let Some(name) = package
        .map(|name| name.trim())
        .filter(|name| !name.is_empty())
    {
        return name.to_owned();
    }
    let folder = match sorted.first() {
        Some(finding) => Path::new(&finding.scope).join(root),
        None => PathBuf::from(root),
    };
    let last_name = folder
        .components()
        .rev()
        .find_map(|component| match component {
            Component::Normal(name) => name.to_str(),
            _ => None,
        });
    last_name.unwrap_or(root).to_owned()
}

/// Sorts findings by path, line, kind and subject, so that the result does not depend on
/// the order in which crawler threads produced them.
fn sorted_findings(findings: &[Finding]) -> Vec<&Finding> {
    let mut sorted: Vec<&Finding> = findings.iter().collect();
    sorted.sort_by(|a, b| {
        (&a.path, a.line, a.kind, &a.subject).cmp(&(&b.path, b.line, b.kind, &b.subject))
    });
    sorted
}

/// Returns the path of the root's `secruna.yaml` relative to the scan root, for reasons.
///
/// The findings' `project_root` is preferred over `root`, because a caller may pass the root
/// as an absolute path while finding paths are relative to the scan root.
fn declaration_path(root: &str, sorted: &[&Finding]) -> String {
    let found = sorted
        .iter()
        .find(|finding| finding.kind == FindingKind::Declaration);
    if let Some(finding) = found {
        return finding.path.clone();
    }
    let relative_root = sorted
        .first()
        .map_or(root, |finding| finding.project_root.as_str());
    match relative_root.trim_end_matches('/') {
        "." | "" => "secruna.yaml".to_owned(),
        folder => format!("{folder}/secruna.yaml"),
    }
}

/// Collects the purpose texts: the declared purpose, else every distinct manifest description.
fn purpose_sources(
    declaration: Option<&Declaration>,
    declaration_path: &str,
    sorted: &[&Finding],
) -> Vec<PurposeSource> {
    let declared = declaration
        .and_then(|d| d.purpose.as_deref())
        .map(str::trim);
    if let Some(text) = declared.filter(|text| !text.is_empty()) {
        let label = format!("purpose in {declaration_path}");
        return vec![PurposeSource {
            label,
            text: text.to_owned(),
            declared: true,
        }];
    }
    let mut sources: Vec<PurposeSource> = Vec::new();
    for finding in sorted {
        let Some(text) = finding
            .attributes
            .get("project_description")
            .map(|t| t.trim())
        else {
            continue;
        };
        if text.is_empty() || sources.iter().any(|source| source.text == text) {
            continue;
        }
        let label = format!("description in {}", finding.path);
        sources.push(PurposeSource {
            label,
            text: text.to_owned(),
            declared: false,
        });
    }
    sources
}
