//! Bedrock: custom models, provisioned throughput, agents, guardrails and the model
//! invocation logging configuration.

use std::collections::HashMap;

use agents::net::CallError;
use aws_sdk_bedrock::types::{
    CustomModelSummary, GuardrailSummary, LoggingConfig, ProvisionedModelSummary,
};
use aws_sdk_bedrockagent::types::AgentSummary;

use super::Crawl;
use crate::call::Caller;
use crate::coverage::Coverage;
use crate::finding::{Resource, ResourceKind, Target, arn_tail, present};
use crate::session::clients;

const fn kind(
    subject: &'static str,
    resource_type: &'static str,
    category: &'static str,
) -> ResourceKind {
    ResourceKind {
        subject,
        resource_type,
        service: "bedrock",
        category,
        provider: "aws-bedrock",
    }
}

const CUSTOM_MODEL: ResourceKind = kind(
    "bedrock-custom-model",
    "AWS::Bedrock::CustomModel",
    "training",
);
const PROVISIONED: ResourceKind = kind(
    "bedrock-provisioned-throughput",
    "AWS::Bedrock::ProvisionedModelThroughput",
    "hosted_api",
);
const AGENT: ResourceKind = kind("bedrock-agent", "AWS::Bedrock::Agent", "agent_tooling");
const GUARDRAIL: ResourceKind = kind(
    "bedrock-guardrail",
    "AWS::Bedrock::Guardrail",
    "infrastructure",
);
const LOGGING: ResourceKind = kind(
    "bedrock-invocation-logging",
    "AWS::Bedrock::ModelInvocationLoggingConfiguration",
    "infrastructure",
);

/// Crawls Bedrock in one scope.
pub(crate) async fn crawl(crawl: &Crawl<'_>) -> Coverage {
    let client = clients::bedrock(crawl.session, crawl.config, &crawl.target.region);
    let caller = crawl.caller("bedrock");
    let mut coverage = Coverage::default();
    let max_pages = crawl.max_pages();
    let mut num_findings = 0;

    let models = caller
        .list("bedrock:ListCustomModels", max_pages, |token| {
            let request = client.list_custom_models().set_next_token(token);
            async move {
                let output = request.send().await?;
                Ok((
                    output.model_summaries.unwrap_or_default(),
                    output.next_token,
                ))
            }
        })
        .await;
    coverage.listing(&models);
    if matches!(models.error, Some(CallError::NotEnabled { .. })) {
        // Bedrock does not exist in this region; the other listings would fail alike.
        return coverage;
    }
    let mut model_roots = HashMap::new();
    for model in &models.items {
        if let Some(resource) = custom_model_finding(crawl.target, model) {
            model_roots.insert(
                model.model_arn.clone(),
                format!("bedrock/{}", model.model_name),
            );
            num_findings += 1;
            crawl.emit(resource.build(crawl.target));
        }
    }

    let provisioned = caller
        .list(
            "bedrock:ListProvisionedModelThroughputs",
            max_pages,
            |token| {
                let request = client
                    .list_provisioned_model_throughputs()
                    .set_next_token(token);
                async move {
                    let output = request.send().await?;
                    Ok((
                        output.provisioned_model_summaries.unwrap_or_default(),
                        output.next_token,
                    ))
                }
            },
        )
        .await;
    coverage.listing(&provisioned);
    for summary in &provisioned.items {
        let root = model_roots.get(&summary.model_arn).cloned();
        if let Some(resource) = provisioned_finding(crawl.target, summary, root) {
            num_findings += 1;
            crawl.emit(resource.build(crawl.target));
        }
    }

    let guardrail_roots = crawl_agents(crawl, &caller, &mut coverage, &mut num_findings).await;

    let guardrails = caller
        .list("bedrock:ListGuardrails", max_pages, |token| {
            let request = client.list_guardrails().set_next_token(token);
            async move {
                let output = request.send().await?;
                Ok((output.guardrails, output.next_token))
            }
        })
        .await;
    coverage.listing(&guardrails);
    for guardrail in &guardrails.items {
        let root = guardrail_roots
            .get(&guardrail.id)
            .or_else(|| guardrail_roots.get(&guardrail.arn))
            .cloned();
        if let Some(resource) = guardrail_finding(crawl.target, guardrail, root) {
            num_findings += 1;
            crawl.emit(resource.build(crawl.target));
        }
    }

    let logging = caller
        .call("bedrock:GetModelInvocationLoggingConfiguration", || {
            client.get_model_invocation_logging_configuration().send()
        })
        .await;
    match logging {
        Ok(output) => {
            coverage.ok();
            let finding = logging_finding(crawl.target, output.logging_config.as_ref());
            let enabled = finding.attribute("logging_enabled") == Some("true");
            // Without any Bedrock resource, logging that is off says nothing worth a finding.
            if enabled || num_findings > 0 {
                crawl.emit(finding.build(crawl.target));
            }
        }
        Err(error) => coverage.error(error),
    }
    coverage
}

/// Lists agents, reads each one's foundation model, and returns the project root of the
/// first agent (by name) using each guardrail, keyed by guardrail id or ARN.
async fn crawl_agents(
    crawl: &Crawl<'_>,
    caller: &Caller,
    coverage: &mut Coverage,
    num_findings: &mut u32,
) -> HashMap<String, String> {
    let client = clients::bedrock_agent(crawl.session, crawl.config, &crawl.target.region);
    let agents = caller
        .list("bedrock:ListAgents", crawl.max_pages(), |token| {
            let request = client.list_agents().set_next_token(token);
            async move {
                let output = request.send().await?;
                Ok((output.agent_summaries, output.next_token))
            }
        })
        .await;
    coverage.listing(&agents);
    let mut summaries: Vec<&AgentSummary> = agents.items.iter().collect();
    summaries.sort_by(|a, b| a.agent_name.cmp(&b.agent_name));

    let mut guardrail_roots = HashMap::new();
    let mut describe = true;
    for summary in summaries {
        let mut details = AgentDetails::default();
        if describe && present(&summary.agent_id).is_some() {
            let got = caller
                .call("bedrock:GetAgent", || {
                    client.get_agent().agent_id(&summary.agent_id).send()
                })
                .await;
            match got {
                Ok(output) => {
                    coverage.ok();
                    if let Some(agent) = output.agent {
                        details.arn = present(&agent.agent_arn).map(str::to_owned);
                        details.foundation_model = agent.foundation_model;
                    }
                }
                Err(CallError::NotFound { .. }) => {}
                Err(error) => {
                    // One denied GetAgent means all are denied: record it once.
                    describe = !matches!(error, CallError::Denied { .. });
                    coverage.error(error);
                }
            }
        }
        let Some(resource) = agent_finding(crawl.target, summary, &details) else {
            coverage.issue(format!(
                "a Bedrock agent in `{}` has no id and was left out",
                crawl.target.scope_id
            ));
            continue;
        };
        if let Some(guardrail) = summary
            .guardrail_configuration()
            .and_then(|g| g.guardrail_identifier())
        {
            guardrail_roots
                .entry(guardrail.to_owned())
                .or_insert_with(|| format!("bedrock/{}", agent_name(summary)));
        }
        *num_findings += 1;
        crawl.emit(resource.build(crawl.target));
    }
    guardrail_roots
}

/// Fields that `GetAgent` adds to an agent summary.
#[derive(Debug, Default)]
pub(crate) struct AgentDetails {
    /// The agent's ARN.
    pub(crate) arn: Option<String>,
    /// Foundation model id or ARN the agent runs on.
    pub(crate) foundation_model: Option<String>,
}

fn agent_name(summary: &AgentSummary) -> &str {
    present(&summary.agent_name).unwrap_or(&summary.agent_id)
}

pub(crate) fn custom_model_finding(
    target: &Target,
    model: &CustomModelSummary,
) -> Option<Resource> {
    let arn = present(&model.model_arn)?;
    let name = present(&model.model_name).unwrap_or_else(|| arn_tail(arn));
    let base_model = present(&model.base_model_arn).map(arn_tail);
    let resource = Resource::new(target, &CUSTOM_MODEL, name, arn.to_owned())
        .attr("model_id", base_model)
        .attr("base_model", present(&model.base_model_name))
        .attr("base_model_arn", present(&model.base_model_arn))
        .attr("gpai", base_model.map(|_| "true"))
        .attr(
            "customization_type",
            model.customization_type().map(|t| t.as_str()),
        )
        .attr("status", model.model_status().map(|s| s.as_str()))
        .attr("owner_account", model.owner_account_id())
        .time("created", Some(&model.creation_time));
    Some(resource)
}

pub(crate) fn provisioned_finding(
    target: &Target,
    summary: &ProvisionedModelSummary,
    root: Option<String>,
) -> Option<Resource> {
    let arn = present(&summary.provisioned_model_arn)?;
    let name = present(&summary.provisioned_model_name).unwrap_or_else(|| arn_tail(arn));
    let foundation = present(&summary.foundation_model_arn).map(arn_tail);
    let resource = Resource::new(target, &PROVISIONED, name, arn.to_owned())
        .attr("model_id", foundation)
        .attr("model_arn", present(&summary.model_arn))
        .attr("gpai", foundation.map(|_| "true"))
        .attr("model_units", Some(summary.model_units.to_string()))
        .attr("status", present(summary.status.as_str()))
        .attr(
            "commitment_duration",
            summary.commitment_duration().map(|d| d.as_str()),
        )
        .time(
            "commitment_expiration",
            summary.commitment_expiration_time(),
        )
        .time("created", Some(&summary.creation_time))
        .root(root);
    Some(resource)
}

pub(crate) fn agent_finding(
    target: &Target,
    summary: &AgentSummary,
    details: &AgentDetails,
) -> Option<Resource> {
    let id = present(&summary.agent_id)?;
    let arn = details
        .arn
        .clone()
        .unwrap_or_else(|| target.arn("bedrock", &format!("agent/{id}")));
    let model = details.foundation_model.as_deref().and_then(present);
    let guardrail = summary
        .guardrail_configuration()
        .and_then(|g| g.guardrail_identifier());
    let resource = Resource::new(target, &AGENT, agent_name(summary), arn)
        .attr("agent_id", Some(id))
        .attr("status", present(summary.agent_status.as_str()))
        .attr("description", summary.description())
        .attr("latest_version", summary.latest_agent_version())
        .attr("model_id", model.map(arn_tail))
        .attr("gpai", model.map(|_| "true"))
        .attr("guardrail", guardrail)
        .time("updated", Some(&summary.updated_at));
    Some(resource)
}

pub(crate) fn guardrail_finding(
    target: &Target,
    guardrail: &GuardrailSummary,
    root: Option<String>,
) -> Option<Resource> {
    let id = present(&guardrail.id);
    let arn = present(&guardrail.arn)
        .map(str::to_owned)
        .or_else(|| id.map(|id| target.arn("bedrock", &format!("guardrail/{id}"))))?;
    let name = present(&guardrail.name)
        .or(id)
        .unwrap_or_else(|| arn_tail(&arn))
        .to_owned();
    let resource = Resource::new(target, &GUARDRAIL, &name, arn)
        .attr("guardrail_id", id)
        .attr("status", present(guardrail.status.as_str()))
        .attr("version", present(&guardrail.version))
        .attr("description", guardrail.description())
        .time("created", Some(&guardrail.created_at))
        .time("updated", Some(&guardrail.updated_at))
        .root(root);
    Some(resource)
}

/// Builds the finding of the region's invocation logging configuration; `None` means logging is off.
pub(crate) fn logging_finding(target: &Target, config: Option<&LoggingConfig>) -> Resource {
    let path = target.arn("bedrock", "model-invocation-logging");
    let mut destinations = Vec::new();
    let log_group = config
        .and_then(|c| c.cloud_watch_config())
        .and_then(|c| present(&c.log_group_name));
    let bucket = config
        .and_then(|c| c.s3_config())
        .and_then(|c| present(&c.bucket_name));
    if log_group.is_some() {
        destinations.push("cloudwatch");
    }
    if bucket.is_some() {
        destinations.push("s3");
    }
    let enabled = if destinations.is_empty() {
        "false"
    } else {
        "true"
    };
    let flag = |value: Option<bool>| value.map(|v| v.to_string());
    Resource::new(target, &LOGGING, "model-invocation-logging", path)
        .attr("logging_enabled", Some(enabled))
        .attr("log_destinations", Some(destinations.join(",")))
        .attr("log_group", log_group)
        .attr("s3_bucket", bucket)
        .attr(
            "text_data_delivery",
            flag(config.and_then(|c| c.text_data_delivery_enabled())),
        )
        .attr(
            "image_data_delivery",
            flag(config.and_then(|c| c.image_data_delivery_enabled())),
        )
        .attr(
            "embedding_data_delivery",
            flag(config.and_then(|c| c.embedding_data_delivery_enabled())),
        )
}
