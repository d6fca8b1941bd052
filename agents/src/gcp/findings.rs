//! Turns Vertex AI and Workbench resources into findings.

use std::collections::HashMap;

use proto::Finding;

use super::resources::{DeployedModel, Endpoint, Instance, Model, last_segment, location_of};
use crate::cloud::{Attributes, ResourceFinding};

/// `Finding::source` of every GCP finding.
pub(crate) const SOURCE: &str = "gcp";

const PROVIDER: &str = "google-vertex";
const VERTEX_SERVICE: &str = "vertex-ai";
const WORKBENCH_SERVICE: &str = "workbench";

/// The project a crawl reads, shared by every finding it produces.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ProjectContext<'a> {
    /// Scope id, `gcp:<project>`.
    pub(crate) scope_id: &'a str,
    /// Project id.
    pub(crate) project: &'a str,
}

/// Fields every finding of one resource sets.
struct Common<'a> {
    subject: &'a str,
    category: &'a str,
    service: &'a str,
    resource_type: &'a str,
    path: &'a str,
    resource_name: &'a str,
    project_root: String,
}

impl ProjectContext<'_> {
    fn finding(&self, common: Common<'_>, fill: impl FnOnce(&mut Attributes)) -> Finding {
        let mut attributes = Attributes::new();
        attributes.put("category", common.category);
        attributes.put("provider", PROVIDER);
        attributes.put("service", common.service);
        attributes.put("resource_type", common.resource_type);
        attributes.put("resource_name", common.resource_name);
        attributes.put("project", self.project);
        attributes.put_opt("location", location_of(common.path));
        fill(&mut attributes);

        ResourceFinding {
            source: SOURCE,
            scope_id: self.scope_id,
            path: common.path,
            subject: common.subject,
            project_root: common.project_root,
        }
        .build(attributes)
    }

    /// Builds the findings of one location's models and endpoints. An endpoint, the models
    /// deployed on it and its deployed models share the endpoint's project root. The links
    /// come from both the endpoint's `deployedModels` and the model's `deployedModels`.
    pub(crate) fn vertex(&self, models: &[Model], endpoints: &[Endpoint]) -> Vec<Finding> {
        let endpoint_roots: HashMap<&str, String> = endpoints
            .iter()
            .map(|endpoint| (endpoint.name.as_str(), vertex_root(display_or_id(endpoint))))
            .collect();
        let mut model_roots: HashMap<&str, String> = HashMap::new();
        for endpoint in endpoints {
            for deployed in &endpoint.deployed_models {
                if let Some(model) = deployed.model.as_deref() {
                    model_roots
                        .entry(model)
                        .or_insert_with(|| endpoint_roots[endpoint.name.as_str()].clone());
                }
            }
        }
        let model_names: HashMap<&str, &str> = models
            .iter()
            .filter_map(|model| Some((model.name.as_str(), model.display_name.as_deref()?)))
            .collect();

        let mut findings = Vec::new();
        for model in models {
            let linked = model
                .deployed_models
                .iter()
                .filter_map(|link| endpoint_roots.get(link.endpoint.as_deref()?))
                .next();
            let root = model_roots
                .get(model.name.as_str())
                .or(linked)
                .cloned()
                .unwrap_or_else(|| {
                    vertex_root(
                        model
                            .display_name
                            .as_deref()
                            .unwrap_or(last_segment(&model.name)),
                    )
                });
            findings.push(self.model(model, root));
        }
        for endpoint in endpoints {
            let root = endpoint_roots[endpoint.name.as_str()].clone();
            findings.push(self.endpoint(endpoint, root.clone()));
            for deployed in &endpoint.deployed_models {
                findings.push(self.deployed_model(endpoint, deployed, &model_names, root.clone()));
            }
        }
        findings
    }

    fn model(&self, model: &Model, project_root: String) -> Finding {
        let display = model.display_name.as_deref();
        let common = Common {
            subject: "vertex-ai-model",
            category: "artefact",
            service: VERTEX_SERVICE,
            resource_type: "aiplatform.googleapis.com/Model",
            path: &model.name,
            resource_name: display.unwrap_or(last_segment(&model.name)),
            project_root,
        };
        self.finding(common, |attributes| {
            attributes.put_opt("model_id", display);
            attributes.put_opt(
                "gpai",
                display.filter(|name| is_gpai_model(name)).map(|_| "true"),
            );
            attributes.put_opt("version_id", model.version_id.as_deref());
            attributes.put_opt("description", model.description.as_deref());
            attributes.put_opt("artifact_uri", model.artifact_uri.as_deref());
            let image = model
                .container_spec
                .as_ref()
                .and_then(|spec| spec.image_uri.as_deref());
            attributes.put_opt("container_image", image);
            let source = model
                .model_source_info
                .as_ref()
                .and_then(|info| info.source_type.as_deref());
            attributes.put_opt("source_type", source);
        })
    }

    fn endpoint(&self, endpoint: &Endpoint, project_root: String) -> Finding {
        let common = Common {
            subject: "vertex-ai-endpoint",
            category: "serving",
            service: VERTEX_SERVICE,
            resource_type: "aiplatform.googleapis.com/Endpoint",
            path: &endpoint.name,
            resource_name: display_or_id(endpoint),
            project_root,
        };
        self.finding(common, |attributes| {
            attributes.put_opt("description", endpoint.description.as_deref());
        })
    }

    fn deployed_model(
        &self,
        endpoint: &Endpoint,
        deployed: &DeployedModel,
        model_names: &HashMap<&str, &str>,
        project_root: String,
    ) -> Finding {
        let path = format!("{}/deployedModels/{}", endpoint.name, deployed.id);
        // A model of the project is named by its display name; a publisher model such as
        // `publishers/google/models/gemini-2.0-flash-001` by its last segment.
        let model_id = deployed.model.as_deref().map(|model| {
            if let Some(name) = model_names.get(model) {
                name
            } else if model.contains("publishers/") {
                last_segment(model)
            } else {
                deployed
                    .display_name
                    .as_deref()
                    .unwrap_or(last_segment(model))
            }
        });
        let common = Common {
            subject: "vertex-ai-deployed-model",
            category: "serving",
            service: VERTEX_SERVICE,
            resource_type: "aiplatform.googleapis.com/DeployedModel",
            path: &path,
            resource_name: deployed.display_name.as_deref().unwrap_or(&deployed.id),
            project_root,
        };
        let resources = deployed.dedicated_resources.as_ref();
        let machine = resources.and_then(|resources| resources.machine_spec.as_ref());
        let traffic = endpoint
            .traffic_split
            .as_ref()
            .and_then(|split| split.get(&deployed.id));
        self.finding(common, |attributes| {
            attributes.put("endpoint", display_or_id(endpoint));
            attributes.put("deployed_model_id", deployed.id.as_str());
            attributes.put_opt("model", deployed.model.as_deref());
            attributes.put_opt("model_id", model_id);
            attributes.put_opt(
                "gpai",
                model_id.filter(|name| is_gpai_model(name)).map(|_| "true"),
            );
            attributes.put_opt("model_version_id", deployed.model_version_id.as_deref());
            attributes.put_opt(
                "machine_type",
                machine.and_then(|spec| spec.machine_type.as_deref()),
            );
            attributes.put_opt(
                "accelerator_type",
                machine.and_then(|spec| spec.accelerator_type.as_deref()),
            );
            attributes.put_opt(
                "accelerator_count",
                machine.and_then(|spec| spec.accelerator_count),
            );
            attributes.put_opt(
                "min_replicas",
                resources.and_then(|resources| resources.min_replica_count),
            );
            attributes.put_opt(
                "max_replicas",
                resources.and_then(|resources| resources.max_replica_count),
            );
            attributes.put_opt("traffic_percent", traffic);
        })
    }

    /// Finding of a Workbench instance.
    pub(crate) fn workbench_instance(&self, instance: &Instance) -> Finding {
        let id = last_segment(&instance.name);
        let common = Common {
            subject: "vertex-ai-workbench-instance",
            category: "infrastructure",
            service: WORKBENCH_SERVICE,
            resource_type: "notebooks.googleapis.com/Instance",
            path: &instance.name,
            resource_name: id,
            project_root: format!("{WORKBENCH_SERVICE}/{id}"),
        };
        let setup = instance.gce_setup.as_ref();
        let accelerator = setup.and_then(|setup| setup.accelerator_configs.first());
        let count = accelerator.and_then(|config| match config.core_count.as_ref()? {
            serde_json::Value::String(text) => Some(text.clone()),
            serde_json::Value::Number(number) => Some(number.to_string()),
            _ => None,
        });
        self.finding(common, |attributes| {
            attributes.put_opt("state", instance.state.as_deref());
            attributes.put_opt(
                "machine_type",
                setup.and_then(|setup| setup.machine_type.as_deref()),
            );
            let kind = accelerator.and_then(|config| config.accelerator_type.as_deref());
            attributes.put_opt("accelerator_type", kind);
            attributes.put_opt("accelerator_count", count);
        })
    }
}

fn display_or_id(endpoint: &Endpoint) -> &str {
    endpoint
        .display_name
        .as_deref()
        .unwrap_or(last_segment(&endpoint.name))
}

fn vertex_root(name: &str) -> String {
    format!("{VERTEX_SERVICE}/{name}")
}

/// Model name prefixes of general-purpose models offered on Vertex AI (Gemini, Gemma,
/// Claude, Llama, Mistral, and others in Model Garden). Embedding and vision-only models
/// are left out on purpose.
const GPAI_PREFIXES: &[&str] = &[
    "gemini",
    "gemma",
    "claude",
    "llama",
    "meta-llama",
    "mistral",
    "mixtral",
    "codestral",
    "jamba",
    "deepseek",
    "qwen",
    "phi-",
    "text-bison",
    "chat-bison",
    "gpt-oss",
];

/// Returns whether a model name names a general-purpose AI model.
pub(crate) fn is_gpai_model(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    GPAI_PREFIXES.iter().any(|prefix| lower.starts_with(prefix))
}

#[cfg(test)]
#[path = "findings/tests.rs"]
mod tests;
