//! SageMaker: endpoints with their configs and models, notebook instances, training jobs
//! and model package groups.

use std::collections::HashMap;

use agents::net::CallError;
use aws_sdk_sagemaker::Client;
use aws_sdk_sagemaker::types::{
    EndpointConfigSummary, EndpointSummary, ModelPackageGroupSummary, ModelSummary,
    NotebookInstanceSummary, TrainingJobSummary,
};

use super::Crawl;
use crate::call::Caller;
use crate::coverage::Coverage;
use crate::finding::{Resource, ResourceKind, Target};
use crate::session::clients;

const fn kind(
    subject: &'static str,
    resource_type: &'static str,
    category: &'static str,
) -> ResourceKind {
    ResourceKind {
        subject,
        resource_type,
        service: "sagemaker",
        category,
        provider: "aws-sagemaker",
    }
}

const ENDPOINT: ResourceKind = kind("sagemaker-endpoint", "AWS::SageMaker::Endpoint", "serving");
const ENDPOINT_CONFIG: ResourceKind = kind(
    "sagemaker-endpoint-config",
    "AWS::SageMaker::EndpointConfig",
    "serving",
);
const MODEL: ResourceKind = kind("sagemaker-model", "AWS::SageMaker::Model", "artefact");
const NOTEBOOK: ResourceKind = kind(
    "sagemaker-notebook-instance",
    "AWS::SageMaker::NotebookInstance",
    "infrastructure",
);
const TRAINING_JOB: ResourceKind = kind(
    "sagemaker-training-job",
    "AWS::SageMaker::TrainingJob",
    "training",
);
const MODEL_PACKAGE_GROUP: ResourceKind = kind(
    "sagemaker-model-package-group",
    "AWS::SageMaker::ModelPackageGroup",
    "artefact",
);

/// Crawls SageMaker in one scope.
pub(crate) async fn crawl(crawl: &Crawl<'_>) -> Coverage {
    let client = clients::sagemaker(crawl.session, crawl.config, &crawl.target.region);
    let caller = crawl.caller("sagemaker");
    let mut coverage = Coverage::default();
    let max_pages = crawl.max_pages();

    // Endpoints come first: their configs decide the project root of configs and models.
    let endpoints = caller
        .list("sagemaker:ListEndpoints", max_pages, |token| {
            let request = client.list_endpoints().set_next_token(token);
            async move {
                let output = request.send().await?;
                Ok((output.endpoints.unwrap_or_default(), output.next_token))
            }
        })
        .await;
    coverage.listing(&endpoints);
    if matches!(endpoints.error, Some(CallError::NotEnabled { .. })) {
        // SageMaker does not respond in this region; the other listings would fail alike.
        return coverage;
    }
    let links = link_endpoints(&client, &caller, &endpoints.items, &mut coverage).await;
    for endpoint in &endpoints.items {
        emit(
            crawl,
            &mut coverage,
            endpoint_finding(crawl.target, endpoint, &links),
        );
    }

    let configs = caller
        .list("sagemaker:ListEndpointConfigs", max_pages, |token| {
            let request = client.list_endpoint_configs().set_next_token(token);
            async move {
                let output = request.send().await?;
                Ok((
                    output.endpoint_configs.unwrap_or_default(),
                    output.next_token,
                ))
            }
        })
        .await;
    coverage.listing(&configs);
    for config in &configs.items {
        emit(
            crawl,
            &mut coverage,
            endpoint_config_finding(crawl.target, config, &links),
        );
    }

    let models = caller
        .list("sagemaker:ListModels", max_pages, |token| {
            let request = client.list_models().set_next_token(token);
            async move {
                let output = request.send().await?;
                Ok((output.models.unwrap_or_default(), output.next_token))
            }
        })
        .await;
    coverage.listing(&models);
    for model in &models.items {
        emit(
            crawl,
            &mut coverage,
            model_finding(crawl.target, model, &links),
        );
    }

    crawl_workbench(crawl, &client, &caller, &mut coverage).await;
    coverage
}

/// Notebook instances, training jobs and model package groups.
async fn crawl_workbench(
    crawl: &Crawl<'_>,
    client: &Client,
    caller: &Caller,
    coverage: &mut Coverage,
) {
    let max_pages = crawl.max_pages();
    let notebooks = caller
        .list("sagemaker:ListNotebookInstances", max_pages, |token| {
            let request = client.list_notebook_instances().set_next_token(token);
            async move {
                let output = request.send().await?;
                Ok((
                    output.notebook_instances.unwrap_or_default(),
                    output.next_token,
                ))
            }
        })
        .await;
    coverage.listing(&notebooks);
    for notebook in &notebooks.items {
        emit(crawl, coverage, notebook_finding(crawl.target, notebook));
    }

    let jobs = caller
        .list("sagemaker:ListTrainingJobs", max_pages, |token| {
            let request = client.list_training_jobs().set_next_token(token);
            async move {
                let output = request.send().await?;
                Ok((
                    output.training_job_summaries.unwrap_or_default(),
                    output.next_token,
                ))
            }
        })
        .await;
    coverage.listing(&jobs);
    for job in &jobs.items {
        emit(crawl, coverage, training_job_finding(crawl.target, job));
    }

    let groups = caller
        .list("sagemaker:ListModelPackageGroups", max_pages, |token| {
            let request = client.list_model_package_groups().set_next_token(token);
            async move {
                let output = request.send().await?;
                Ok((
                    output.model_package_group_summary_list.unwrap_or_default(),
                    output.next_token,
                ))
            }
        })
        .await;
    coverage.listing(&groups);
    for group in &groups.items {
        emit(
            crawl,
            coverage,
            model_package_group_finding(crawl.target, group),
        );
    }
}

fn emit(crawl: &Crawl<'_>, coverage: &mut Coverage, resource: Option<Resource>) {
    match resource {
        Some(resource) => crawl.emit(resource.build(crawl.target)),
        None => coverage.issue(format!(
            "a SageMaker resource in `{}` has neither a name nor an ARN and was left out",
            crawl.target.scope_id
        )),
    }
}

/// Links from endpoint configs and models to the endpoint they serve, from `DescribeEndpoint` and
/// `DescribeEndpointConfig`.
#[derive(Debug, Default)]
pub(crate) struct Links {
    /// Endpoint name to its endpoint config name.
    endpoint_configs: HashMap<String, String>,
    /// Endpoint config name to the model names of its production and shadow variants.
    config_models: HashMap<String, Vec<String>>,
    /// Endpoint config or model name to the project root of the first endpoint using it.
    roots: HashMap<(&'static str, String), String>,
}

impl Links {
    fn root(&self, kind: &ResourceKind, name: &str) -> Option<String> {
        self.roots.get(&(kind.subject, name.to_owned())).cloned()
    }
}

/// Describes every endpoint and the configs they use. A denied describe is recorded once
/// and stops further describes of that kind; the endpoints are still reported.
async fn link_endpoints(
    client: &Client,
    caller: &Caller,
    endpoints: &[EndpointSummary],
    coverage: &mut Coverage,
) -> Links {
    let mut links = Links::default();
    let mut names: Vec<&str> = endpoints.iter().filter_map(|e| e.endpoint_name()).collect();
    names.sort_unstable();
    for name in names {
        let described = caller
            .call("sagemaker:DescribeEndpoint", || {
                client.describe_endpoint().endpoint_name(name).send()
            })
            .await;
        match described {
            Ok(output) => {
                coverage.ok();
                if let Some(config) = output.endpoint_config_name {
                    links.endpoint_configs.insert(name.to_owned(), config);
                }
            }
            Err(CallError::NotFound { .. }) => continue,
            Err(error) => {
                let denied = matches!(error, CallError::Denied { .. });
                coverage.error(error);
                if denied {
                    return links;
                }
            }
        }
    }
    describe_configs(client, caller, &mut links, coverage).await;
    links
}

async fn describe_configs(
    client: &Client,
    caller: &Caller,
    links: &mut Links,
    coverage: &mut Coverage,
) {
    let mut pairs: Vec<(String, String)> = links
        .endpoint_configs
        .iter()
        .map(|(endpoint, config)| (endpoint.clone(), config.clone()))
        .collect();
    pairs.sort();
    for (endpoint, config) in pairs {
        let root = format!("sagemaker/{endpoint}");
        links
            .roots
            .entry((ENDPOINT_CONFIG.subject, config.clone()))
            .or_insert_with(|| root.clone());
        if !links.config_models.contains_key(&config) {
            let described = caller
                .call("sagemaker:DescribeEndpointConfig", || {
                    client
                        .describe_endpoint_config()
                        .endpoint_config_name(&config)
                        .send()
                })
                .await;
            let output = match described {
                Ok(output) => output,
                Err(CallError::NotFound { .. }) => continue,
                Err(error) => {
                    let denied = matches!(error, CallError::Denied { .. });
                    coverage.error(error);
                    if denied {
                        return;
                    }
                    continue;
                }
            };
            coverage.ok();
            let variants = output
                .production_variants()
                .iter()
                .chain(output.shadow_production_variants());
            let models = variants
                .filter_map(|v| v.model_name().map(str::to_owned))
                .collect();
            links.config_models.insert(config.clone(), models);
        }
        for model in &links.config_models[&config] {
            links
                .roots
                .entry((MODEL.subject, model.clone()))
                .or_insert_with(|| root.clone());
        }
    }
}

/// Returns the name and ARN of a resource, deriving whichever is missing.
fn identity(
    target: &Target,
    kind: &str,
    name: Option<&str>,
    arn: Option<&str>,
) -> Option<(String, String)> {
    let name = name.filter(|n| !n.is_empty());
    let arn = arn.filter(|a| !a.is_empty());
    match (name, arn) {
        (Some(name), Some(arn)) => Some((name.to_owned(), arn.to_owned())),
        (Some(name), None) => Some((
            name.to_owned(),
            target.arn("sagemaker", &format!("{kind}/{}", name.to_lowercase())),
        )),
        (None, Some(arn)) => Some((crate::finding::arn_tail(arn).to_owned(), arn.to_owned())),
        (None, None) => None,
    }
}

pub(crate) fn endpoint_finding(
    target: &Target,
    endpoint: &EndpointSummary,
    links: &Links,
) -> Option<Resource> {
    let (name, arn) = identity(
        target,
        "endpoint",
        endpoint.endpoint_name(),
        endpoint.endpoint_arn(),
    )?;
    let config = links.endpoint_configs.get(&name);
    let models = config
        .and_then(|config| links.config_models.get(config))
        .map(|models| models.join(","));
    let resource = Resource::new(target, &ENDPOINT, &name, arn)
        .attr("status", endpoint.endpoint_status().map(|s| s.as_str()))
        .time("created", endpoint.creation_time())
        .time("last_modified", endpoint.last_modified_time())
        .attr("endpoint_config", config)
        .attr("models", models);
    Some(resource)
}

pub(crate) fn endpoint_config_finding(
    target: &Target,
    config: &EndpointConfigSummary,
    links: &Links,
) -> Option<Resource> {
    let (name, arn) = identity(
        target,
        "endpoint-config",
        config.endpoint_config_name(),
        config.endpoint_config_arn(),
    )?;
    let root = links.root(&ENDPOINT_CONFIG, &name);
    let models = links
        .config_models
        .get(&name)
        .map(|models| models.join(","));
    let resource = Resource::new(target, &ENDPOINT_CONFIG, &name, arn)
        .time("created", config.creation_time())
        .attr("models", models)
        .root(root);
    Some(resource)
}

pub(crate) fn model_finding(
    target: &Target,
    model: &ModelSummary,
    links: &Links,
) -> Option<Resource> {
    let (name, arn) = identity(target, "model", model.model_name(), model.model_arn())?;
    let root = links.root(&MODEL, &name);
    let resource = Resource::new(target, &MODEL, &name, arn)
        .time("created", model.creation_time())
        .root(root);
    Some(resource)
}

pub(crate) fn notebook_finding(
    target: &Target,
    notebook: &NotebookInstanceSummary,
) -> Option<Resource> {
    let (name, arn) = identity(
        target,
        "notebook-instance",
        notebook.notebook_instance_name(),
        notebook.notebook_instance_arn(),
    )?;
    let resource = Resource::new(target, &NOTEBOOK, &name, arn)
        .attr(
            "status",
            notebook.notebook_instance_status().map(|s| s.as_str()),
        )
        .attr(
            "instance_type",
            notebook.instance_type().map(|t| t.as_str()),
        )
        .attr(
            "default_code_repository",
            notebook.default_code_repository(),
        )
        .time("created", notebook.creation_time())
        .time("last_modified", notebook.last_modified_time());
    Some(resource)
}

pub(crate) fn training_job_finding(target: &Target, job: &TrainingJobSummary) -> Option<Resource> {
    let (name, arn) = identity(
        target,
        "training-job",
        job.training_job_name(),
        job.training_job_arn(),
    )?;
    let resource = Resource::new(target, &TRAINING_JOB, &name, arn)
        .attr("status", job.training_job_status().map(|s| s.as_str()))
        .attr(
            "secondary_status",
            job.secondary_status().map(|s| s.as_str()),
        )
        .time("created", job.creation_time())
        .time("training_end", job.training_end_time());
    Some(resource)
}

pub(crate) fn model_package_group_finding(
    target: &Target,
    group: &ModelPackageGroupSummary,
) -> Option<Resource> {
    let (name, arn) = identity(
        target,
        "model-package-group",
        group.model_package_group_name(),
        group.model_package_group_arn(),
    )?;
    let resource = Resource::new(target, &MODEL_PACKAGE_GROUP, &name, arn)
        .attr(
            "status",
            group.model_package_group_status().map(|s| s.as_str()),
        )
        .attr("description", group.model_package_group_description())
        .time("created", group.creation_time());
    Some(resource)
}
