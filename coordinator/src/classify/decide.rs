//! The EU AI Act risk decision: declared facts first, then facts inferred from the purpose
//! text, and `unknown` when the Annex III question has no answer.
//!
//! The rule, in order:
//! 1. Any Article 5 practice, declared or inferred, makes the system `prohibited`.
//! 2. A declared Annex I product, or an Annex III point without a valid Art 6(3)
//!    derogation, makes it `high`. The derogation is invalid when the system profiles
//!    natural persons (Art 6(3), last subparagraph).
//! 3. When the Annex III question is answered with "none" (declared, or inferred because
//!    the purpose text matches no Annex III phrase), an Article 50 signal (interaction with
//!    people, synthetic content, emotion recognition, biometric categorisation) makes it
//!    `limited`. A system that builds on a general-purpose AI model is also `limited` unless
//!    the team declares both `interacts_with_people` and `generates_synthetic_content`
//!    false, because such models generate synthetic text (Art 50(2)). Otherwise it is
//!    `minimal`.
//! 4. With no declaration of `annex_iii` and no purpose text at all, the class is `unknown`:
//!    the code alone cannot tell a CV screener from a recipe bot.

use std::collections::BTreeSet;

use proto::{AnnexIiiPoint, Article5Practice, Declaration};

use super::RiskClass;
use super::purpose::{PurposeMatch, PurposeTable, Signal};

/// Confidence of a fact the team declared.
pub(crate) const DECLARED: f32 = 0.95;
/// Confidence of a fact inferred from the purpose declared in `secruna.yaml`.
const DECLARED_PURPOSE: f32 = 0.7;
/// Confidence of a fact inferred from a manifest's project description.
const MANIFEST_DESCRIPTION: f32 = 0.6;
/// Confidence lost when a "none" rests only on no phrase matching the purpose text.
const NO_MATCH_PENALTY: f32 = 0.2;
/// Highest confidence of a class decided while Article 5 is neither declared nor read
/// from a purpose text.
const ARTICLE_5_NOT_ASSESSED: f32 = 0.8;
/// Confidence of `limited` when it rests only on the system building on a GPAI model.
const GPAI_LIMITED: f32 = 0.5;
/// Confidence attached to `unknown`: low, so that the system goes to human review.
const UNKNOWN: f32 = 0.2;

/// A purpose text and where it came from.
pub(crate) struct PurposeSource {
    /// Location of the text, such as "purpose in secruna.yaml" or "description in package.json".
    pub(crate) label: String,
    /// The text.
    pub(crate) text: String,
    /// Whether the text is the purpose declared in `secruna.yaml`.
    pub(crate) declared: bool,
}

impl PurposeSource {
    fn confidence(&self) -> f32 {
        match self.declared {
            true => DECLARED_PURPOSE,
            false => MANIFEST_DESCRIPTION,
        }
    }
}

/// A fact value with the confidence of how it became known.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Known<T> {
    pub(crate) value: T,
    pub(crate) confidence: f32,
    pub(crate) declared: bool,
}

/// Everything the decision needs besides the declaration.
pub(crate) struct Inputs<'a> {
    /// The declaration, if the root has one.
    pub(crate) declaration: Option<&'a Declaration>,
    /// Path of `secruna.yaml` for reasons.
    pub(crate) declaration_path: &'a str,
    /// Purpose texts: the declared purpose, else the manifests' descriptions.
    pub(crate) purposes: &'a [PurposeSource],
    /// Whether the system builds on a general-purpose AI model.
    pub(crate) builds_on_gpai: bool,
}

/// The decision with the facts it rests on.
#[derive(Debug)]
pub(crate) struct Decision {
    pub(crate) risk_class: RiskClass,
    pub(crate) confidence: f32,
    pub(crate) annex_iii: Option<Known<Vec<AnnexIiiPoint>>>,
    pub(crate) article_5: Option<Known<Vec<Article5Practice>>>,
    /// Signals inferred from the purpose text; declared values are read from the declaration.
    pub(crate) inferred_signals: BTreeSet<Signal>,
    pub(crate) reasons: Vec<String>,
}

/// Suggestions read from the purpose texts, before declared facts override them.
#[derive(Default)]
struct Reading {
    points: Vec<AnnexIiiPoint>,
    points_confidence: f32,
    practices: Vec<Article5Practice>,
    practices_confidence: f32,
    signals: BTreeSet<Signal>,
    /// Highest confidence among the sources; 0 when there is no purpose text.
    source_confidence: f32,
    reasons: Vec<(Topic, String)>,
}

/// The fact a purpose reason is about, so that a declared fact can mark it as overridden.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Topic {
    AnnexIii,
    Article5,
    Other,
}

/// Decides the risk class.
pub(crate) fn decide(inputs: &Inputs<'_>) -> Decision {
    let reading = read_purposes(inputs.purposes);
    let mut reasons = Vec::new();
    let article_5 = article_5_fact(inputs, &reading, &mut reasons);
    let annex_iii = annex_iii_fact(inputs, &reading, &mut reasons);
    for (topic, reason) in &reading.reasons {
        let overridden = match topic {
            Topic::AnnexIii => annex_iii.as_ref().is_some_and(|known| known.declared),
            Topic::Article5 => article_5.as_ref().is_some_and(|known| known.declared),
            Topic::Other => false,
        };
        match overridden {
            true => reasons.push(format!("{reason}, but the declaration takes precedence")),
            false => reasons.push(reason.clone()),
        }
    }
    let mut decision = Decision {
        risk_class: RiskClass::Unknown,
        confidence: UNKNOWN,
        annex_iii,
        article_5,
        inferred_signals: reading.signals,
        reasons,
    };
    settle_class(inputs, &mut decision);
    decision
}

fn read_purposes(purposes: &[PurposeSource]) -> Reading {
    let table = PurposeTable::embedded();
    let mut reading = Reading::default();
    for source in purposes {
        reading.source_confidence = reading.source_confidence.max(source.confidence());
        let found = table.read(&source.text);
        for matched in &found.matches {
            record_match(&mut reading, source, matched);
        }
        for excerpt in &found.negated {
            let reason = format!("{} negates \"{excerpt}\": not counted", source.label);
            reading.reasons.push((Topic::Other, reason));
        }
    }
    reading
}

/// Adds what one fired rule suggests to the reading, with a reason for each new suggestion.
fn record_match(reading: &mut Reading, source: &PurposeSource, matched: &PurposeMatch<'_>) {
    let confidence = source.confidence();
    let quoted = format!("{} mentions \"{}\"", source.label, matched.excerpt);
    let rule = matched.rule;
    if let Some(point) = rule.annex_iii
        && add_point(&mut reading.points, point)
    {
        reading.points_confidence = reading.points_confidence.max(confidence);
        let reason = format!(
            "{quoted}: suggests annex_iii {} ({})",
            point.code(),
            point.area.slug()
        );
        reading.reasons.push((Topic::AnnexIii, reason));
    }
    for practice in &rule.article_5 {
        if !reading.practices.contains(practice) {
            reading.practices.push(*practice);
            reading.practices_confidence = reading.practices_confidence.max(confidence);
            let reason = format!("{quoted}: suggests the Article 5 practice {practice}");
            reading.reasons.push((Topic::Article5, reason));
        }
    }
    for signal in &rule.signals {
        if reading.signals.insert(*signal) {
            let name = signal.fact_name().trim_start_matches("system.");
            reading
                .reasons
                .push((Topic::Other, format!("{quoted}: suggests {name}")));
        }
    }
}

/// Adds a point unless it is already covered: a lettered point replaces its whole area,
/// and a whole area is skipped when one of its points is present. Returns whether it was added.
fn add_point(points: &mut Vec<AnnexIiiPoint>, point: AnnexIiiPoint) -> bool {
    let covered = points
        .iter()
        .any(|known| *known == point || (point.letter.is_none() && known.area == point.area));
    if covered {
        return false;
    }
    points.retain(|known| !(known.letter.is_none() && known.area == point.area));
    points.push(point);
    true
}

fn article_5_fact(
    inputs: &Inputs<'_>,
    reading: &Reading,
    reasons: &mut Vec<String>,
) -> Option<Known<Vec<Article5Practice>>> {
    if let Some(declared) = inputs.declaration.and_then(|d| d.article_5.clone()) {
        let listed: Vec<&str> = declared.iter().map(|practice| practice.as_str()).collect();
        let listed = if listed.is_empty() {
            "none".to_owned()
        } else {
            listed.join(", ")
        };
        reasons.push(format!(
            "declares article_5 {listed} in {}",
            inputs.declaration_path
        ));
        return Some(Known {
            value: declared,
            confidence: DECLARED,
            declared: true,
        });
    }
    if !reading.practices.is_empty() {
        let confidence = reading.practices_confidence;
        return Some(Known {
            value: reading.practices.clone(),
            confidence,
            declared: false,
        });
    }
    let confidence = reading.source_confidence - NO_MATCH_PENALTY;
    (reading.source_confidence > 0.0).then(|| Known {
        value: Vec::new(),
        confidence,
        declared: false,
    })
}

fn annex_iii_fact(
    inputs: &Inputs<'_>,
    reading: &Reading,
    reasons: &mut Vec<String>,
) -> Option<Known<Vec<AnnexIiiPoint>>> {
    if let Some(declared) = inputs.declaration.and_then(|d| d.annex_iii.clone()) {
        let listed: Vec<String> = declared.0.iter().map(ToString::to_string).collect();
        let listed = if listed.is_empty() {
            "none".to_owned()
        } else {
            listed.join(", ")
        };
        reasons.push(format!(
            "declares annex_iii {listed} in {}",
            inputs.declaration_path
        ));
        return Some(Known {
            value: declared.0,
            confidence: DECLARED,
            declared: true,
        });
    }
    if !reading.points.is_empty() {
        let confidence = reading.points_confidence;
        return Some(Known {
            value: reading.points.clone(),
            confidence,
            declared: false,
        });
    }
    let confidence = reading.source_confidence - NO_MATCH_PENALTY;
    (reading.source_confidence > 0.0).then(|| Known {
        value: Vec::new(),
        confidence,
        declared: false,
    })
}

fn settle_class(inputs: &Inputs<'_>, decision: &mut Decision) {
    let declaration = inputs.declaration;
    if let Some(article_5) = decision
        .article_5
        .as_ref()
        .filter(|known| !known.value.is_empty())
    {
        decision.risk_class = RiskClass::Prohibited;
        decision.confidence = article_5.confidence;
        return;
    }
    if declaration.and_then(|d| d.annex_i_product) == Some(true) {
        decision.risk_class = RiskClass::High;
        decision.confidence = DECLARED;
        decision.reasons.push(format!(
            "declares annex_i_product true in {}: high-risk under Art 6(1)",
            inputs.declaration_path
        ));
        return;
    }
    let Some(annex_iii) = decision.annex_iii.clone() else {
        decision.reasons.push(format!(
            "no purpose is known: declare `purpose` or `annex_iii` in {} to settle the risk class",
            inputs.declaration_path
        ));
        return;
    };
    if !annex_iii.value.is_empty() && !derogation_applies(inputs, &mut decision.reasons) {
        decision.risk_class = RiskClass::High;
        decision.confidence = annex_iii.confidence;
        return;
    }
    let mut confidence = annex_iii.confidence;
    match &decision.article_5 {
        Some(article_5) => confidence = confidence.min(article_5.confidence),
        None => {
            confidence = confidence.min(ARTICLE_5_NOT_ASSESSED);
            decision.reasons.push(format!(
                "article_5 is not declared in {} and no purpose text was read for it",
                inputs.declaration_path
            ));
        }
    }
    settle_transparency(inputs, decision, confidence);
}

/// Returns whether a claimed Art 6(3) derogation takes an Annex III system out of high risk.
fn derogation_applies(inputs: &Inputs<'_>, reasons: &mut Vec<String>) -> bool {
    let Some(declaration) = inputs.declaration else {
        return false;
    };
    if declaration.art6_3_derogation != Some(true) {
        return false;
    }
    let path = inputs.declaration_path;
    if declaration.profiles_natural_persons == Some(true) {
        reasons.push(format!(
            "claims the Art 6(3) derogation in {path}, but also declares profiles_natural_persons, which rules it out"
        ));
        return false;
    }
    reasons.push(format!(
        "claims the Art 6(3) derogation in {path}: not high-risk"
    ));
    true
}

fn settle_transparency(inputs: &Inputs<'_>, decision: &mut Decision, confidence: f32) {
    const ARTICLE_50: [Signal; 4] = [
        Signal::InteractsWithPeople,
        Signal::GeneratesSyntheticContent,
        Signal::EmotionRecognition,
        Signal::BiometricCategorisation,
    ];
    let declaration = inputs.declaration;
    let declared_true = ARTICLE_50
        .into_iter()
        .find(|&signal| declared_signal(declaration, signal) == Some(true));
    if let Some(signal) = declared_true {
        decision.risk_class = RiskClass::Limited;
        decision.confidence = confidence.min(DECLARED);
        let name = signal.fact_name().trim_start_matches("system.");
        decision.reasons.push(format!(
            "declares {name} true in {}: Art 50 transparency applies",
            inputs.declaration_path
        ));
        return;
    }
    let inferred = ARTICLE_50.into_iter().find(|&signal| {
        declared_signal(declaration, signal).is_none()
            && decision.inferred_signals.contains(&signal)
    });
    if let Some(signal) = inferred {
        decision.risk_class = RiskClass::Limited;
        decision.confidence = confidence;
        let name = signal.fact_name().trim_start_matches("system.");
        decision.reasons.push(format!(
            "{name} is suggested by the purpose: Art 50 transparency applies"
        ));
        return;
    }
    let rules_out_synthetic = declared_signal(declaration, Signal::InteractsWithPeople)
        == Some(false)
        && declared_signal(declaration, Signal::GeneratesSyntheticContent) == Some(false);
    if inputs.builds_on_gpai && !rules_out_synthetic {
        decision.risk_class = RiskClass::Limited;
        decision.confidence = confidence.min(GPAI_LIMITED);
        decision.reasons.push(
            "builds on a general-purpose AI model whose output is synthetic content (Art 50(2)); declare interacts_with_people and generates_synthetic_content to confirm".to_owned(),
        );
        return;
    }
    decision.risk_class = RiskClass::Minimal;
    decision.confidence = confidence;
    decision
        .reasons
        .push("no Annex III point, Article 5 practice or Art 50 signal applies".to_owned());
}

/// Returns the declared value of the fact behind a signal.
pub(crate) fn declared_signal(declaration: Option<&Declaration>, signal: Signal) -> Option<bool> {
    let declaration = declaration?;
    match signal {
        Signal::InteractsWithPeople => declaration.interacts_with_people,
        Signal::GeneratesSyntheticContent => declaration.generates_synthetic_content,
        Signal::EmotionRecognition => declaration.emotion_recognition,
        Signal::BiometricCategorisation => declaration.biometric_categorisation,
        Signal::ProfilesNaturalPersons => declaration.profiles_natural_persons,
    }
}
