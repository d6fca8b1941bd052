//! JSON Schema validation of rule files and `framework.yaml`, with errors mapped to YAML lines.

use std::sync::OnceLock;

use jsonschema::Validator;
use jsonschema::error::ValidationErrorKind;
use serde_json::Value;

use crate::LoadError;
use crate::positions::{Positions, child_pointer, dotted};

/// JSON Schema (2020-12) for rule files.
pub const RULE_SCHEMA: &str = include_str!("../schema/rule.schema.json");

/// JSON Schema (2020-12) for `framework.yaml`.
pub const FRAMEWORK_SCHEMA: &str = include_str!("../schema/framework.schema.json");

/// Schema a document is checked against.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Kind {
    Rule,
    Framework,
}

fn validator(kind: Kind) -> &'static Validator {
    static RULE: OnceLock<Validator> = OnceLock::new();
    static FRAMEWORK: OnceLock<Validator> = OnceLock::new();
    let (cell, text) = match kind {
        Kind::Rule => (&RULE, RULE_SCHEMA),
        Kind::Framework => (&FRAMEWORK, FRAMEWORK_SCHEMA),
    };
    cell.get_or_init(|| {
        // Both schemas are compiled into the crate and covered by tests, so failure is a bug.
        let schema: Value = serde_json::from_str(text).expect("bundled schema is valid JSON");
        jsonschema::draft202012::new(&schema).expect("bundled schema compiles")
    })
}

/// Validates `document` and returns the first error, naming its file, line and field.
pub(crate) fn validate(
    kind: Kind,
    document: &Value,
    file: &str,
    positions: &Positions,
) -> Result<(), LoadError> {
    let Some(error) = validator(kind).iter_errors(document).next() else {
        return Ok(());
    };
    let at = error.instance_path().as_str().to_owned();
    let (pointer, message) = match error.kind() {
        ValidationErrorKind::AdditionalProperties { unexpected } => {
            let key = unexpected.first().cloned().unwrap_or_default();
            (
                child_pointer(&at, &key),
                format!("unknown field `{key}`; remove it or correct its spelling"),
            )
        }
        ValidationErrorKind::Required { property } => {
            let key = property.as_str().unwrap_or_default().to_owned();
            (
                child_pointer(&at, &key),
                format!("missing required field `{key}`"),
            )
        }
        ValidationErrorKind::MinProperties { .. }
        | ValidationErrorKind::MaxProperties { .. }
        | ValidationErrorKind::Not { .. } => (
            at,
            "a predicate is exactly one of `all`, `any`, `not`, or `fact` with one operator"
                .to_owned(),
        ),
        _ => (at, error.masked().to_string()),
    };
    Err(LoadError::Invalid {
        file: file.to_owned(),
        line: positions.line_of(&pointer),
        field: dotted(&pointer),
        message,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bundled_schemas_follow_draft_2020_12() {
        for text in [RULE_SCHEMA, FRAMEWORK_SCHEMA] {
            let schema: Value = serde_json::from_str(text).unwrap();
            assert!(jsonschema::draft202012::meta::is_valid(&schema));
        }
        let _ = validator(Kind::Rule);
        let _ = validator(Kind::Framework);
    }
}
