//! Detectors that parse a file's structure: declarations, notebooks, model cards, MCP server
//! configurations, CI workflows and infrastructure as code.

mod agent_tooling;
mod iac;
mod notebook;

use proto::{Declaration, FindingKind};

use super::context::{Draft, TextView};
use crate::catalogue::Category;

pub(crate) use agent_tooling::{mcp, workflow};
pub(crate) use iac::{bicep, cloudformation, terraform};
pub(crate) use notebook::notebook;

/// Reports a `secruna.yaml` as one declaration finding; an invalid file is an `Err` naming the
/// line, the field and the fix.
pub(crate) fn declaration(view: &TextView<'_>, drafts: &mut Vec<Draft>) -> Result<(), String> {
    let declaration = Declaration::from_yaml(view.text).map_err(|error| error.to_string())?;
    let mut draft = Draft::new(
        FindingKind::Declaration,
        "secruna.yaml",
        Category::Declaration,
    );
    for (name, value) in declaration.to_attributes() {
        if name != "category" {
            draft = draft.attr(&name, value);
        }
    }
    drafts.push(draft);
    Ok(())
}

/// Front-matter keys that only Hugging Face model cards use.
const MODEL_CARD_KEYS: [&str; 5] = [
    "library_name",
    "pipeline_tag",
    "base_model",
    "model-index",
    "model_name",
];

/// Reports a README whose YAML front matter is a Hugging Face model card.
///
/// The front matter must hold a model-card key, or both `license` and `tags`; a README that
/// only talks about models is prose and yields nothing.
pub(crate) fn model_card(
    relative: &str,
    view: &TextView<'_>,
    drafts: &mut Vec<Draft>,
) -> Result<(), String> {
    let Some(front_matter) = front_matter(view.text) else {
        return Ok(());
    };
    let Ok(yaml_serde::Value::Mapping(fields)) =
        yaml_serde::from_str::<yaml_serde::Value>(front_matter)
    else {
        return Ok(());
    };
    let get = |key: &str| fields.get(key);
    let has_card_key = MODEL_CARD_KEYS.iter().any(|key| get(key).is_some());
    let has_license_and_tags = get("license").is_some() && get("tags").is_some();
    if !(has_card_key || has_license_and_tags) {
        return Ok(());
    }

    let mut draft = Draft::new(
        FindingKind::ModelCard,
        card_subject(relative, &fields),
        Category::ModelCard,
    )
    .at_line(1);
    for key in ["library_name", "pipeline_tag", "base_model", "license"] {
        if let Some(value) = get(key).and_then(scalar_or_first) {
            draft = draft.attr(key, value);
        }
    }
    drafts.push(draft.attr("provider", "huggingface"));
    Ok(())
}

/// Returns the YAML between a leading `---` line and the next `---` line.
fn front_matter(text: &str) -> Option<&str> {
    let body = text.strip_prefix("\u{feff}").unwrap_or(text);
    let rest = body
        .strip_prefix("---\n")
        .or_else(|| body.strip_prefix("---\r\n"))?;
    let end = rest.find("\n---").map(|index| index + 1)?;
    Some(&rest[..end])
}

/// Names the card by its `model-index` name, or else by the folder that contains it (`model-card`
/// for the scan root).
fn card_subject(relative: &str, fields: &yaml_serde::Mapping) -> String {
    let indexed = fields
        .get("model-index")
        .and_then(|index| index.get(0))
        .and_then(|first| first.get("name"))
        .and_then(yaml_serde::Value::as_str);
    if let Some(name) = indexed {
        return name.to_owned();
    }
    let folder = relative.rsplit_once('/').map_or("", |(folder, _)| folder);
    folder
        .rsplit('/')
        .next()
        .filter(|name| !name.is_empty())
        .unwrap_or("model-card")
        .to_owned()
}

fn scalar_or_first(value: &yaml_serde::Value) -> Option<String> {
    match value {
        yaml_serde::Value::String(text) => Some(text.clone()),
        yaml_serde::Value::Sequence(items) => items.first().and_then(scalar_or_first),
        yaml_serde::Value::Bool(flag) => Some(flag.to_string()),
        yaml_serde::Value::Number(number) => Some(number.to_string()),
        _ => None,
    }
}
