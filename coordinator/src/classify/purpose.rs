//! The purpose table (`purposes.yaml`): phrase rules that read a stated purpose and suggest
//! Annex III points, Article 5 practices and transparency signals.

use std::sync::OnceLock;

use proto::{AnnexIii, AnnexIiiPoint, Article5Practice};
use serde::Deserialize;

use super::phrase::{self, Pattern, Token};

/// The purpose table compiled into the binary.
const EMBEDDED_TABLE: &str = include_str!("purposes.yaml");

/// A fact that a purpose implies without deciding the risk class on its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Signal {
    /// People interact with the system directly.
    InteractsWithPeople,
    /// The system generates synthetic audio, image, video or text.
    GeneratesSyntheticContent,
    /// The system recognises emotions.
    EmotionRecognition,
    /// The system sorts people into categories from biometric data.
    BiometricCategorisation,
    /// The system profiles natural persons.
    ProfilesNaturalPersons,
}

impl Signal {
    /// Returns the rule-book fact the signal sets to `true`.
    pub(crate) fn fact_name(self) -> &'static str {
        match self {
            Signal::InteractsWithPeople => "system.interacts_with_people",
            Signal::GeneratesSyntheticContent => "system.generates_synthetic_content",
            Signal::EmotionRecognition => "system.emotion_recognition",
            Signal::BiometricCategorisation => "system.biometric_categorisation",
            Signal::ProfilesNaturalPersons => "system.profiles_natural_persons",
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTable {
    rules: Vec<RawRule>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    id: String,
    annex_iii: Option<AnnexIii>,
    #[serde(default)]
    article_5: Vec<Article5Practice>,
    #[serde(default)]
    signals: Vec<Signal>,
    phrases: Vec<String>,
    #[serde(default)]
    context: Vec<String>,
    #[serde(default)]
    unless: Vec<String>,
}

/// One rule of the purpose table.
#[derive(Debug)]
pub(crate) struct PurposeRule {
    /// Unique rule name.
    pub(crate) id: String,
    /// Annex III point or area the purpose suggests.
    pub(crate) annex_iii: Option<AnnexIiiPoint>,
    /// Article 5 practices the purpose suggests.
    pub(crate) article_5: Vec<Article5Practice>,
    /// Facts the purpose implies.
    pub(crate) signals: Vec<Signal>,
    phrases: Vec<Pattern>,
    context: Vec<Pattern>,
    unless: Vec<Pattern>,
}

/// A rule that fired on a purpose text.
#[derive(Debug)]
pub(crate) struct PurposeMatch<'a> {
    /// The rule.
    pub(crate) rule: &'a PurposeRule,
    /// The matched words, for the reason shown to the user.
    pub(crate) excerpt: String,
}

/// Result of reading one purpose text.
#[derive(Debug, Default)]
pub(crate) struct PurposeReading<'a> {
    /// Rules that fired, in table order.
    pub(crate) matches: Vec<PurposeMatch<'a>>,
    /// Excerpts that matched a rule's phrase but were negated, such as "not rank job applicants".
    pub(crate) negated: Vec<String>,
}

/// The compiled purpose table.
#[derive(Debug)]
pub(crate) struct PurposeTable {
    rules: Vec<PurposeRule>,
}

impl PurposeTable {
    /// Returns the table compiled from the embedded `purposes.yaml`.
    ///
    /// # Panics
    ///
    /// Panics if the embedded file is invalid; the unit tests load it, so a broken file
    /// fails the build's tests rather than a scan.
    pub(crate) fn embedded() -> &'static PurposeTable {
        static TABLE: OnceLock<PurposeTable> = OnceLock::new();
        TABLE.get_or_init(|| {
            PurposeTable::from_yaml(EMBEDDED_TABLE)
                .unwrap_or_else(|error| panic!("embedded purposes.yaml is invalid: {error}"))
        })
    }

    /// Compiles a purpose table; the error names the rule and the phrase at fault.
    pub(crate) fn from_yaml(text: &str) -> Result<PurposeTable, String> {
        let raw: RawTable = yaml_serde::from_str(text).map_err(|error| error.to_string())?;
        let mut rules = Vec::with_capacity(raw.rules.len());
        for raw_rule in raw.rules {
            if rules
                .iter()
                .any(|rule: &PurposeRule| rule.id == raw_rule.id)
            {
                return Err(format!(
                    "purpose rule `{}` appears twice: rename one",
                    raw_rule.id
                ));
            }
            rules.push(compile_rule(raw_rule)?);
        }
        Ok(PurposeTable { rules })
    }

    /// Returns the compiled rules in table order.
    #[cfg(test)]
    pub(crate) fn rules(&self) -> &[PurposeRule] {
        &self.rules
    }

    /// Reads a purpose text and returns the rules that fire on it.
    pub(crate) fn read(&self, text: &str) -> PurposeReading<'_> {
        let tokens = phrase::tokenize(text);
        let mut reading = PurposeReading::default();
        for rule in &self.rules {
            match rule.first_match(&tokens) {
                RuleOutcome::Fired(excerpt) => reading.matches.push(PurposeMatch { rule, excerpt }),
                RuleOutcome::Negated(excerpt) => {
                    if !reading.negated.contains(&excerpt) {
                        reading.negated.push(excerpt);
                    }
                }
                RuleOutcome::NoMatch => {}
            }
        }
        reading
    }
}

fn compile_rule(raw: RawRule) -> Result<PurposeRule, String> {
    let compile = |sources: &[String]| -> Result<Vec<Pattern>, String> {
        sources
            .iter()
            .map(|source| {
                Pattern::parse(source)
                    .map_err(|error| format!("purpose rule `{}`: {error}", raw.id))
            })
            .collect()
    };
    let phrases = compile(&raw.phrases)?;
    let context = compile(&raw.context)?;
    let unless = compile(&raw.unless)?;
    if phrases.is_empty() {
        return Err(format!(
            "purpose rule `{}` has no phrases: add at least one",
            raw.id
        ));
    }
    let annex_iii = match raw.annex_iii.map(|annex| annex.0) {
        None => None,
        Some(points) if points.len() == 1 => Some(points[0]),
        Some(_) => {
            return Err(format!(
                "purpose rule `{}`: `annex_iii` must name exactly one point",
                raw.id
            ));
        }
    };
    if annex_iii.is_none() && raw.article_5.is_empty() && raw.signals.is_empty() {
        return Err(format!(
            "purpose rule `{}` suggests nothing: set annex_iii, article_5 or signals",
            raw.id
        ));
    }
    Ok(PurposeRule {
        id: raw.id,
        annex_iii,
        article_5: raw.article_5,
        signals: raw.signals,
        phrases,
        context,
        unless,
    })
}

enum RuleOutcome {
    Fired(String),
    Negated(String),
    NoMatch,
}

impl PurposeRule {
    /// Finds the first phrase match outside a negation, subject to `context` and `unless`.
    fn first_match(&self, tokens: &[Token]) -> RuleOutcome {
        let mut negated = None;
        for pattern in &self.phrases {
            for span in pattern.find_all(tokens) {
                let excerpt = phrase::excerpt(tokens, span);
                if !phrase::is_negated(tokens, span) {
                    return self.check_conditions(tokens, excerpt);
                }
                negated.get_or_insert(excerpt);
            }
        }
        match negated {
            Some(excerpt) => RuleOutcome::Negated(excerpt),
            None => RuleOutcome::NoMatch,
        }
    }

    fn check_conditions(&self, tokens: &[Token], excerpt: String) -> RuleOutcome {
        let has_context = self.context.is_empty() || any_affirmed(&self.context, tokens);
        let excluded = any_affirmed(&self.unless, tokens);
        match has_context && !excluded {
            true => RuleOutcome::Fired(excerpt),
            false => RuleOutcome::NoMatch,
        }
    }
}

/// Returns whether any pattern matches outside a negation.
fn any_affirmed(patterns: &[Pattern], tokens: &[Token]) -> bool {
    patterns.iter().any(|pattern| {
        pattern
            .find_all(tokens)
            .into_iter()
            .any(|span| !phrase::is_negated(tokens, span))
    })
}

#[cfg(test)]
mod tests;
