//! The `secruna.yaml` declaration a team puts at a project root to state the facts about
//! its AI system that code cannot show: purpose, role, Annex III area, Article 5 practices,
//! oversight, logging and the evidence it has in place.
//!
//! ```yaml
//! name: cv-screener
//! purpose: ranks job applicants for recruiters
//! role: provider
//! annex_iii: 4a
//! article_5: []
//! human_oversight: in_the_loop
//! markets: [eu]
//! logging: {enabled: true, retention_days: 365}
//! evidence:
//!   - risk-register
//!   - {id: technical-file, document: docs/annex-iv.md}
//! ```
//!
//! Every field is optional: a missing field is an unknown fact, never a "no".

mod annex_iii;
mod error;
mod limits;
mod vocabulary;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

pub use annex_iii::{AnnexIii, AnnexIiiArea, AnnexIiiPoint};
pub use error::DeclarationError;
pub use vocabulary::{
    Article5Practice, DocumentKind, EvidenceItem, HumanOversight, Market, ModelSource, Role,
};

/// The contents of a `secruna.yaml` file.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Declaration {
    /// Name of the AI system.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Intended purpose in the team's words, such as "ranks job applicants".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purpose: Option<String>,
    /// Whether the organisation is the provider or a deployer of the system.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<Role>,
    /// Annex III areas or points the system falls under; an empty list states `none`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annex_iii: Option<AnnexIii>,
    /// Article 5 practices the system performs; an empty list states that it performs none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub article_5: Option<Vec<Article5Practice>>,
    /// Whether the system is a safety component of, or itself, a product under Annex I law.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annex_i_product: Option<bool>,
    /// Whether the team claims the Art 6(3) derogation: Annex III, but not high-risk.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub art6_3_derogation: Option<bool>,
    /// Whether the system profiles natural persons, which rules the derogation out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profiles_natural_persons: Option<bool>,
    /// Kind of human supervision of the output.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub human_oversight: Option<HumanOversight>,
    /// Whether a human can override or stop the system.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub override_capability: Option<bool>,
    /// Markets where the system is placed or its output is used, such as `eu`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub markets: Option<Vec<Market>>,
    /// Whether people interact with the system directly (Art 50(1)).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interacts_with_people: Option<bool>,
    /// Whether the system generates synthetic audio, image, video or text (Art 50(2)).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generates_synthetic_content: Option<bool>,
    /// Whether the system recognises emotions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub emotion_recognition: Option<bool>,
    /// Whether the system sorts people into categories from biometric data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub biometric_categorisation: Option<bool>,
    /// Whether the system processes personal data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub processes_personal_data: Option<bool>,
    /// Origin of the model.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_source: Option<ModelSource>,
    /// Documents the team keeps for the system.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub documentation: Option<Vec<DocumentKind>>,
    /// Automatic event logging.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logging: Option<Logging>,
    /// Whether the system is itself a general-purpose AI model.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gpai_model: Option<bool>,
    /// Cumulative training compute of the GPAI model, in floating-point operations.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gpai_training_flops: Option<f64>,
    /// Whether the Commission designated the GPAI model as having systemic risk.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gpai_systemic_designation: Option<bool>,
    /// Whether the organisation using the system is a public body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_body: Option<bool>,
    /// Whether the organisation provides a public service with the system.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_service: Option<bool>,
    /// Evidence the team has in place.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evidence: Option<Vec<EvidenceItem>>,
}

/// The `logging` section.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Logging {
    /// Whether the system records events automatically.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// How long logs are kept, in days.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retention_days: Option<u32>,
}

/// Encoding of an attribute value in the flat attribute map.
#[derive(Clone, Copy)]
enum Encoding {
    /// The string itself.
    Text,
    /// `true`/`false` or a decimal number, read back as JSON.
    Scalar,
    /// A JSON array or object.
    Json,
}

/// Attribute keys in field order; `logging.*` are the flattened `logging` section.
const ATTRIBUTE_KEYS: [(&str, Encoding); 26] = [
    ("name", Encoding::Text),
    ("purpose", Encoding::Text),
    ("role", Encoding::Text),
    ("annex_iii", Encoding::Json),
    ("article_5", Encoding::Json),
    ("annex_i_product", Encoding::Scalar),
    ("art6_3_derogation", Encoding::Scalar),
    ("profiles_natural_persons", Encoding::Scalar),
    ("human_oversight", Encoding::Text),
    ("override_capability", Encoding::Scalar),
    ("markets", Encoding::Json),
    ("interacts_with_people", Encoding::Scalar),
    ("generates_synthetic_content", Encoding::Scalar),
    ("emotion_recognition", Encoding::Scalar),
    ("biometric_categorisation", Encoding::Scalar),
    ("processes_personal_data", Encoding::Scalar),
    ("model_source", Encoding::Text),
    ("documentation", Encoding::Json),
    ("logging.enabled", Encoding::Scalar),
    ("logging.retention_days", Encoding::Scalar),
    ("gpai_model", Encoding::Scalar),
    ("gpai_training_flops", Encoding::Scalar),
    ("gpai_systemic_designation", Encoding::Scalar),
    ("public_body", Encoding::Scalar),
    ("public_service", Encoding::Scalar),
    ("evidence", Encoding::Json),
];

impl Declaration {
    /// Returns this declaration with the fields of `overrides` (a JSON object in
    /// `secruna.yaml` form, such as the facts declared through the API) laid over it.
    /// A field in `overrides` replaces the same field here; the others stay.
    pub fn overlaid(&self, overrides: &serde_json::Value) -> Result<Declaration, DeclarationError> {
        let Some(overrides) = overrides.as_object().filter(|fields| !fields.is_empty()) else {
            return Ok(self.clone());
        };
        let mut fields = match serde_json::to_value(self) {
            Ok(serde_json::Value::Object(fields)) => fields,
            _ => serde_json::Map::new(),
        };
        fields.retain(|_, value| !value.is_null());
        fields.extend(overrides.clone());
        serde_json::from_value(serde_json::Value::Object(fields)).map_err(|error| {
            DeclarationError::Unlocated {
                message: format!(
                    "the declared fields do not combine with the project's secruna.yaml: {error}"
                ),
            }
        })
    }

    /// Parses the text of a `secruna.yaml` file.
    ///
    /// A file that is empty or holds only comments is an empty declaration. Errors name
    /// the line, the field and the values that are accepted. A text over 64 KiB, or with
    /// `[`/`{` nested more than 64 levels deep, is rejected before it is parsed.
    pub fn from_yaml(text: &str) -> Result<Declaration, DeclarationError> {
        limits::check(text)?;
        let has_content = text.lines().any(|line| {
            let line = line.trim();
            !line.is_empty() && !line.starts_with('#') && line != "---"
        });
        if !has_content {
            return Ok(Declaration::default());
        }
        let declaration: Declaration =
            yaml_serde::from_str(text).map_err(|error| error::from_yaml_error(&error, text))?;
        declaration.check_training_flops(text)?;
        Ok(declaration)
    }

    /// Rejects a training compute that is negative, infinite or not a number, which YAML
    /// allows (`-1`, `.inf`, `.nan`) but no model has.
    fn check_training_flops(&self, text: &str) -> Result<(), DeclarationError> {
        let Some(flops) = self.gpai_training_flops else {
            return Ok(());
        };
        if flops.is_finite() && flops >= 0.0 {
            return Ok(());
        }
        Err(DeclarationError::Invalid {
            line: error::top_level_key_line(text, "gpai_training_flops", 0).unwrap_or(1),
            field: Some("gpai_training_flops".to_owned()),
            message: format!(
                "`gpai_training_flops` is {flops:e}: expected a non-negative number of operations such as 1e25"
            ),
        })
    }

    /// Flattens the declaration into string attributes for a declaration finding.
    ///
    /// Text fields are stored as they are, booleans as `true`/`false`, numbers in decimal,
    /// lists and evidence entries as compact JSON, and the `logging` section as
    /// `logging.enabled` and `logging.retention_days`. Unset fields are left out.
    pub fn to_attributes(&self) -> BTreeMap<String, String> {
        let Ok(Value::Object(fields)) = serde_json::to_value(self) else {
            unreachable!("a Declaration always serialises to a JSON object");
        };
        let mut attributes = BTreeMap::new();
        for (key, value) in fields {
            match (key.as_str(), value) {
                ("logging", Value::Object(logging)) => {
                    for (inner, value) in logging {
                        attributes.insert(format!("logging.{inner}"), encode(value));
                    }
                }
                (_, value) => {
                    attributes.insert(key, encode(value));
                }
            }
        }
        attributes
    }

    /// Reads a declaration back from attributes written by [`Declaration::to_attributes`].
    ///
    /// Keys that are not declaration fields, such as the finding's `category`, are
    /// ignored. A value that cannot be decoded is an error naming its key.
    pub fn from_attributes(
        attributes: &BTreeMap<String, String>,
    ) -> Result<Declaration, DeclarationError> {
        let mut fields = Map::new();
        let mut logging = Map::new();
        for (key, encoding) in ATTRIBUTE_KEYS {
            let Some(text) = attributes.get(key) else {
                continue;
            };
            let value = decode(key, text, encoding)?;
            check_attribute(key, &value)?;
            match key.strip_prefix("logging.") {
                Some(inner) => logging.insert(inner.to_owned(), value),
                None => fields.insert(key.to_owned(), value),
            };
        }
        if !logging.is_empty() {
            fields.insert("logging".to_owned(), Value::Object(logging));
        }
        serde_json::from_value(Value::Object(fields)).map_err(|error| DeclarationError::Attribute {
            key: "*".to_owned(),
            message: error.to_string(),
        })
    }
}

fn encode(value: Value) -> String {
    match value {
        Value::String(text) => text,
        Value::Bool(flag) => flag.to_string(),
        Value::Number(number) => number.to_string(),
        other => other.to_string(),
    }
}

fn decode(key: &str, text: &str, encoding: Encoding) -> Result<Value, DeclarationError> {
    match encoding {
        Encoding::Text => Ok(Value::String(text.to_owned())),
        Encoding::Scalar | Encoding::Json => {
            serde_json::from_str(text).map_err(|error| DeclarationError::Attribute {
                key: key.to_owned(),
                message: format!("`{text}` is not valid JSON ({error})"),
            })
        }
    }
}

/// Deserialises one decoded attribute alone, so that an invalid value is reported with its key.
fn check_attribute(key: &str, value: &Value) -> Result<(), DeclarationError> {
    let single = match key.strip_prefix("logging.") {
        Some(inner) => serde_json::json!({ "logging": { inner: value } }),
        None => serde_json::json!({ key: value }),
    };
    serde_json::from_value::<Declaration>(single)
        .map(|_| ())
        .map_err(|error| DeclarationError::Attribute {
            key: key.to_owned(),
            message: error.to_string(),
        })
}

#[cfg(test)]
mod tests;
