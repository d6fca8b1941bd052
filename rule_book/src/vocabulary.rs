//! Fact names that rules may read, with their types and allowed words.
//!
//! The built-in list is the attribute vocabulary the classifier fills in. A framework may add
//! names in its `framework.yaml` under `facts`.

use std::collections::BTreeMap;

/// Type of a fact's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FactType {
    /// `true` or `false`.
    Bool,
    /// A number.
    Number,
    /// One word.
    Text,
    /// A set of words.
    List,
}

impl FactType {
    /// Parses the type word used in `framework.yaml`.
    pub(crate) fn parse(word: &str) -> Option<FactType> {
        match word {
            "bool" => Some(FactType::Bool),
            "number" => Some(FactType::Number),
            "text" => Some(FactType::Text),
            "list" => Some(FactType::List),
            _ => None,
        }
    }

    /// Returns the type word used in `framework.yaml` and messages.
    pub fn as_str(self) -> &'static str {
        match self {
            FactType::Bool => "bool",
            FactType::Number => "number",
            FactType::Text => "text",
            FactType::List => "list",
        }
    }
}

/// One known fact name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FactSpec {
    /// Type of the value.
    pub kind: FactType,
    /// Allowed words for text and list facts; empty means any word.
    pub values: Vec<String>,
    /// Meaning of the fact, for facts a framework declares; empty for built-in facts.
    pub description: String,
}

const ROLES: &[&str] = &["provider", "deployer", "importer", "distributor"];
const AREAS: &[&str] = &[
    "biometrics",
    "critical-infrastructure",
    "education",
    "employment",
    "essential-services",
    "law-enforcement",
    "migration-border",
    "justice-democracy",
];
const RISK_CLASSES: &[&str] = &["prohibited", "high", "limited", "minimal", "unknown"];
const PROHIBITED_FLAGS: &[&str] = &[
    "manipulation",
    "vulnerability_exploitation",
    "social_scoring",
    "crime_prediction_profiling",
    "face_scraping",
    "emotion_workplace_education",
    "sensitive_biometric_categorisation",
    "realtime_rbi_law_enforcement",
    "intimate_imagery_csam",
];
const OVERSIGHT: &[&str] = &["none", "in_the_loop", "on_the_loop"];
const DOCUMENTATION: &[&str] = &[
    "model_card",
    "technical_file",
    "instructions_for_use",
    "datasheet",
];
const MODEL_SOURCES: &[&str] = &[
    "in_house",
    "fine_tuned",
    "open_weights",
    "vendor_api",
    "embedded_saas",
];

/// Built-in facts: name, type, allowed words.
const BUILT_IN: &[(&str, FactType, &[&str])] = &[
    ("system.role", FactType::Text, ROLES),
    ("system.markets", FactType::List, &[]),
    ("system.annex_iii", FactType::List, &[]),
    ("system.annex_iii_area", FactType::Text, AREAS),
    ("system.risk_class", FactType::Text, RISK_CLASSES),
    ("system.annex_i_product", FactType::Bool, &[]),
    ("system.art6_3_derogation", FactType::Bool, &[]),
    ("system.profiles_natural_persons", FactType::Bool, &[]),
    (
        "system.prohibited_practice_flags",
        FactType::List,
        PROHIBITED_FLAGS,
    ),
    ("system.is_gpai_model", FactType::Bool, &[]),
    ("system.builds_on_gpai", FactType::Bool, &[]),
    ("system.gpai_training_flops", FactType::Number, &[]),
    ("system.gpai_systemic_designation", FactType::Bool, &[]),
    ("system.interacts_with_people", FactType::Bool, &[]),
    ("system.generates_synthetic_content", FactType::Bool, &[]),
    ("system.emotion_recognition", FactType::Bool, &[]),
    ("system.biometric_categorisation", FactType::Bool, &[]),
    ("system.human_oversight", FactType::Text, OVERSIGHT),
    ("system.override_capability", FactType::Bool, &[]),
    ("system.logging_enabled", FactType::Bool, &[]),
    ("system.log_retention_days", FactType::Number, &[]),
    ("system.documentation", FactType::List, DOCUMENTATION),
    ("system.evidence", FactType::List, &[]),
    ("system.model_source", FactType::Text, MODEL_SOURCES),
    ("system.processes_personal_data", FactType::Bool, &[]),
    ("tenant.public_body", FactType::Bool, &[]),
    ("tenant.public_service", FactType::Bool, &[]),
    ("classification.confidence", FactType::Number, &[]),
];

/// Returns the built-in fact vocabulary, keyed by name.
pub fn built_in() -> BTreeMap<String, FactSpec> {
    BUILT_IN
        .iter()
        .map(|(name, kind, values)| {
            let values = values.iter().map(|value| (*value).to_owned()).collect();
            let spec = FactSpec {
                kind: *kind,
                values,
                description: String::new(),
            };
            ((*name).to_owned(), spec)
        })
        .collect()
}
