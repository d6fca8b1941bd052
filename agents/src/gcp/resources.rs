//! Google Cloud REST response shapes the connector reads.
//!
//! Only the resource `name` is required. Google leaves out empty fields, including the
//! item list of an empty page, so every other field is optional: a missing field makes the
//! matching finding attribute absent and changes nothing else.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde::de::DeserializeOwned;

/// One page of a Google list call: the items under `items_key` and the next page token.
pub(crate) struct Page<T> {
    /// Items of this page.
    pub(crate) items: Vec<T>,
    /// Token of the next page; absent or empty on the last page.
    pub(crate) next_page_token: Option<String>,
}

/// Reads a list page whose items sit under `items_key`, such as `models`.
pub(crate) fn parse_page<T: DeserializeOwned>(
    body: serde_json::Value,
    items_key: &str,
) -> Result<Page<T>, String> {
    let serde_json::Value::Object(mut object) = body else {
        return Err("expected a JSON object".to_owned());
    };
    let items = match object.remove(items_key) {
        None | Some(serde_json::Value::Null) => Vec::new(),
        Some(value) => serde_json::from_value(value).map_err(|err| {
            format!("field `{items_key}` does not match the documented shape: {err}")
        })?,
    };
    let next_page_token = match object.remove("nextPageToken") {
        None | Some(serde_json::Value::Null) => None,
        Some(serde_json::Value::String(token)) => Some(token),
        Some(_) => return Err("field `nextPageToken` is not a string".to_owned()),
    };
    Ok(Page {
        items,
        next_page_token,
    })
}

/// An entry of Cloud Resource Manager v3 `projects:search`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Project {
    /// Project id, such as `my-project`.
    pub(crate) project_id: String,
    /// `ACTIVE`, `DELETE_REQUESTED` or `STATE_UNSPECIFIED`.
    pub(crate) state: Option<String>,
}

/// A Vertex AI model (`projects.locations.models`).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Model {
    /// `projects/{p}/locations/{l}/models/{id}`.
    pub(crate) name: String,
    pub(crate) display_name: Option<String>,
    pub(crate) description: Option<String>,
    pub(crate) version_id: Option<String>,
    pub(crate) artifact_uri: Option<String>,
    pub(crate) container_spec: Option<ContainerSpec>,
    pub(crate) model_source_info: Option<ModelSourceInfo>,
    /// Endpoints this model is deployed to.
    #[serde(default)]
    pub(crate) deployed_models: Vec<DeployedModelRef>,
}

/// Serving container of a model.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ContainerSpec {
    pub(crate) image_uri: Option<String>,
}

/// Origin of a model.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ModelSourceInfo {
    /// `AUTOML`, `CUSTOM`, `BQML`, `MODEL_GARDEN`, `GENIE` or `CUSTOM_TEXT_EMBEDDING`.
    pub(crate) source_type: Option<String>,
}

/// A link from a model to an endpoint it is deployed on.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct DeployedModelRef {
    /// `projects/{p}/locations/{l}/endpoints/{id}`.
    pub(crate) endpoint: Option<String>,
}

/// A Vertex AI endpoint (`projects.locations.endpoints`).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Endpoint {
    /// `projects/{p}/locations/{l}/endpoints/{id}`.
    pub(crate) name: String,
    pub(crate) display_name: Option<String>,
    pub(crate) description: Option<String>,
    #[serde(default)]
    pub(crate) deployed_models: Vec<DeployedModel>,
    /// Percent of traffic per deployed model id.
    pub(crate) traffic_split: Option<BTreeMap<String, u64>>,
}

/// A model deployed on an endpoint.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct DeployedModel {
    /// Deployed model id, unique in the endpoint.
    pub(crate) id: String,
    /// `projects/{p}/locations/{l}/models/{id}` or a publisher model name.
    pub(crate) model: Option<String>,
    pub(crate) model_version_id: Option<String>,
    pub(crate) display_name: Option<String>,
    pub(crate) dedicated_resources: Option<DedicatedResources>,
}

/// Machines reserved for a deployed model.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct DedicatedResources {
    pub(crate) machine_spec: Option<MachineSpec>,
    pub(crate) min_replica_count: Option<u64>,
    pub(crate) max_replica_count: Option<u64>,
}

/// Machine type and accelerators.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct MachineSpec {
    pub(crate) machine_type: Option<String>,
    pub(crate) accelerator_type: Option<String>,
    pub(crate) accelerator_count: Option<u64>,
}

/// A Vertex AI Workbench instance (Notebooks API v2 `projects.locations.instances`).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Instance {
    /// `projects/{p}/locations/{zone}/instances/{id}`.
    pub(crate) name: String,
    /// `ACTIVE`, `STOPPED`, `PROVISIONING` and so on.
    pub(crate) state: Option<String>,
    pub(crate) gce_setup: Option<GceSetup>,
}

/// Compute Engine settings of a Workbench instance.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct GceSetup {
    pub(crate) machine_type: Option<String>,
    #[serde(default)]
    pub(crate) accelerator_configs: Vec<AcceleratorConfig>,
}

/// One accelerator attached to a Workbench instance.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct AcceleratorConfig {
    #[serde(rename = "type")]
    pub(crate) accelerator_type: Option<String>,
    /// Number of accelerators, a string in the v2 API's JSON (int64 as string).
    pub(crate) core_count: Option<serde_json::Value>,
}

/// Returns the last segment of a resource name, such as the id in `.../models/123`.
pub(crate) fn last_segment(name: &str) -> &str {
    name.rsplit('/').next().unwrap_or(name)
}

/// Returns the segment after `locations/` in a resource name.
pub(crate) fn location_of(name: &str) -> Option<&str> {
    let mut segments = name.split('/');
    segments.by_ref().find(|segment| *segment == "locations")?;
    segments.next().filter(|location| !location.is_empty())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn empty_page_reads_as_no_items() {
        let page: Page<Model> = parse_page(json!({}), "models").unwrap();
        assert!(page.items.is_empty());
        assert!(page.next_page_token.is_none());
    }

    #[test]
    fn page_keeps_items_and_token() {
        let body =
            json!({"models": [{"name": "projects/p/locations/l/models/1"}], "nextPageToken": "t2"});
        let page: Page<Model> = parse_page(body, "models").unwrap();
        assert_eq!(page.items.len(), 1);
        assert_eq!(page.next_page_token.as_deref(), Some("t2"));
    }

    #[test]
    fn wrong_item_shape_names_field() {
        let err = parse_page::<Model>(json!({"models": "x"}), "models")
            .err()
            .unwrap();
        assert!(err.starts_with("field `models` does not match"), "{err}");
    }

    #[test]
    fn item_without_name_is_rejected() {
        let err = parse_page::<Model>(json!({"models": [{"displayName": "x"}]}), "models")
            .err()
            .unwrap();
        assert!(err.contains("missing field `name`"), "{err}");
    }

    #[test]
    fn array_body_is_rejected() {
        assert!(parse_page::<Model>(json!([]), "models").is_err());
    }

    #[test]
    fn location_and_id_come_from_name() {
        let name = "projects/p/locations/us-central1-a/instances/nb-1";
        assert_eq!(location_of(name), Some("us-central1-a"));
        assert_eq!(last_segment(name), "nb-1");
        assert_eq!(location_of("projects/p"), None);
    }
}
