//! Predicate conversion: fact names, operator types and allowed words.

use crate::LoadError;
use crate::model::{FactTest, Predicate, Scalar};
use crate::positions::child_pointer;
use crate::raw::{RawPredicate, RawScalar};
use crate::validate::{Site, Vocabulary};
use crate::vocabulary::{FactSpec, FactType};

/// Converts predicates, checking fact names, operator types and allowed words.
pub(crate) struct Predicates<'a> {
    pub(crate) vocabulary: &'a Vocabulary,
    pub(crate) site: &'a Site<'a>,
}

const SHAPE_HELP: &str = "a predicate is exactly one of `all`, `any`, `not`, or `fact` with one operator (equals, in, contains, any_of, is_true, is_false, gte, lte, is_set, not_empty)";

impl Predicates<'_> {
    pub(crate) fn convert(
        &self,
        raw: &RawPredicate,
        pointer: &str,
    ) -> Result<Predicate, LoadError> {
        let combinators = [
            raw.all.is_some(),
            raw.any.is_some(),
            raw.not.is_some(),
            raw.fact.is_some(),
        ];
        if combinators.iter().filter(|set| **set).count() != 1 {
            return Err(self.site.error(pointer, SHAPE_HELP));
        }
        if let Some(parts) = &raw.all {
            return Ok(Predicate::All(
                self.convert_list(parts, &child_pointer(pointer, "all"))?,
            ));
        }
        if let Some(parts) = &raw.any {
            return Ok(Predicate::Any(
                self.convert_list(parts, &child_pointer(pointer, "any"))?,
            ));
        }
        if let Some(inner) = &raw.not {
            return Ok(Predicate::Not(Box::new(
                self.convert(inner, &child_pointer(pointer, "not"))?,
            )));
        }
        let name = raw.fact.clone().unwrap_or_default();
        let Some(spec) = self.vocabulary.get(&name) else {
            let message = format!(
                "unknown fact `{name}`; use a built-in fact name or declare it under `facts` in framework.yaml"
            );
            return Err(self.site.error(&child_pointer(pointer, "fact"), message));
        };
        let test = self.fact_test(raw, spec, &name, pointer)?;
        Ok(Predicate::Fact { name, test })
    }

    fn convert_list(
        &self,
        parts: &[RawPredicate],
        pointer: &str,
    ) -> Result<Vec<Predicate>, LoadError> {
        parts
            .iter()
            .enumerate()
            .map(|(index, part)| self.convert(part, &child_pointer(pointer, &index.to_string())))
            .collect()
    }

    fn fact_test(
        &self,
        raw: &RawPredicate,
        spec: &FactSpec,
        name: &str,
        pointer: &str,
    ) -> Result<FactTest, LoadError> {
        let mut tests = operators(raw);
        if tests.len() != 1 {
            return Err(self.site.error(pointer, SHAPE_HELP));
        }

        let (operator, test, types) = tests.remove(0);
        let operator_pointer = child_pointer(pointer, operator);
        if !types.contains(&spec.kind) {
            let kind = spec.kind.as_str();
            let message = format!("`{operator}` does not apply to `{name}`, a {kind} fact");
            return Err(self.site.error(&operator_pointer, message));
        }

        self.check_words(&test, spec, name, &operator_pointer)?;
        Ok(test)
    }

    /// Rejects literals a fact can never take, such as `role: provder`.
    fn check_words(
        &self,
        test: &FactTest,
        spec: &FactSpec,
        name: &str,
        pointer: &str,
    ) -> Result<(), LoadError> {
        let literals: Vec<Scalar> = match test {
            FactTest::Equals(value) => vec![value.clone()],
            FactTest::In(values) => values.clone(),
            FactTest::Contains(word) => vec![Scalar::Text(word.clone())],
            FactTest::AnyOf(words) => words.iter().cloned().map(Scalar::Text).collect(),
            _ => Vec::new(),
        };
        for literal in literals {
            let fits = match (&literal, spec.kind) {
                (Scalar::Bool(_), FactType::Bool) | (Scalar::Number(_), FactType::Number) => true,
                (Scalar::Text(word), FactType::Text | FactType::List) => {
                    spec.values.is_empty() || spec.values.contains(word)
                }
                _ => false,
            };
            if !fits {
                let allowed = if spec.values.is_empty() {
                    format!("a {} value", spec.kind.as_str())
                } else {
                    spec.values.join(", ")
                };
                return Err(self.site.error(
                    pointer,
                    format!("`{literal}` is not a possible value of `{name}`; expected {allowed}"),
                ));
            }
        }
        Ok(())
    }
}

/// One operator of a fact predicate: its key, the test, and the fact types it accepts.
type Operator = (&'static str, FactTest, &'static [FactType]);

/// Collects the operators set on a fact predicate; a valid predicate has exactly one.
fn operators(raw: &RawPredicate) -> Vec<Operator> {
    use FactType::{Bool, List, Number, Text};
    let mut found: Vec<Operator> = Vec::new();
    if let Some(value) = &raw.equals {
        found.push((
            "equals",
            FactTest::Equals(scalar(value)),
            &[Bool, Number, Text],
        ));
    }
    if let Some(values) = &raw.in_list {
        let options = values.iter().map(scalar).collect();
        found.push(("in", FactTest::In(options), &[Number, Text]));
    }

    if let Some(value) = &raw.contains {
        found.push(("contains", FactTest::Contains(value.clone()), &[List]));
    }
    if let Some(values) = &raw.any_of {
        found.push(("any_of", FactTest::AnyOf(values.clone()), &[List, Text]));
    }

    if raw.is_true.is_some() {
        found.push(("is_true", FactTest::IsTrue, &[Bool]));
    }
    if raw.is_false.is_some() {
        found.push(("is_false", FactTest::IsFalse, &[Bool]));
    }

    if let Some(bound) = raw.gte {
        found.push(("gte", FactTest::Gte(bound), &[Number]));
    }
    if let Some(bound) = raw.lte {
        found.push(("lte", FactTest::Lte(bound), &[Number]));
    }

    if let Some(set) = raw.is_set {
        found.push(("is_set", FactTest::IsSet(set), &[Bool, Number, Text, List]));
    }
    if let Some(not_empty) = raw.not_empty {
        found.push(("not_empty", FactTest::NotEmpty(not_empty), &[List, Text]));
    }

    found
}

fn scalar(raw: &RawScalar) -> Scalar {
    match raw {
        RawScalar::Bool(value) => Scalar::Bool(*value),
        RawScalar::Number(value) => Scalar::Number(*value),
        RawScalar::Text(value) => Scalar::Text(value.clone()),
    }
}
