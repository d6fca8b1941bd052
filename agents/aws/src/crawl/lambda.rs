//! Lambda: functions whose environment variable names or layers show an AI SDK or
//! provider. Only variable names are read; values never leave the SDK's response.

mod signals;

use std::collections::BTreeSet;

use agents::net::CallError;
use aws_sdk_lambda::types::FunctionConfiguration;

pub(crate) use self::signals::{Signal, env_signal, layer_signal};
use super::Crawl;
use crate::coverage::Coverage;
use crate::finding::{Resource, ResourceKind, Target, arn_tail};

/// Confidence of a function finding: a provider's variable name or layer is a strong sign
/// but not proof that the code calls it.
const CONFIDENCE: f32 = 0.9;

/// Crawls Lambda in one scope.
pub(crate) async fn crawl(crawl: &Crawl<'_>) -> Coverage {
    let client = crate::session::clients::lambda(crawl.session, crawl.config, &crawl.target.region);
    let caller = crawl.caller("lambda");
    let mut coverage = Coverage::default();

    let functions = caller
        .list("lambda:ListFunctions", crawl.max_pages(), |marker| {
            let request = client.list_functions().set_marker(marker);
            async move {
                let output = request.send().await?;
                Ok((output.functions.unwrap_or_default(), output.next_marker))
            }
        })
        .await;
    coverage.listing(&functions);
    if matches!(functions.error, Some(CallError::NotEnabled { .. })) {
        return coverage;
    }
    for function in &functions.items {
        if let Some(resource) = function_finding(crawl.target, function) {
            crawl.emit(resource.build(crawl.target));
        }
    }
    coverage
}

/// Returns a finding when the function's variable names or layers show AI use.
pub(crate) fn function_finding(
    target: &Target,
    function: &FunctionConfiguration,
) -> Option<Resource> {
    let variable_names: BTreeSet<&str> = function
        .environment()
        .and_then(|environment| environment.variables())
        .map(|variables| variables.keys().map(String::as_str).collect())
        .unwrap_or_default();
    let matched_names: Vec<(&str, Signal)> = variable_names
        .into_iter()
        .filter_map(|name| env_signal(name).map(|signal| (name, signal)))
        .collect();
    let matched_layers: Vec<(&str, Signal)> = function
        .layers()
        .iter()
        .filter_map(|layer| layer.arn())
        .filter_map(|arn| layer_signal(arn).map(|signal| (arn, signal)))
        .collect();
    let signals: Vec<Signal> = matched_names
        .iter()
        .chain(&matched_layers)
        .map(|(_, signal)| *signal)
        .collect();
    let primary = primary_signal(&signals)?;

    let arn = function.function_arn().filter(|arn| !arn.is_empty());
    let name = function.function_name().filter(|name| !name.is_empty());
    let (name, arn) = match (name, arn) {
        (Some(name), Some(arn)) => (name.to_owned(), arn.to_owned()),
        (Some(name), None) => (
            name.to_owned(),
            target.arn("lambda", &format!("function:{name}")),
        ),
        (None, Some(arn)) => (arn_tail_function(arn).to_owned(), arn.to_owned()),
        (None, None) => return None,
    };
    let kind = ResourceKind {
        subject: "lambda-function",
        resource_type: "AWS::Lambda::Function",
        service: "lambda",
        category: primary.category,
        provider: primary.provider,
    };
    let providers: BTreeSet<&str> = signals.iter().map(|signal| signal.provider).collect();
    let names: Vec<&str> = matched_names.iter().map(|(name, _)| *name).collect();
    let layers: Vec<&str> = matched_layers.iter().map(|(arn, _)| *arn).collect();
    let gpai = signals.iter().any(|signal| signal.gpai).then_some("true");
    let resource = Resource::new(target, &kind, &name, arn)
        .attr(
            "providers",
            Some(providers.into_iter().collect::<Vec<_>>().join(",")),
        )
        .attr("env_var_names", Some(names.join(",")))
        .attr("ai_layers", Some(layers.join(",")))
        .attr("gpai", gpai)
        .attr(
            "runtime",
            function.runtime().map(|runtime| runtime.as_str()),
        )
        .attr("last_modified", function.last_modified())
        .confidence(CONFIDENCE)
        .evidence(evidence(&names, &layers));
    Some(resource)
}

/// Picks the signal that names the finding's provider and category: hosted APIs before
/// libraries, then the first in name order.
fn primary_signal(signals: &[Signal]) -> Option<Signal> {
    signals
        .iter()
        .find(|signal| signal.category == "hosted_api")
        .or_else(|| signals.first())
        .copied()
}

/// The function name in a function ARN (`arn:aws:lambda:<region>:<account>:function:<name>`).
fn arn_tail_function(arn: &str) -> &str {
    match arn.split(':').nth(6) {
        Some(name) if !name.is_empty() => name,
        _ => arn_tail(arn),
    }
}

fn evidence(names: &[&str], layers: &[&str]) -> String {
    let mut parts = Vec::new();
    if !names.is_empty() {
        parts.push(format!("environment variable names: {}", names.join(", ")));
    }
    if !layers.is_empty() {
        parts.push(format!("layers: {}", layers.join(", ")));
    }
    parts.join("; ")
}
