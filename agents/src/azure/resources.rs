//! Azure Resource Manager response shapes the connector reads.
//!
//! Only `id` and `name` are required on a resource. Every other field is optional here,
//! because ARM leaves out properties it has no value for. A missing field makes the
//! matching finding attribute absent and changes nothing else.

use std::collections::BTreeMap;

use serde::Deserialize;

/// One page of an ARM list operation.
#[derive(Debug, Deserialize)]
pub(crate) struct ArmPage<T> {
    /// Items of this page.
    pub(crate) value: Vec<T>,
    /// Absolute URL of the next page; absent or null on the last page.
    #[serde(rename = "nextLink")]
    pub(crate) next_link: Option<String>,
}

/// An entry of `GET /subscriptions`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Subscription {
    /// Subscription GUID.
    pub(crate) subscription_id: String,
    /// Name shown in the portal.
    pub(crate) display_name: Option<String>,
    /// `Enabled`, `Warned`, `PastDue`, `Disabled` or `Deleted`.
    pub(crate) state: Option<String>,
}

/// A tracked ARM resource with its resource-specific properties.
#[derive(Debug, Deserialize)]
pub(crate) struct Resource<P> {
    /// Full resource id, `/subscriptions/{s}/resourceGroups/{g}/providers/...`.
    pub(crate) id: String,
    /// Resource name, the last segment of the id.
    pub(crate) name: String,
    /// Resource type, such as `Microsoft.CognitiveServices/accounts`.
    #[serde(rename = "type")]
    pub(crate) resource_type: Option<String>,
    /// Azure region.
    pub(crate) location: Option<String>,
    /// Resource kind, such as `OpenAI` for a Cognitive Services account.
    pub(crate) kind: Option<String>,
    /// Pricing tier and capacity.
    pub(crate) sku: Option<Sku>,
    /// Resource-specific properties; null reads as all fields absent.
    pub(crate) properties: Option<P>,
}

impl<P: Default> Resource<P> {
    /// Returns the properties, or all-absent properties when the response had none.
    pub(crate) fn properties(&self) -> P
    where
        P: Clone,
    {
        self.properties.clone().unwrap_or_default()
    }
}

/// Pricing tier of a resource.
#[derive(Debug, Clone, Default, Deserialize)]
pub(crate) struct Sku {
    /// Tier name, such as `S0` or `Standard`.
    pub(crate) name: Option<String>,
    /// Capacity units, such as thousands of tokens per minute on a model deployment.
    pub(crate) capacity: Option<u64>,
}

/// Properties of `Microsoft.MachineLearningServices/workspaces`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct WorkspaceProperties {
    pub(crate) friendly_name: Option<String>,
    pub(crate) description: Option<String>,
    pub(crate) public_network_access: Option<String>,
}

/// Properties of `Microsoft.MachineLearningServices/workspaces/onlineEndpoints`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct OnlineEndpointProperties {
    pub(crate) auth_mode: Option<String>,
    pub(crate) description: Option<String>,
    pub(crate) scoring_uri: Option<String>,
    pub(crate) public_network_access: Option<String>,
    /// Share of traffic per deployment name, in percent.
    pub(crate) traffic: Option<BTreeMap<String, u64>>,
}

/// Properties of `.../onlineEndpoints/{endpoint}/deployments`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct OnlineDeploymentProperties {
    /// `Managed` or `Kubernetes`.
    pub(crate) endpoint_compute_type: Option<String>,
    /// Model asset reference, such as `azureml:my-model:3` or an ARM or registry id.
    pub(crate) model: Option<String>,
    pub(crate) instance_type: Option<String>,
    pub(crate) description: Option<String>,
}

/// Properties of `Microsoft.MachineLearningServices/workspaces/models` (model containers).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ModelContainerProperties {
    pub(crate) description: Option<String>,
    pub(crate) latest_version: Option<String>,
    pub(crate) is_archived: Option<bool>,
}

/// Properties of `Microsoft.CognitiveServices/accounts`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct AccountProperties {
    pub(crate) endpoint: Option<String>,
    pub(crate) custom_sub_domain_name: Option<String>,
    pub(crate) public_network_access: Option<String>,
}

/// Properties of `Microsoft.CognitiveServices/accounts/deployments`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct DeploymentProperties {
    pub(crate) model: Option<DeploymentModel>,
    pub(crate) rai_policy_name: Option<String>,
    pub(crate) version_upgrade_option: Option<String>,
}

/// Model served by a Cognitive Services deployment.
#[derive(Debug, Clone, Default, Deserialize)]
pub(crate) struct DeploymentModel {
    /// Model publisher format, such as `OpenAI`.
    pub(crate) format: Option<String>,
    /// Model name, such as `gpt-4o`.
    pub(crate) name: Option<String>,
    /// Model version, such as `2024-08-06`.
    pub(crate) version: Option<String>,
}

/// ML workspace resource.
pub(crate) type Workspace = Resource<WorkspaceProperties>;
/// ML online endpoint resource.
pub(crate) type OnlineEndpoint = Resource<OnlineEndpointProperties>;
/// ML online deployment resource.
pub(crate) type OnlineDeployment = Resource<OnlineDeploymentProperties>;
/// ML registered model container.
pub(crate) type ModelContainer = Resource<ModelContainerProperties>;
/// Cognitive Services account.
pub(crate) type Account = Resource<AccountProperties>;
/// Cognitive Services model deployment.
pub(crate) type Deployment = Resource<DeploymentProperties>;

/// Returns the resource group named in an ARM resource id, if any.
pub(crate) fn resource_group(id: &str) -> Option<&str> {
    let mut segments = id.split('/');
    segments
        .by_ref()
        .find(|segment| segment.eq_ignore_ascii_case("resourceGroups"))?;
    segments.next().filter(|group| !group.is_empty())
}

/// Splits an Azure ML model reference into its name and version.
///
/// Handles the short form `azureml:name:version`, and ARM or registry ids that end in
/// `/models/{name}/versions/{version}`.
pub(crate) fn model_reference(reference: &str) -> (Option<&str>, Option<&str>) {
    if let Some(index) = reference.rfind("/models/") {
        let mut rest = reference[index + "/models/".len()..].split('/');
        let name = rest.next().filter(|name| !name.is_empty());
        let version = match rest.next() {
            Some("versions") => rest.next().filter(|version| !version.is_empty()),
            _ => None,
        };
        return (name, version);
    }
    let Some(short) = reference.strip_prefix("azureml:") else {
        return (None, None);
    };
    let mut parts = short.split(':');
    let name = parts.next().filter(|name| !name.is_empty());
    (name, parts.next().filter(|version| !version.is_empty()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resource_group_is_read_from_id() {
        let id = "/subscriptions/s/resourceGroups/rg-ml/providers/Microsoft.X/y/z";
        assert_eq!(resource_group(id), Some("rg-ml"));
        assert_eq!(
            resource_group("/subscriptions/s/resourcegroups/lower/x"),
            Some("lower")
        );
        assert_eq!(resource_group("/subscriptions/s"), None);
    }

    #[test]
    fn short_model_reference_is_split() {
        assert_eq!(
            model_reference("azureml:fraud-model:3"),
            (Some("fraud-model"), Some("3"))
        );
        assert_eq!(
            model_reference("azureml:fraud-model"),
            (Some("fraud-model"), None)
        );
    }

    #[test]
    fn registry_model_reference_is_split() {
        let reference = "azureml://registries/azureml-meta/models/Llama-2-7b/versions/21";
        assert_eq!(model_reference(reference), (Some("Llama-2-7b"), Some("21")));
    }

    #[test]
    fn unknown_model_reference_has_no_name() {
        assert_eq!(model_reference("something-else"), (None, None));
    }

    #[test]
    fn null_properties_read_as_absent() {
        let body = br#"{"id":"/subscriptions/s/x","name":"x","properties":null}"#;
        let resource: Workspace = serde_json::from_slice(body).unwrap();
        assert!(resource.properties().friendly_name.is_none());
    }
}
