//! Turns Azure resources into findings.

use std::collections::BTreeMap;

use proto::Finding;

use super::resources::{
    Account, Deployment, ModelContainer, OnlineDeployment, OnlineEndpoint, Workspace,
    model_reference, resource_group,
};
use crate::cloud::{Attributes, ResourceFinding};

/// `Finding::source` of every Azure finding.
pub(crate) const SOURCE: &str = "azure";

const ML_SERVICE: &str = "machine-learning";
const COGNITIVE_SERVICE: &str = "cognitive-services";

/// The subscription a crawl reads, shared by every finding it produces.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SubscriptionContext<'a> {
    /// Scope id, `azure:<subscription id>`.
    pub(crate) scope_id: &'a str,
    /// Subscription GUID.
    pub(crate) subscription: &'a str,
}

/// Fields every finding of one resource shares.
struct Common<'a> {
    subject: &'a str,
    category: &'a str,
    provider: &'a str,
    service: &'a str,
    project_root: String,
}

impl SubscriptionContext<'_> {
    /// Builds a finding with the attributes every Azure resource has.
    fn finding<P>(
        &self,
        common: Common<'_>,
        resource: &super::resources::Resource<P>,
        fill: impl FnOnce(&mut Attributes),
    ) -> Finding {
        let mut attributes = Attributes::new();
        attributes.put("category", common.category);
        attributes.put("provider", common.provider);
        attributes.put("service", common.service);
        attributes.put("subscription", self.subscription);
        attributes.put("resource_name", resource.name.as_str());
        attributes.put_opt("resource_type", resource.resource_type.as_deref());
        attributes.put_opt("resource_group", resource_group(&resource.id));
        attributes.put_opt("location", resource.location.as_deref());
        fill(&mut attributes);

        ResourceFinding {
            source: SOURCE,
            scope_id: self.scope_id,
            path: &resource.id,
            subject: common.subject,
            project_root: common.project_root,
        }
        .build(attributes)
    }

    /// Finding of a Machine Learning workspace.
    pub(crate) fn workspace(&self, workspace: &Workspace) -> Finding {
        let common = Common {
            subject: "azure-ml-workspace",
            category: "infrastructure",
            provider: "azure-ml",
            service: ML_SERVICE,
            project_root: ml_root(&workspace.name),
        };
        let properties = workspace.properties();
        self.finding(common, workspace, |attributes| {
            attributes.put_opt("kind", workspace.kind.as_deref());
            attributes.put_opt(
                "sku",
                workspace.sku.as_ref().and_then(|sku| sku.name.as_deref()),
            );
            attributes.put_opt("friendly_name", properties.friendly_name.as_deref());
            attributes.put_opt("description", properties.description.as_deref());
            attributes.put_opt("public_network_access", properties.public_network_access);
        })
    }

    /// Finding of a registered model (model container) in a workspace.
    pub(crate) fn model(&self, workspace: &str, model: &ModelContainer) -> Finding {
        let common = Common {
            subject: "azure-ml-model",
            category: "artefact",
            provider: "azure-ml",
            service: ML_SERVICE,
            project_root: ml_root(workspace),
        };
        let properties = model.properties();
        self.finding(common, model, |attributes| {
            attributes.put("workspace", workspace);
            attributes.put("model_id", model.name.as_str());
            attributes.put_opt("gpai", is_gpai_model(&model.name).then_some("true"));
            attributes.put_opt("latest_version", properties.latest_version.as_deref());
            attributes.put_opt("description", properties.description.as_deref());
            attributes.put_opt("archived", properties.is_archived);
        })
    }

    /// Finding of an online endpoint; it roots the AI system its deployments join.
    pub(crate) fn online_endpoint(&self, workspace: &str, endpoint: &OnlineEndpoint) -> Finding {
        let common = Common {
            subject: "azure-ml-online-endpoint",
            category: "serving",
            provider: "azure-ml",
            service: ML_SERVICE,
            project_root: endpoint_root(workspace, &endpoint.name),
        };
        let properties = endpoint.properties();
        self.finding(common, endpoint, |attributes| {
            attributes.put("workspace", workspace);
            attributes.put_opt("auth_mode", properties.auth_mode.as_deref());
            attributes.put_opt("scoring_uri", properties.scoring_uri.as_deref());
            attributes.put_opt("description", properties.description.as_deref());
            attributes.put_opt("public_network_access", properties.public_network_access);
            attributes.put_opt("traffic", properties.traffic.as_ref().map(describe_traffic));
        })
    }

    /// Finding of a deployment under an online endpoint.
    pub(crate) fn online_deployment(
        &self,
        workspace: &str,
        endpoint: &str,
        deployment: &OnlineDeployment,
    ) -> Finding {
        let common = Common {
            subject: "azure-ml-online-deployment",
            category: "serving",
            provider: "azure-ml",
            service: ML_SERVICE,
            project_root: endpoint_root(workspace, endpoint),
        };
        let properties = deployment.properties();
        let (model_name, model_version) = properties
            .model
            .as_deref()
            .map(model_reference)
            .unwrap_or_default();
        self.finding(common, deployment, |attributes| {
            attributes.put("workspace", workspace);
            attributes.put("endpoint", endpoint);
            attributes.put_opt("model", properties.model.as_deref());
            attributes.put_opt("model_id", model_name);
            attributes.put_opt("model_version", model_version);
            attributes.put_opt(
                "gpai",
                model_name
                    .filter(|name| is_gpai_model(name))
                    .map(|_| "true"),
            );
            attributes.put_opt("compute_type", properties.endpoint_compute_type.as_deref());
            attributes.put_opt("instance_type", properties.instance_type.as_deref());
            attributes.put_opt("description", properties.description.as_deref());
            attributes.put_opt(
                "capacity",
                deployment.sku.as_ref().and_then(|sku| sku.capacity),
            );
        })
    }

    /// Finding of a Cognitive Services account of kind `OpenAI` or `AIServices`.
    pub(crate) fn account(&self, account: &Account) -> Finding {
        let (subject, provider) = match account.kind.as_deref() {
            Some("OpenAI") => ("azure-openai-account", "azure-openai"),
            _ => ("azure-ai-services-account", "azure-ai-services"),
        };
        let common = Common {
            subject,
            category: "infrastructure",
            provider,
            service: COGNITIVE_SERVICE,
            project_root: account_root(&account.name),
        };
        let properties = account.properties();
        self.finding(common, account, |attributes| {
            attributes.put_opt("kind", account.kind.as_deref());
            attributes.put_opt(
                "sku",
                account.sku.as_ref().and_then(|sku| sku.name.as_deref()),
            );
            attributes.put_opt("endpoint", properties.endpoint.as_deref());
            attributes.put_opt(
                "custom_subdomain",
                properties.custom_sub_domain_name.as_deref(),
            );
            attributes.put_opt("public_network_access", properties.public_network_access);
        })
    }

    /// Finding of a model deployment in a Cognitive Services account.
    pub(crate) fn deployment(&self, account: &Account, deployment: &Deployment) -> Finding {
        let properties = deployment.properties();
        let model = properties.model.clone().unwrap_or_default();
        let openai = model.format.as_deref() == Some("OpenAI")
            || (model.format.is_none() && account.kind.as_deref() == Some("OpenAI"));
        let (subject, provider) = if openai {
            ("azure-openai-deployment", "azure-openai")
        } else {
            ("azure-ai-services-deployment", "azure-ai-services")
        };
        let common = Common {
            subject,
            category: "hosted_api",
            provider,
            service: COGNITIVE_SERVICE,
            project_root: account_root(&account.name),
        };
        let gpai = model.name.as_deref().filter(|name| is_gpai_model(name));
        self.finding(common, deployment, |attributes| {
            attributes.put("account", account.name.as_str());
            attributes.put_opt("location", account.location.as_deref());
            attributes.put_opt("model_id", model.name.as_deref());
            attributes.put_opt("model_version", model.version.as_deref());
            attributes.put_opt("model_format", model.format.as_deref());
            attributes.put_opt("gpai", gpai.map(|_| "true"));
            attributes.put_opt(
                "sku",
                deployment.sku.as_ref().and_then(|sku| sku.name.as_deref()),
            );
            attributes.put_opt(
                "capacity",
                deployment.sku.as_ref().and_then(|sku| sku.capacity),
            );
            attributes.put_opt("rai_policy", properties.rai_policy_name.as_deref());
            attributes.put_opt(
                "version_upgrade",
                properties.version_upgrade_option.as_deref(),
            );
        })
    }
}

fn ml_root(workspace: &str) -> String {
    format!("{ML_SERVICE}/{workspace}")
}

fn endpoint_root(workspace: &str, endpoint: &str) -> String {
    format!("{ML_SERVICE}/{workspace}/{endpoint}")
}

fn account_root(account: &str) -> String {
    format!("{COGNITIVE_SERVICE}/{account}")
}

/// Writes a traffic split as `blue=90,green=10`, in name order.
fn describe_traffic(traffic: &BTreeMap<String, u64>) -> String {
    let parts: Vec<String> = traffic
        .iter()
        .map(|(name, share)| format!("{name}={share}"))
        .collect();
    parts.join(",")
}

/// Model name prefixes of general-purpose models offered on Azure (OpenAI GPT and o-series,
/// Llama, Mistral, Phi, DeepSeek, Grok, Cohere Command, Jamba). Embedding, speech and image
/// models are left out on purpose.
const GPAI_PREFIXES: &[&str] = &[
    "gpt-",
    "gpt4",
    "o1",
    "o3",
    "o4",
    "chatgpt",
    "codex",
    "llama",
    "meta-llama",
    "mistral",
    "mixtral",
    "ministral",
    "codestral",
    "phi-",
    "deepseek",
    "grok",
    "cohere-command",
    "command-r",
    "jamba",
    "ai21-jamba",
];

/// Returns whether a model name names a general-purpose AI model.
pub(crate) fn is_gpai_model(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    GPAI_PREFIXES.iter().any(|prefix| lower.starts_with(prefix))
}

#[cfg(test)]
#[path = "findings/tests.rs"]
mod tests;
