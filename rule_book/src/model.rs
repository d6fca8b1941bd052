//! The validated rule book: frameworks, rules, predicates.

use chrono::NaiveDate;

/// One framework pack, loaded from `v1/<slug>/`.
#[derive(Debug, Clone)]
pub struct Framework {
    /// Folder name and rule-id prefix, for example `eu-ai-act`.
    pub slug: String,
    /// Human-readable name.
    pub title: String,
    /// Version of the legal text or standard the pack follows.
    pub version: String,
    /// Scope of the framework in a few sentences.
    pub description: String,
    /// Title and URL of the source text.
    pub source: String,
    /// Jurisdiction of a framework that is law (`eu`, `uk`); `None` for standards.
    pub jurisdiction: Option<String>,
    /// The verdict words this framework uses, in declared order.
    pub verdicts: Vec<String>,
    /// Meaning of each verdict word.
    pub verdict_descriptions: std::collections::BTreeMap<String, String>,
    /// Rules in id order.
    pub rules: Vec<Rule>,
    /// Verdict word per evaluator outcome.
    pub outcomes: OutcomeWords,
    /// A `classification.confidence` below this marks verdicts for human review.
    pub review_below_confidence: f64,
}

/// The verdict word a framework or rule uses for each evaluator outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutcomeWords {
    /// Word for a rule whose checks pass and whose evidence is all provided.
    pub pass: String,
    /// Word for a rule with a failing check.
    pub fail: String,
    /// Word for a rule that lacks facts or evidence.
    pub needs_evidence: String,
    /// Word for a rule whose `applies_when` is false.
    pub not_applicable: String,
}

impl OutcomeWords {
    /// Returns the word for one outcome.
    pub fn word(&self, outcome: Outcome) -> &str {
        match outcome {
            Outcome::Pass => &self.pass,
            Outcome::Fail => &self.fail,
            Outcome::NeedsEvidence => &self.needs_evidence,
            Outcome::NotApplicable => &self.not_applicable,
        }
    }
}

/// Evaluator result for one rule, before the framework's verdict word is applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Outcome {
    /// `applies_when` is false.
    NotApplicable,
    /// Checks pass and all required evidence is provided.
    Pass,
    /// A fact is unknown or evidence is missing.
    NeedsEvidence,
    /// A check failed.
    Fail,
}

/// Seriousness of a breach of a rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    /// Prohibited practice or systemic risk.
    Critical,
    /// Core duty of a high-risk system.
    High,
    /// Transparency or literacy duty.
    Medium,
    /// Good practice.
    Low,
}

impl Severity {
    /// Returns the word used in rule files and verdicts.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Critical => "critical",
            Severity::High => "high",
            Severity::Medium => "medium",
            Severity::Low => "low",
        }
    }
}

/// One rule of a framework.
#[derive(Debug, Clone)]
pub struct Rule {
    /// `<framework>/<name>`, stable forever.
    pub id: String,
    /// Framework slug.
    pub framework: String,
    /// One-line obligation in plain words.
    pub title: String,
    /// Article or clause of the source text.
    pub reference: String,
    /// Seriousness of a breach.
    pub severity: Severity,
    /// Date from which the obligation applies, unless an override matches.
    pub effective_from: NaiveDate,
    /// Other application dates for some systems; the first override whose `when` is true wins.
    pub effective_overrides: Vec<EffectiveOverride>,
    /// When the rule applies to a system.
    pub applies_when: Predicate,
    /// Automated checks over facts.
    pub checks: Vec<Check>,
    /// Evidence the rule requires.
    pub evidence: Vec<EvidenceItem>,
    /// Next step for a team that does not comply.
    pub remediation: String,
    /// Whether a verdict on this rule should be confirmed by counsel.
    pub counsel_review: bool,
    /// Verdict words, with the rule's overrides applied over the framework's.
    pub outcomes: OutcomeWords,
    /// File the rule was loaded from, relative to the rule-book root.
    pub file: String,
}

/// An application date that replaces the rule's `effective_from` for matching systems.
#[derive(Debug, Clone)]
pub struct EffectiveOverride {
    /// Systems the date is for.
    pub when: Predicate,
    /// Date from which the obligation applies to them.
    pub from: NaiveDate,
}

/// One automated check of a rule.
#[derive(Debug, Clone)]
pub struct Check {
    /// Id, unique within the rule.
    pub id: String,
    /// Plain-words statement of the condition the check tests.
    pub description: String,
    /// The check runs only when this holds; `None` means always.
    pub when: Option<Predicate>,
    /// The condition that must hold.
    pub require: Predicate,
    /// Outcome when `require` is false: `Fail` or `NeedsEvidence`.
    pub on_false: Outcome,
}

/// One piece of evidence a rule requires, satisfied when its id is in `system.evidence`.
#[derive(Debug, Clone)]
pub struct EvidenceItem {
    /// Id a team lists in `system.evidence`; shared between rules of a framework.
    pub id: String,
    /// Content the evidence must have.
    pub description: String,
    /// The evidence is required only when this holds; `None` means always.
    pub when: Option<Predicate>,
}

/// A condition over facts, evaluated in three-valued logic (true, false, unknown).
#[derive(Debug, Clone, PartialEq)]
pub enum Predicate {
    /// True when every part is true; an empty list is true.
    All(Vec<Predicate>),
    /// True when at least one part is true; an empty list is false.
    Any(Vec<Predicate>),
    /// Negation; unknown stays unknown.
    Not(Box<Predicate>),
    /// A test on one fact.
    Fact {
        /// Fact name, such as `system.role`.
        name: String,
        /// The test applied to its value.
        test: FactTest,
    },
}

/// A test on one fact's value.
#[derive(Debug, Clone, PartialEq)]
pub enum FactTest {
    /// The value equals the literal.
    Equals(Scalar),
    /// The value is one of the literals.
    In(Vec<Scalar>),
    /// The list contains the word.
    Contains(String),
    /// The list shares at least one word with the literals.
    AnyOf(Vec<String>),
    /// The boolean is true.
    IsTrue,
    /// The boolean is false.
    IsFalse,
    /// The number is at least the bound.
    Gte(f64),
    /// The number is at most the bound.
    Lte(f64),
    /// The fact is known (`true`) or unknown (`false`); never itself unknown.
    IsSet(bool),
    /// The list is not empty (`true`) or is empty (`false`).
    NotEmpty(bool),
}

/// A literal in a predicate.
#[derive(Debug, Clone, PartialEq)]
pub enum Scalar {
    /// `true` or `false`.
    Bool(bool),
    /// A number.
    Number(f64),
    /// A word or text.
    Text(String),
}

impl std::fmt::Display for Scalar {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Scalar::Bool(value) => write!(f, "{value}"),
            Scalar::Number(value) => write!(f, "{value}"),
            Scalar::Text(value) => write!(f, "{value}"),
        }
    }
}

impl Predicate {
    /// Returns whether the predicate reads any fact.
    pub fn reads_facts(&self) -> bool {
        match self {
            Predicate::All(parts) | Predicate::Any(parts) => {
                parts.iter().any(Predicate::reads_facts)
            }
            Predicate::Not(inner) => inner.reads_facts(),
            Predicate::Fact { .. } => true,
        }
    }
}
