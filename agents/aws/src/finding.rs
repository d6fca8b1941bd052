//! Builds `CloudResource` findings with the attributes every AWS resource shares.

use std::collections::BTreeMap;

use aws_sdk_sagemaker::primitives::{DateTime, DateTimeFormat};
use proto::{Finding, FindingKind};

/// Where a crawl runs: one account and one region of a connector.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Target {
    /// Scope id, `aws:<account>:<region>`.
    pub(crate) scope_id: String,
    /// 12-digit account id.
    pub(crate) account: String,
    /// Region name.
    pub(crate) region: String,
    /// ARN partition (`aws` unless configured).
    pub(crate) partition: String,
}

impl Target {
    /// Builds an ARN in this account and region, for resources whose listing omits it.
    pub(crate) fn arn(&self, service: &str, resource: &str) -> String {
        format!(
            "arn:{}:{service}:{}:{}:{resource}",
            self.partition, self.region, self.account
        )
    }
}

/// A finding under construction; optional attributes that are absent are left out.
#[derive(Debug, Clone)]
pub(crate) struct Resource {
    subject: &'static str,
    path: String,
    project_root: String,
    confidence: f32,
    evidence: Option<String>,
    attributes: BTreeMap<String, String>,
}

impl Resource {
    /// Starts a finding for the resource `name` at `path` (its ARN).
    pub(crate) fn new(target: &Target, kind: &ResourceKind, name: &str, path: String) -> Self {
        let mut attributes = BTreeMap::new();
        for (key, value) in [
            ("category", kind.category),
            ("provider", kind.provider),
            ("service", kind.service),
            ("resource_type", kind.resource_type),
            ("resource_name", name),
            ("region", target.region.as_str()),
            ("account", target.account.as_str()),
        ] {
            attributes.insert(key.to_owned(), value.to_owned());
        }
        Resource {
            subject: kind.subject,
            path,
            project_root: format!("{}/{name}", kind.service),
            confidence: 1.0,
            evidence: None,
            attributes,
        }
    }

    /// Sets an attribute when the value is present and not empty.
    pub(crate) fn attr(mut self, key: &str, value: Option<impl AsRef<str>>) -> Self {
        if let Some(value) = value {
            let value = value.as_ref().trim();
            if !value.is_empty() {
                self.attributes.insert(key.to_owned(), value.to_owned());
            }
        }
        self
    }

    /// Sets a timestamp attribute in RFC 3339, leaving out the epoch the SDK puts in place
    /// of a missing required timestamp.
    pub(crate) fn time(self, key: &str, value: Option<&DateTime>) -> Self {
        let text = value.and_then(format_time);
        self.attr(key, text)
    }

    /// Returns an attribute set so far.
    pub(crate) fn attribute(&self, key: &str) -> Option<&str> {
        self.attributes.get(key).map(String::as_str)
    }

    /// Replaces the project root, `<service>/<name>` of the top-level resource.
    pub(crate) fn root(mut self, root: Option<String>) -> Self {
        if let Some(root) = root {
            self.project_root = root;
        }
        self
    }

    /// Sets the detector confidence.
    pub(crate) fn confidence(mut self, confidence: f32) -> Self {
        self.confidence = confidence;
        self
    }

    /// Sets the evidence excerpt, which must hold no secret.
    pub(crate) fn evidence(mut self, evidence: String) -> Self {
        self.evidence = Some(evidence);
        self
    }

    /// Finishes the finding in `target`'s scope.
    pub(crate) fn build(self, target: &Target) -> Finding {
        let kind = FindingKind::CloudResource;
        Finding {
            source: "aws".to_owned(),
            scope: target.scope_id.clone(),
            external_id: Finding::stable_id(&target.scope_id, &self.path, kind, self.subject),
            kind,
            subject: self.subject.to_owned(),
            path: self.path,
            line: None,
            confidence: self.confidence,
            project_root: self.project_root,
            attributes: self.attributes,
            evidence: self.evidence,
        }
    }
}

/// The fixed attributes of one resource type.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ResourceKind {
    /// Finding subject, e.g. `sagemaker-endpoint`.
    pub(crate) subject: &'static str,
    /// CloudFormation type name, e.g. `AWS::SageMaker::Endpoint`.
    pub(crate) resource_type: &'static str,
    /// Service slug, also the first part of the project root.
    pub(crate) service: &'static str,
    /// Category from the shared vocabulary.
    pub(crate) category: &'static str,
    /// Provider attribute.
    pub(crate) provider: &'static str,
}

/// Formats a timestamp in RFC 3339, or `None` for the epoch placeholder.
pub(crate) fn format_time(value: &DateTime) -> Option<String> {
    if value.secs() == 0 && value.subsec_nanos() == 0 {
        return None;
    }
    value.fmt(DateTimeFormat::DateTime).ok()
}

/// Returns `value` unless it is empty, which is how the SDK fills a missing required string.
pub(crate) fn present(value: &str) -> Option<&str> {
    let value = value.trim();
    (!value.is_empty()).then_some(value)
}

/// Returns the last `/`-separated part of an ARN, e.g. the model id of a foundation model ARN.
pub(crate) fn arn_tail(arn: &str) -> &str {
    arn.rsplit('/').next().unwrap_or(arn)
}
