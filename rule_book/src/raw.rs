//! serde mirror of the YAML files, before validation. `validate` turns these into the model.

use serde::Deserialize;

/// `framework.yaml` in a framework folder.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawFramework {
    pub(crate) slug: String,
    pub(crate) title: String,
    pub(crate) version: String,
    pub(crate) description: String,
    pub(crate) source: RawSource,
    #[serde(default)]
    pub(crate) jurisdiction: Option<String>,
    pub(crate) verdicts: Vec<RawVerdictWord>,
    pub(crate) outcomes: RawOutcomes,
    #[serde(default)]
    pub(crate) review_below_confidence: Option<f64>,
    #[serde(default)]
    pub(crate) facts: Vec<RawFactDeclaration>,
}

/// Title and URL of the framework's source text.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawSource {
    pub(crate) title: String,
    pub(crate) url: String,
}

/// One word of a framework's verdict vocabulary.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawVerdictWord {
    pub(crate) id: String,
    pub(crate) description: String,
}

/// Verdict word per evaluator outcome; all four are required in `framework.yaml`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawOutcomes {
    pub(crate) pass: String,
    pub(crate) fail: String,
    pub(crate) needs_evidence: String,
    pub(crate) not_applicable: String,
}

/// Per-rule override of some outcome words.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawOutcomeOverrides {
    #[serde(default)]
    pub(crate) pass: Option<String>,
    #[serde(default)]
    pub(crate) fail: Option<String>,
    #[serde(default)]
    pub(crate) needs_evidence: Option<String>,
    #[serde(default)]
    pub(crate) not_applicable: Option<String>,
}

/// A fact name that a framework adds to the built-in vocabulary.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawFactDeclaration {
    pub(crate) name: String,
    #[serde(rename = "type")]
    pub(crate) kind: String,
    #[serde(default)]
    pub(crate) values: Vec<String>,
    pub(crate) description: String,
}

/// One rule.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawRule {
    pub(crate) id: String,
    pub(crate) framework: String,
    pub(crate) title: String,
    pub(crate) reference: String,
    pub(crate) severity: String,
    pub(crate) effective_from: String,
    #[serde(default)]
    pub(crate) effective_overrides: Vec<RawEffectiveOverride>,
    pub(crate) applies_when: RawPredicate,
    pub(crate) checks: Vec<RawCheck>,
    pub(crate) evidence: Vec<RawEvidence>,
    pub(crate) remediation: String,
    #[serde(default)]
    pub(crate) review: Option<String>,
    #[serde(default)]
    pub(crate) outcomes: Option<RawOutcomeOverrides>,
}

/// A different application date for systems that match `when`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawEffectiveOverride {
    pub(crate) when: RawPredicate,
    pub(crate) from: String,
}

/// One automated check.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawCheck {
    pub(crate) id: String,
    pub(crate) description: String,
    #[serde(default)]
    pub(crate) when: Option<RawPredicate>,
    pub(crate) require: RawPredicate,
    #[serde(default)]
    pub(crate) on_false: Option<String>,
}

/// One piece of evidence a rule requires.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawEvidence {
    pub(crate) id: String,
    pub(crate) description: String,
    #[serde(default)]
    pub(crate) when: Option<RawPredicate>,
}

/// A predicate as written: exactly one of `all`, `any`, `not`, or `fact` with one operator.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawPredicate {
    #[serde(default)]
    pub(crate) all: Option<Vec<RawPredicate>>,
    #[serde(default)]
    pub(crate) any: Option<Vec<RawPredicate>>,
    #[serde(default)]
    pub(crate) not: Option<Box<RawPredicate>>,
    #[serde(default)]
    pub(crate) fact: Option<String>,
    #[serde(default)]
    pub(crate) equals: Option<RawScalar>,
    #[serde(default, rename = "in")]
    pub(crate) in_list: Option<Vec<RawScalar>>,
    #[serde(default)]
    pub(crate) contains: Option<String>,
    #[serde(default)]
    pub(crate) any_of: Option<Vec<String>>,
    #[serde(default)]
    pub(crate) is_true: Option<bool>,
    #[serde(default)]
    pub(crate) is_false: Option<bool>,
    #[serde(default)]
    pub(crate) gte: Option<f64>,
    #[serde(default)]
    pub(crate) lte: Option<f64>,
    #[serde(default)]
    pub(crate) is_set: Option<bool>,
    #[serde(default)]
    pub(crate) not_empty: Option<bool>,
}

/// A literal compared with a fact.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub(crate) enum RawScalar {
    Bool(bool),
    Number(f64),
    Text(String),
}
