//! Facts about one AI system, the input of the evaluator.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// One fact value. Serialises as the plain JSON value (`true`, `12`, `"provider"`, `["4a"]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum FactValue {
    /// A yes/no fact such as `system.logging_enabled`.
    Bool(bool),
    /// A number such as `system.log_retention_days`.
    Number(f64),
    /// A single word or text such as `system.role`.
    Text(String),
    /// A set of words such as `system.annex_iii` or `system.evidence`.
    List(Vec<String>),
}

impl FactValue {
    /// Returns the name of the value's type as the rule schema spells it.
    pub fn type_name(&self) -> &'static str {
        match self {
            FactValue::Bool(_) => "bool",
            FactValue::Number(_) => "number",
            FactValue::Text(_) => "text",
            FactValue::List(_) => "list",
        }
    }
}

impl From<bool> for FactValue {
    fn from(value: bool) -> Self {
        FactValue::Bool(value)
    }
}

impl From<f64> for FactValue {
    fn from(value: f64) -> Self {
        FactValue::Number(value)
    }
}

impl From<f32> for FactValue {
    fn from(value: f32) -> Self {
        FactValue::Number(f64::from(value))
    }
}

impl From<i64> for FactValue {
    fn from(value: i64) -> Self {
        // Counts and day numbers in facts stay far below 2^53, where f64 is exact.
        FactValue::Number(value as f64)
    }
}

impl From<i32> for FactValue {
    fn from(value: i32) -> Self {
        FactValue::Number(f64::from(value))
    }
}

impl From<u32> for FactValue {
    fn from(value: u32) -> Self {
        FactValue::Number(f64::from(value))
    }
}

impl From<&str> for FactValue {
    fn from(value: &str) -> Self {
        FactValue::Text(value.to_owned())
    }
}

impl From<String> for FactValue {
    fn from(value: String) -> Self {
        FactValue::Text(value)
    }
}

impl From<Vec<String>> for FactValue {
    fn from(value: Vec<String>) -> Self {
        FactValue::List(value)
    }
}

impl From<Vec<&str>> for FactValue {
    fn from(value: Vec<&str>) -> Self {
        FactValue::List(value.into_iter().map(str::to_owned).collect())
    }
}

impl<const N: usize> From<[&str; N]> for FactValue {
    fn from(value: [&str; N]) -> Self {
        FactValue::List(value.into_iter().map(str::to_owned).collect())
    }
}

/// Facts about one system, keyed by attribute name such as `system.role`.
///
/// A missing key means the fact is unknown; the evaluator never lets an unknown fact make a rule
/// pass. Serialises as a JSON object.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Facts {
    values: BTreeMap<String, FactValue>,
}

impl Facts {
    /// Creates an empty set of facts, in which every fact is unknown.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets a fact, replacing any earlier value.
    pub fn set(&mut self, name: &str, value: impl Into<FactValue>) {
        self.values.insert(name.to_owned(), value.into());
    }

    /// Returns a fact, or `None` when it is unknown.
    pub fn get(&self, name: &str) -> Option<&FactValue> {
        self.values.get(name)
    }

    /// Removes a fact, making it unknown again.
    pub fn remove(&mut self, name: &str) -> Option<FactValue> {
        self.values.remove(name)
    }

    /// Iterates over the known facts in name order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &FactValue)> {
        self.values
            .iter()
            .map(|(name, value)| (name.as_str(), value))
    }

    /// Returns whether `id` is listed in `system.evidence`.
    pub fn has_evidence(&self, id: &str) -> bool {
        match self.get(EVIDENCE_FACT) {
            Some(FactValue::List(ids)) => ids.iter().any(|provided| provided == id),
            Some(FactValue::Text(single)) => single == id,
            _ => false,
        }
    }
}

/// Name of the fact that lists the evidence ids a team has declared as provided.
pub const EVIDENCE_FACT: &str = "system.evidence";

/// Name of the fact that carries the classifier's confidence in 0.0..=1.0.
pub const CONFIDENCE_FACT: &str = "classification.confidence";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn facts_round_trip_as_json_object() {
        let mut facts = Facts::new();
        facts.set("system.role", "provider");
        facts.set("system.log_retention_days", 200);
        facts.set("system.logging_enabled", true);
        facts.set("system.annex_iii", ["4a"]);

        let json = serde_json::to_value(&facts).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "system.annex_iii": ["4a"],
                "system.log_retention_days": 200.0,
                "system.logging_enabled": true,
                "system.role": "provider",
            })
        );
        let back: Facts = serde_json::from_value(json).unwrap();
        assert_eq!(back, facts);
    }

    #[test]
    fn evidence_lookup_reads_evidence_fact() {
        let mut facts = Facts::new();
        assert!(!facts.has_evidence("fria"));
        facts.set(EVIDENCE_FACT, ["fria", "dpia"]);
        assert!(facts.has_evidence("fria"));
        assert!(!facts.has_evidence("risk-plan"));
    }
}
