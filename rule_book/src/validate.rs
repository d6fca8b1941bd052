//! Turns the serde mirror into the validated model, checking what the JSON Schema cannot:
//! id prefixes, folder names, dates, fact names and types, and verdict words.

use std::collections::{BTreeMap, HashSet};

use chrono::NaiveDate;

use crate::LoadError;
use crate::model::{
    Check, EffectiveOverride, EvidenceItem, Framework, Outcome, OutcomeWords, Rule, Severity,
};
use crate::positions::{Positions, dotted};
use crate::raw::{RawFramework, RawOutcomeOverrides, RawRule};
use crate::vocabulary::{FactSpec, FactType, built_in};

mod predicates;

use predicates::Predicates;

/// Confidence below which verdicts are marked for review when `framework.yaml` sets no value.
const DEFAULT_REVIEW_BELOW_CONFIDENCE: f64 = 0.6;

/// Location of one YAML document, for error messages.
pub(crate) struct Site<'a> {
    pub(crate) file: &'a str,
    pub(crate) positions: &'a Positions,
    /// JSON pointer of the value being validated within the file (`/3` for the 4th rule of a list).
    pub(crate) prefix: String,
}

impl Site<'_> {
    pub(crate) fn error(&self, pointer: &str, message: impl Into<String>) -> LoadError {
        let full = format!("{}{pointer}", self.prefix);
        LoadError::Invalid {
            file: self.file.to_owned(),
            line: self.positions.line_of(&full),
            field: dotted(&full),
            message: message.into(),
        }
    }
}

/// Fact vocabulary of one framework: the built-in names plus the framework's own.
pub(crate) type Vocabulary = BTreeMap<String, FactSpec>;

/// Validates `framework.yaml` of folder `folder`; returns the framework with no rules yet.
pub(crate) fn framework(
    raw: RawFramework,
    folder: &str,
    site: &Site<'_>,
) -> Result<(Framework, Vocabulary), LoadError> {
    if raw.slug != folder {
        return Err(site.error(
            "/slug",
            format!(
                "slug `{}` does not match its folder `{folder}`; rename one",
                raw.slug
            ),
        ));
    }

    let vocabulary = vocabulary(&raw, site)?;
    let mut verdicts = Vec::new();
    let mut verdict_descriptions = BTreeMap::new();
    for (index, word) in raw.verdicts.iter().enumerate() {
        if verdicts.contains(&word.id) {
            return Err(site.error(
                &format!("/verdicts/{index}/id"),
                format!("verdict `{}` is declared twice", word.id),
            ));
        }
        verdicts.push(word.id.clone());
        verdict_descriptions.insert(word.id.clone(), word.description.clone());
    }
    let outcomes = OutcomeWords {
        pass: raw.outcomes.pass,
        fail: raw.outcomes.fail,
        needs_evidence: raw.outcomes.needs_evidence,
        not_applicable: raw.outcomes.not_applicable,
    };
    check_outcome_words(&outcomes, &verdicts, "/outcomes", site)?;

    let review_below_confidence = raw
        .review_below_confidence
        .unwrap_or(DEFAULT_REVIEW_BELOW_CONFIDENCE);
    if !(0.0..=1.0).contains(&review_below_confidence) {
        return Err(site.error("/review_below_confidence", "must be between 0 and 1"));
    }
    let framework = Framework {
        slug: raw.slug,
        title: raw.title,
        version: raw.version,
        description: raw.description,
        source: format!("{} <{}>", raw.source.title, raw.source.url),
        jurisdiction: raw.jurisdiction,
        verdicts,
        verdict_descriptions,
        rules: Vec::new(),
        outcomes,
        review_below_confidence,
    };
    Ok((framework, vocabulary))
}

fn vocabulary(raw: &RawFramework, site: &Site<'_>) -> Result<Vocabulary, LoadError> {
    let mut vocabulary = built_in();
    for (index, declared) in raw.facts.iter().enumerate() {
        let pointer = format!("/facts/{index}");
        let Some(kind) = FactType::parse(&declared.kind) else {
            return Err(site.error(
                &format!("{pointer}/type"),
                "type must be bool, number, text or list",
            ));
        };
        if vocabulary.contains_key(&declared.name) {
            return Err(site.error(
                &format!("{pointer}/name"),
                format!(
                    "fact `{}` is already defined; pick a new name",
                    declared.name
                ),
            ));
        }
        vocabulary.insert(
            declared.name.clone(),
            FactSpec {
                kind,
                values: declared.values.clone(),
                description: declared.description.clone(),
            },
        );
    }
    Ok(vocabulary)
}

fn check_outcome_words(
    words: &OutcomeWords,
    verdicts: &[String],
    pointer: &str,
    site: &Site<'_>,
) -> Result<(), LoadError> {
    let pairs = [
        ("pass", &words.pass),
        ("fail", &words.fail),
        ("needs_evidence", &words.needs_evidence),
        ("not_applicable", &words.not_applicable),
    ];
    for (outcome, word) in pairs {
        if !verdicts.contains(word) {
            let message = format!(
                "verdict `{word}` is not in the framework's verdicts ({})",
                verdicts.join(", ")
            );
            return Err(site.error(&format!("{pointer}/{outcome}"), message));
        }
    }
    Ok(())
}

/// Validates one rule of framework `framework`.
pub(crate) fn rule(
    raw: RawRule,
    framework: &Framework,
    vocabulary: &Vocabulary,
    site: &Site<'_>,
) -> Result<Rule, LoadError> {
    if raw.framework != framework.slug {
        let message = format!(
            "framework `{}` does not match the folder `{}`",
            raw.framework, framework.slug
        );
        return Err(site.error("/framework", message));
    }
    let Some(name) = raw.id.strip_prefix(&format!("{}/", framework.slug)) else {
        let message = format!(
            "id `{}` must start with `{}/`, the folder it is in",
            raw.id, framework.slug
        );
        return Err(site.error("/id", message));
    };
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.')
    {
        return Err(site.error("/id", format!("id `{}` must be `<framework>/<name>` with a lower-case name of a-z, 0-9, `-` and `.`", raw.id)));
    }
    let severity = severity(&raw.severity).ok_or_else(|| {
        site.error(
            "/severity",
            "severity must be critical, high, medium or low",
        )
    })?;
    let effective_from = date(&raw.effective_from, "/effective_from", site)?;
    let counsel_review = match raw.review.as_deref() {
        None => false,
        Some("counsel") => true,
        Some(other) => {
            return Err(site.error(
                "/review",
                format!("`{other}` is not a review kind; the only one is `counsel`"),
            ));
        }
    };

    let predicates = Predicates { vocabulary, site };
    let applies_when = predicates.convert(&raw.applies_when, "/applies_when")?;
    let effective_overrides = effective_overrides(&raw, &predicates)?;
    let checks = checks(&raw, &predicates)?;
    let evidence = evidence(&raw, &predicates)?;
    let outcomes = outcome_overrides(&framework.outcomes, raw.outcomes.as_ref());
    check_outcome_words(&outcomes, &framework.verdicts, "/outcomes", site)?;

    Ok(Rule {
        id: raw.id,
        framework: raw.framework,
        title: raw.title,
        reference: raw.reference,
        severity,
        effective_from,
        effective_overrides,
        applies_when,
        checks,
        evidence,
        remediation: raw.remediation,
        counsel_review,
        outcomes,
        file: site.file.to_owned(),
    })
}

fn date(text: &str, pointer: &str, site: &Site<'_>) -> Result<NaiveDate, LoadError> {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|_| {
        let message = format!("`{text}` is not a valid date; write YYYY-MM-DD");
        site.error(pointer, message)
    })
}

fn effective_overrides(
    raw: &RawRule,
    predicates: &Predicates<'_>,
) -> Result<Vec<EffectiveOverride>, LoadError> {
    let mut overrides = Vec::new();
    for (index, entry) in raw.effective_overrides.iter().enumerate() {
        let pointer = format!("/effective_overrides/{index}");
        let when = predicates.convert(&entry.when, &format!("{pointer}/when"))?;
        let from = date(&entry.from, &format!("{pointer}/from"), predicates.site)?;
        overrides.push(EffectiveOverride { when, from });
    }
    Ok(overrides)
}

fn severity(word: &str) -> Option<Severity> {
    match word {
        "critical" => Some(Severity::Critical),
        "high" => Some(Severity::High),
        "medium" => Some(Severity::Medium),
        "low" => Some(Severity::Low),
        _ => None,
    }
}

fn checks(raw: &RawRule, predicates: &Predicates<'_>) -> Result<Vec<Check>, LoadError> {
    let mut seen = HashSet::new();
    let mut checks = Vec::new();
    for (index, check) in raw.checks.iter().enumerate() {
        let pointer = format!("/checks/{index}");
        if !seen.insert(check.id.as_str()) {
            return Err(predicates.site.error(
                &format!("{pointer}/id"),
                format!("check id `{}` is used twice in this rule", check.id),
            ));
        }
        let on_false = match check.on_false.as_deref() {
            None | Some("fail") => Outcome::Fail,
            Some("needs_evidence") => Outcome::NeedsEvidence,
            Some(other) => {
                let message = format!("`{other}` is not allowed; use fail or needs_evidence");
                return Err(predicates
                    .site
                    .error(&format!("{pointer}/on_false"), message));
            }
        };
        let when = match &check.when {
            Some(when) => Some(predicates.convert(when, &format!("{pointer}/when"))?),
            None => None,
        };
        let require = predicates.convert(&check.require, &format!("{pointer}/require"))?;
        checks.push(Check {
            id: check.id.clone(),
            description: check.description.clone(),
            when,
            require,
            on_false,
        });
    }
    Ok(checks)
}

fn evidence(raw: &RawRule, predicates: &Predicates<'_>) -> Result<Vec<EvidenceItem>, LoadError> {
    let mut seen = HashSet::new();
    let mut items = Vec::new();
    for (index, item) in raw.evidence.iter().enumerate() {
        let pointer = format!("/evidence/{index}");
        if !seen.insert(item.id.as_str()) {
            return Err(predicates.site.error(
                &format!("{pointer}/id"),
                format!("evidence id `{}` is used twice in this rule", item.id),
            ));
        }
        let when = match &item.when {
            Some(when) => Some(predicates.convert(when, &format!("{pointer}/when"))?),
            None => None,
        };
        items.push(EvidenceItem {
            id: item.id.clone(),
            description: item.description.clone(),
            when,
        });
    }
    Ok(items)
}

fn outcome_overrides(base: &OutcomeWords, overrides: Option<&RawOutcomeOverrides>) -> OutcomeWords {
    let mut words = base.clone();
    if let Some(overrides) = overrides {
        let pick = |word: &Option<String>, current: &mut String| {
            if let Some(word) = word {
                current.clone_from(word);
            }
        };
        pick(&overrides.pass, &mut words.pass);
        pick(&overrides.fail, &mut words.fail);
        pick(&overrides.needs_evidence, &mut words.needs_evidence);
        pick(&overrides.not_applicable, &mut words.not_applicable);
    }
    words
}
