//! Rule-book facts of a classified system. A fact that was neither declared nor shown by a
//! finding is left out, because the evaluator treats a missing fact as unknown and never
//! lets it pass a rule.

use proto::Declaration;
use rule_book::Facts;

use super::RiskClass;
use super::decide::{Decision, declared_signal};
use super::purpose::Signal;

/// Observations from the findings, for the facts that code can settle.
pub(crate) struct Observed<'a> {
    /// Kinds of the system, from [`super::signals::KINDS`].
    pub(crate) kinds: &'a [String],
    /// Whether any finding is a general-purpose AI model or an API serving one.
    pub(crate) builds_on_gpai: bool,
    /// Whether the system has any finding besides its declaration.
    pub(crate) has_code_findings: bool,
    /// Whether a model card was found.
    pub(crate) has_model_card: bool,
}

/// Builds the facts from the declaration, the decision and the findings.
pub(crate) fn build_facts(
    declaration: Option<&Declaration>,
    decision: &Decision,
    observed: &Observed<'_>,
) -> Facts {
    let mut facts = Facts::new();
    set_classification(&mut facts, decision);
    set_signals(&mut facts, declaration, decision);
    set_gpai(&mut facts, declaration, observed);
    set_model_source(&mut facts, declaration, observed);
    set_documentation(&mut facts, declaration, observed);
    if let Some(declaration) = declaration {
        set_declared(&mut facts, declaration);
    }
    // Rounded so that the f32 confidence reads as 0.95 in JSON, not 0.949999988079071.
    let confidence = (f64::from(decision.confidence) * 1000.0).round() / 1000.0;
    facts.set("classification.confidence", confidence);
    facts
}

fn set_classification(facts: &mut Facts, decision: &Decision) {
    if decision.risk_class != RiskClass::Unknown {
        facts.set("system.risk_class", decision.risk_class.as_str());
    }
    if let Some(annex_iii) = &decision.annex_iii {
        let codes: Vec<String> = annex_iii.value.iter().map(|point| point.code()).collect();
        facts.set("system.annex_iii", codes);
        if let Some(first) = annex_iii.value.first() {
            facts.set("system.annex_iii_area", first.area.slug());
        }
    }
    if let Some(article_5) = &decision.article_5 {
        let flags: Vec<&str> = article_5
            .value
            .iter()
            .map(|practice| practice.fact_flag())
            .collect();
        facts.set("system.prohibited_practice_flags", flags);
    }
}

fn set_signals(facts: &mut Facts, declaration: Option<&Declaration>, decision: &Decision) {
    const SIGNALS: [Signal; 5] = [
        Signal::InteractsWithPeople,
        Signal::GeneratesSyntheticContent,
        Signal::EmotionRecognition,
        Signal::BiometricCategorisation,
        Signal::ProfilesNaturalPersons,
    ];
    for signal in SIGNALS {
        match declared_signal(declaration, signal) {
            Some(value) => facts.set(signal.fact_name(), value),
            None if decision.inferred_signals.contains(&signal) => {
                facts.set(signal.fact_name(), true)
            }
            None => {}
        }
    }
}

fn set_gpai(facts: &mut Facts, declaration: Option<&Declaration>, observed: &Observed<'_>) {
    // A scan that saw the code and found no GPAI subject is taken as evidence of absence.
    if observed.builds_on_gpai || observed.has_code_findings {
        facts.set("system.builds_on_gpai", observed.builds_on_gpai);
    }
    let Some(declaration) = declaration else {
        return;
    };
    if let Some(is_model) = declaration.gpai_model {
        facts.set("system.is_gpai_model", is_model);
    }
    if let Some(flops) = declaration.gpai_training_flops {
        facts.set("system.gpai_training_flops", flops);
    }
    if let Some(designated) = declaration.gpai_systemic_designation {
        facts.set("system.gpai_systemic_designation", designated);
    }
}

/// Sets `system.model_source`: declared, else `vendor_api` when the only kind is a hosted API.
fn set_model_source(facts: &mut Facts, declaration: Option<&Declaration>, observed: &Observed<'_>) {
    if let Some(source) = declaration.and_then(|d| d.model_source) {
        facts.set("system.model_source", source.as_str());
        return;
    }
    if observed.kinds == ["calls_hosted_model_api"] {
        facts.set("system.model_source", "vendor_api");
    }
}

/// Sets `system.documentation`: the declared list, plus `model_card` when one was found.
fn set_documentation(
    facts: &mut Facts,
    declaration: Option<&Declaration>,
    observed: &Observed<'_>,
) {
    let mut documents: Vec<String> = declaration
        .and_then(|d| d.documentation.as_ref())
        .map(|kinds| kinds.iter().map(|kind| kind.as_str().to_owned()).collect())
        .unwrap_or_default();
    let declared = declaration.is_some_and(|d| d.documentation.is_some());
    if observed.has_model_card && !documents.iter().any(|kind| kind == "model_card") {
        documents.push("model_card".to_owned());
    }
    if declared || !documents.is_empty() {
        facts.set("system.documentation", documents);
    }
}

/// Copies the declared facts that need no interpretation.
fn set_declared(facts: &mut Facts, declaration: &Declaration) {
    if let Some(role) = declaration.role {
        facts.set("system.role", role.as_str());
    }
    if let Some(markets) = &declaration.markets {
        let codes: Vec<&str> = markets.iter().map(|market| market.as_str()).collect();
        facts.set("system.markets", codes);
    }
    let flags = [
        ("system.annex_i_product", declaration.annex_i_product),
        ("system.art6_3_derogation", declaration.art6_3_derogation),
        (
            "system.override_capability",
            declaration.override_capability,
        ),
        (
            "system.processes_personal_data",
            declaration.processes_personal_data,
        ),
        ("tenant.public_body", declaration.public_body),
        ("tenant.public_service", declaration.public_service),
    ];
    for (name, value) in flags {
        if let Some(value) = value {
            facts.set(name, value);
        }
    }
    if let Some(oversight) = declaration.human_oversight {
        facts.set("system.human_oversight", oversight.as_str());
    }
    if let Some(logging) = declaration.logging {
        if let Some(enabled) = logging.enabled {
            facts.set("system.logging_enabled", enabled);
        }
        if let Some(days) = logging.retention_days {
            facts.set("system.log_retention_days", days);
        }
    }
    if let Some(evidence) = &declaration.evidence {
        let ids: Vec<String> = evidence.iter().map(|item| item.id.clone()).collect();
        facts.set("system.evidence", ids);
    }
}
