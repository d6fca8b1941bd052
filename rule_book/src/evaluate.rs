//! Evaluates rules against one system's facts.
//!
//! Predicates use three-valued (Kleene) logic: a test on an unknown fact, or on a fact of the
//! wrong type, is unknown, and carries the reason. `all` is false as soon as one part is false,
//! `any` is true as soon as one part is true, otherwise unknown wins over the remaining value.
//! An unknown never becomes a pass: unknown applicability and unknown checks give needs-evidence.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::facts::{CONFIDENCE_FACT, FactValue, Facts};
use crate::model::{FactTest, Framework, Outcome, Predicate, Rule, Scalar};

/// The result of one rule for one system.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Verdict {
    /// Rule id, `<framework>/<name>`.
    pub rule_id: String,
    /// Framework slug.
    pub framework: String,
    /// Rule title.
    pub title: String,
    /// Article or clause of the source text.
    pub reference: String,
    /// `critical`, `high`, `medium` or `low`.
    pub severity: String,
    /// A word from the framework's verdict vocabulary (EU AI Act: pass, fail, needs_evidence,
    /// not_applicable).
    pub status: String,
    /// Reasons for the status, one sentence each.
    pub reasons: Vec<String>,
    /// Evidence ids the rule requires that `system.evidence` does not list yet.
    pub evidence_required: Vec<String>,
    /// Date from which the obligation applies.
    pub effective_from: NaiveDate,
    /// Whether a person should confirm the verdict: the rule is marked for counsel review, or
    /// the rule's applicability rests on a classification with low confidence.
    pub needs_review: bool,
}

/// Truth value of a predicate in three-valued logic.
#[derive(Debug, Clone, PartialEq)]
enum Truth {
    True,
    False,
    /// Unknown, with one reason per unknown or mistyped fact.
    Unknown(Vec<String>),
}

/// Evaluates every rule of `framework` against `facts`, in rule id order.
pub(crate) fn evaluate_framework(
    framework: &Framework,
    facts: &Facts,
    on: NaiveDate,
) -> Vec<Verdict> {
    let low_confidence = matches!(
        facts.get(CONFIDENCE_FACT),
        Some(FactValue::Number(confidence)) if *confidence < framework.review_below_confidence
    );
    framework
        .rules
        .iter()
        .map(|rule| evaluate_rule(rule, facts, on, low_confidence))
        .collect()
}

fn evaluate_rule(rule: &Rule, facts: &Facts, on: NaiveDate, low_confidence: bool) -> Verdict {
    let (outcome, mut reasons, evidence_required) = match truth(&rule.applies_when, facts) {
        Truth::False => (
            Outcome::NotApplicable,
            vec!["the rule's applies_when conditions do not hold".to_owned()],
            Vec::new(),
        ),
        Truth::Unknown(unknown) => {
            let mut reasons =
                vec!["applicability cannot be decided until these facts are known".to_owned()];
            reasons.extend(unknown);
            (
                Outcome::NeedsEvidence,
                reasons,
                missing_evidence(rule, facts),
            )
        }
        Truth::True => applicable(rule, facts),
    };
    let effective_from = effective_from(rule, facts);
    if outcome != Outcome::NotApplicable && on < effective_from {
        reasons.push(format!("the obligation applies from {effective_from}"));
    }
    let needs_review = (rule.counsel_review && outcome != Outcome::NotApplicable)
        || (low_confidence && rule.applies_when.reads_facts());

    Verdict {
        rule_id: rule.id.clone(),
        framework: rule.framework.clone(),
        title: rule.title.clone(),
        reference: rule.reference.clone(),
        severity: rule.severity.as_str().to_owned(),
        status: rule.outcomes.word(outcome).to_owned(),
        reasons,
        evidence_required,
        effective_from,
        needs_review,
    }
}

/// Returns the rule's application date for this system. An override counts only when its `when`
/// is true, so an unknown fact keeps the base date.
fn effective_from(rule: &Rule, facts: &Facts) -> NaiveDate {
    rule.effective_overrides
        .iter()
        .find(|entry| truth(&entry.when, facts) == Truth::True)
        .map_or(rule.effective_from, |entry| entry.from)
}

/// Runs the checks and the evidence list of a rule that applies.
fn applicable(rule: &Rule, facts: &Facts) -> (Outcome, Vec<String>, Vec<String>) {
    let mut outcome = Outcome::Pass;
    let mut reasons = Vec::new();
    for check in &rule.checks {
        let runs = match &check.when {
            None => Truth::True,
            Some(when) => truth(when, facts),
        };
        let result = match runs {
            Truth::False => continue,
            Truth::True => truth(&check.require, facts),
            unknown @ Truth::Unknown(_) => unknown,
        };
        match result {
            Truth::True => {}
            Truth::False => {
                outcome = outcome.max(check.on_false);
                reasons.push(format!("check {} failed: {}", check.id, check.description));
            }
            Truth::Unknown(unknown) => {
                outcome = outcome.max(Outcome::NeedsEvidence);
                reasons.push(format!(
                    "check {} cannot run: {}",
                    check.id,
                    unknown.join("; ")
                ));
            }
        }
    }

    let missing = missing_evidence(rule, facts);
    if !missing.is_empty() {
        outcome = outcome.max(Outcome::NeedsEvidence);
        reasons.push(format!("evidence not yet provided: {}", missing.join(", ")));
    }
    if outcome == Outcome::Pass {
        reasons.push("all checks pass and the required evidence is provided".to_owned());
    }
    (outcome, reasons, missing)
}

/// Lists the evidence ids the rule requires and `system.evidence` lacks. An item whose `when`
/// is unknown counts as required.
fn missing_evidence(rule: &Rule, facts: &Facts) -> Vec<String> {
    rule.evidence
        .iter()
        .filter(|item| {
            item.when
                .as_ref()
                .is_none_or(|when| truth(when, facts) != Truth::False)
        })
        .filter(|item| !facts.has_evidence(&item.id))
        .map(|item| item.id.clone())
        .collect()
}

fn truth(predicate: &Predicate, facts: &Facts) -> Truth {
    match predicate {
        Predicate::All(parts) => combine(parts, facts, Truth::False),
        Predicate::Any(parts) => combine(parts, facts, Truth::True),
        Predicate::Not(inner) => match truth(inner, facts) {
            Truth::True => Truth::False,
            Truth::False => Truth::True,
            unknown @ Truth::Unknown(_) => unknown,
        },
        Predicate::Fact { name, test } => fact_truth(name, test, facts.get(name)),
    }
}

/// Combines parts where `decisive` settles the result (false for `all`, true for `any`).
fn combine(parts: &[Predicate], facts: &Facts, decisive: Truth) -> Truth {
    let mut unknown = Vec::new();
    for part in parts {
        match truth(part, facts) {
            Truth::Unknown(reasons) => unknown.extend(reasons),
            value if value == decisive => return decisive,
            _ => {}
        }
    }
    if !unknown.is_empty() {
        unknown.dedup();
        return Truth::Unknown(unknown);
    }
    if decisive == Truth::False {
        Truth::True
    } else {
        Truth::False
    }
}

fn fact_truth(name: &str, test: &FactTest, value: Option<&FactValue>) -> Truth {
    if let FactTest::IsSet(expected) = test {
        return Truth::from(value.is_some() == *expected);
    }
    let Some(value) = value else {
        return Truth::Unknown(vec![format!("fact {name} is unknown")]);
    };
    match test_value(test, value) {
        Some(result) => Truth::from(result),
        None => Truth::Unknown(vec![format!(
            "fact {name} has a {} value, which this rule cannot test",
            value.type_name()
        )]),
    }
}

/// Applies `test` to a known value; `None` when the value has a type the test does not accept.
fn test_value(test: &FactTest, value: &FactValue) -> Option<bool> {
    match (test, value) {
        (FactTest::Equals(expected), _) => scalar_equals(expected, value),
        (FactTest::In(options), _) => options
            .iter()
            .map(|option| scalar_equals(option, value))
            .try_fold(false, |found, equal| Some(found || equal?)),
        (FactTest::Contains(word), FactValue::List(items)) => Some(items.contains(word)),
        (FactTest::Contains(word), FactValue::Text(text)) => Some(text == word),
        (FactTest::AnyOf(words), FactValue::List(items)) => {
            Some(items.iter().any(|item| words.contains(item)))
        }
        (FactTest::AnyOf(words), FactValue::Text(text)) => Some(words.contains(text)),
        (FactTest::IsTrue, FactValue::Bool(flag)) => Some(*flag),
        (FactTest::IsFalse, FactValue::Bool(flag)) => Some(!*flag),
        (FactTest::Gte(bound), FactValue::Number(number)) if !number.is_nan() => {
            Some(number >= bound)
        }
        (FactTest::Lte(bound), FactValue::Number(number)) if !number.is_nan() => {
            Some(number <= bound)
        }
        (FactTest::NotEmpty(expected), FactValue::List(items)) => {
            Some(items.is_empty() != *expected)
        }
        (FactTest::NotEmpty(expected), FactValue::Text(text)) => Some(text.is_empty() != *expected),
        _ => None,
    }
}

fn scalar_equals(expected: &Scalar, value: &FactValue) -> Option<bool> {
    match (expected, value) {
        (Scalar::Bool(a), FactValue::Bool(b)) => Some(a == b),
        (Scalar::Number(a), FactValue::Number(b)) => Some(a == b),
        (Scalar::Text(a), FactValue::Text(b)) => Some(a == b),
        _ => None,
    }
}

impl From<bool> for Truth {
    fn from(value: bool) -> Self {
        if value { Truth::True } else { Truth::False }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fact(name: &str, test: FactTest) -> Predicate {
        Predicate::Fact {
            name: name.to_owned(),
            test,
        }
    }

    fn unknown(name: &str) -> Truth {
        Truth::Unknown(vec![format!("fact {name} is unknown")])
    }

    fn known_true() -> Predicate {
        fact("system.logging_enabled", FactTest::IsTrue)
    }

    fn known_false() -> Predicate {
        fact("system.logging_enabled", FactTest::IsFalse)
    }

    fn missing() -> Predicate {
        fact(
            "system.role",
            FactTest::Equals(Scalar::Text("provider".to_owned())),
        )
    }

    fn facts() -> Facts {
        let mut facts = Facts::new();
        facts.set("system.logging_enabled", true);
        facts
    }

    #[test]
    fn all_is_false_when_any_part_is_false() {
        let predicate = Predicate::All(vec![missing(), known_false()]);
        assert_eq!(truth(&predicate, &facts()), Truth::False);
    }

    #[test]
    fn all_is_unknown_when_no_part_is_false() {
        let predicate = Predicate::All(vec![known_true(), missing()]);
        assert_eq!(truth(&predicate, &facts()), unknown("system.role"));
    }

    #[test]
    fn any_is_true_when_any_part_is_true() {
        let predicate = Predicate::Any(vec![missing(), known_true()]);
        assert_eq!(truth(&predicate, &facts()), Truth::True);
    }

    #[test]
    fn any_is_unknown_when_no_part_is_true() {
        let predicate = Predicate::Any(vec![known_false(), missing()]);
        assert_eq!(truth(&predicate, &facts()), unknown("system.role"));
    }

    #[test]
    fn empty_combinators_have_identity_values() {
        assert_eq!(truth(&Predicate::All(Vec::new()), &facts()), Truth::True);
        assert_eq!(truth(&Predicate::Any(Vec::new()), &facts()), Truth::False);
    }

    #[test]
    fn not_keeps_unknown() {
        let predicate = Predicate::Not(Box::new(missing()));
        assert_eq!(truth(&predicate, &facts()), unknown("system.role"));
        let predicate = Predicate::Not(Box::new(known_true()));
        assert_eq!(truth(&predicate, &facts()), Truth::False);
    }

    #[test]
    fn is_set_is_never_unknown() {
        let set = fact("system.role", FactTest::IsSet(true));
        let unset = fact("system.role", FactTest::IsSet(false));
        assert_eq!(truth(&set, &facts()), Truth::False);
        assert_eq!(truth(&unset, &facts()), Truth::True);
    }

    #[test]
    fn list_tests_accept_single_text() {
        let value = FactValue::Text("4a".to_owned());
        assert_eq!(
            test_value(&FactTest::Contains("4a".to_owned()), &value),
            Some(true)
        );
        let any_of = FactTest::AnyOf(vec!["5b".to_owned(), "4a".to_owned()]);
        assert_eq!(test_value(&any_of, &value), Some(true));
        assert_eq!(test_value(&FactTest::NotEmpty(true), &value), Some(true));
    }

    #[test]
    fn nan_number_is_not_comparable() {
        let value = FactValue::Number(f64::NAN);
        assert_eq!(test_value(&FactTest::Gte(1.0), &value), None);
        assert_eq!(test_value(&FactTest::Lte(1.0), &value), None);
    }

    #[test]
    fn in_matches_any_option() {
        let options = FactTest::In(vec![
            Scalar::Text("in_the_loop".to_owned()),
            Scalar::Text("on_the_loop".to_owned()),
        ]);
        let on = FactValue::Text("on_the_loop".to_owned());
        let none = FactValue::Text("none".to_owned());
        assert_eq!(test_value(&options, &on), Some(true));
        assert_eq!(test_value(&options, &none), Some(false));
        assert_eq!(test_value(&options, &FactValue::Bool(true)), None);
    }
}
