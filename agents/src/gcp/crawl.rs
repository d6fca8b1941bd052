//! Crawl of one project: Vertex AI models and endpoints per location, and Workbench
//! instances.

use std::collections::BTreeSet;

use proto::Finding;

use super::client::{GoogleClient, ListCall, Listing};
use super::config::join;
use super::findings::ProjectContext;
use super::resources::{Endpoint, Instance, Model};
use crate::cloud::settle_absent_services;
use crate::net::CallError;
use crate::source::{CoverageGap, CrawlError, CrawlReport, FindingSink};

/// One kind of listing: its name in messages, the permission it needs and the JSON field of
/// its items.
#[derive(Clone, Copy)]
struct Listed {
    service: &'static str,
    noun: &'static str,
    permission: &'static str,
    items_key: &'static str,
}

const MODELS: Listed = Listed {
    service: "vertex-ai",
    noun: "models",
    permission: "aiplatform.models.list",
    items_key: "models",
};

const ENDPOINTS: Listed = Listed {
    service: "vertex-ai",
    noun: "endpoints",
    permission: "aiplatform.endpoints.list",
    items_key: "endpoints",
};

const INSTANCES: Listed = Listed {
    service: "workbench",
    noun: "instances",
    permission: "notebooks.instances.list",
    items_key: "instances",
};

/// Effect of a listing's error on the rest of the crawl.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Settled {
    /// Go on with the next listing.
    Continue,
    /// The service's API is not enabled in the project: its other listings and locations
    /// would fail the same way, so they are not called.
    ServiceOff,
}

/// State of one project crawl.
struct Run<'a> {
    client: &'a GoogleClient,
    context: ProjectContext<'a>,
    sink: FindingSink,
    report: CrawlReport,
    /// Services that are not enabled in the project, with the reason.
    disabled: Vec<String>,
    /// Services whose listing was denied, so no further location is tried.
    denied: BTreeSet<&'static str>,
}

/// Crawls one project and reports how much of it was covered.
pub(crate) async fn crawl_project(
    client: &GoogleClient,
    context: ProjectContext<'_>,
    sink: FindingSink,
) -> Result<CrawlReport, CrawlError> {
    let mut run = Run {
        client,
        context,
        sink,
        report: CrawlReport::default(),
        disabled: Vec::new(),
        denied: BTreeSet::new(),
    };
    run.vertex().await?;
    run.workbench().await?;

    Ok(settle_absent_services(run.report, run.disabled, 2))
}

impl Run<'_> {
    fn emit(&mut self, finding: Finding) {
        self.report.num_items += 1;
        (self.sink)(finding);
    }

    async fn vertex(&mut self) -> Result<(), CrawlError> {
        let locations = self.client.settings().locations.clone();
        for location in &locations {
            let (endpoints, settled) = self.list::<Endpoint>(ENDPOINTS, location).await?;
            if settled == Settled::ServiceOff {
                return Ok(());
            }
            let (models, settled) = self.list::<Model>(MODELS, location).await?;
            for finding in self.context.vertex(&models, &endpoints) {
                self.emit(finding);
            }
            let both_denied = [ENDPOINTS, MODELS]
                .iter()
                .all(|listed| self.denied.contains(listed.permission));
            if settled == Settled::ServiceOff || both_denied {
                return Ok(());
            }
        }
        Ok(())
    }

    async fn workbench(&mut self) -> Result<(), CrawlError> {
        let locations = self.client.settings().workbench_locations.clone();
        for location in &locations {
            let (instances, settled) = self.list::<Instance>(INSTANCES, location).await?;
            for instance in &instances {
                self.emit(self.context.workbench_instance(instance));
            }
            if settled == Settled::ServiceOff || self.denied.contains(INSTANCES.permission) {
                return Ok(());
            }
        }
        Ok(())
    }

    /// Lists every page of one kind in one location, unless that kind was denied before in
    /// this project (IAM grants list permissions per project, so other locations would be
    /// denied too).
    async fn list<T: serde::de::DeserializeOwned>(
        &mut self,
        listed: Listed,
        location: &str,
    ) -> Result<(Vec<T>, Settled), CrawlError> {
        if self.denied.contains(listed.permission) {
            return Ok((Vec::new(), Settled::Continue));
        }
        let settings = self.client.settings();
        let project = self.context.project;
        let url = match listed.service {
            "workbench" => join(
                &settings.notebooks_url,
                &format!("/v2/projects/{project}/locations/{location}/instances"),
            ),
            _ => format!(
                "{}/v1/projects/{project}/locations/{location}/{}",
                settings.vertex.for_location(location),
                listed.noun
            ),
        };
        let operation = format!("list {} {} in {location}", listed.service, listed.noun);
        let call = ListCall {
            limiter_scope: project,
            operation: &operation,
            url,
            items_key: listed.items_key,
        };
        let listing: Listing<T> = self.client.list(call).await;
        if let Some(reason) = listing.stopped {
            self.report.incomplete.push(reason);
        }
        let settled = match listing.error {
            Some(error) => self.settle(listed, location, &operation, error)?,
            None => Settled::Continue,
        };
        Ok((listing.items, settled))
    }

    /// Records a listing's error in the report, or returns it as the scope's error.
    fn settle(
        &mut self,
        listed: Listed,
        location: &str,
        operation: &str,
        error: CallError,
    ) -> Result<Settled, CrawlError> {
        match error {
            CallError::Denied { message, .. } if is_api_disabled(&message) => {
                self.disable(listed, &message);
                Ok(Settled::ServiceOff)
            }
            CallError::Denied {
                permission,
                message,
                ..
            } => {
                // The shared client falls back to the operation name when the provider
                // names no permission.
                let permission = if permission == operation {
                    listed.permission.to_owned()
                } else {
                    permission
                };
                tracing::warn!(scope.id = self.context.scope_id, %permission, "gcp listing denied");
                self.denied.insert(listed.permission);
                self.report.gaps.push(CoverageGap {
                    service: format!("{} {}", listed.service, listed.noun),
                    permission,
                    message,
                });
                Ok(Settled::Continue)
            }
            CallError::NotEnabled { message, .. } => {
                self.disable(listed, &message);
                Ok(Settled::ServiceOff)
            }
            CallError::NotFound { message, .. } => {
                self.skip_location(listed, location, &message);
                Ok(Settled::Continue)
            }
            CallError::Status {
                status: 400,
                message,
                ..
            } if names_location(&message) => {
                self.skip_location(listed, location, &message);
                Ok(Settled::Continue)
            }
            error @ (CallError::Throttled { .. } | CallError::Timeout { .. }) => {
                self.report.incomplete.push(error.to_string());
                Ok(Settled::Continue)
            }
            error => Err(CrawlError {
                permanent: error.is_permanent(),
                message: format!("gcp project `{}`: {error}", self.context.project),
            }),
        }
    }

    fn disable(&mut self, listed: Listed, message: &str) {
        let reason = format!(
            "{} skipped because its API is not enabled: {message}",
            listed.service
        );
        if !self
            .disabled
            .iter()
            .any(|known| known.starts_with(listed.service))
        {
            self.disabled.push(reason);
        }
    }

    fn skip_location(&mut self, listed: Listed, location: &str, message: &str) {
        self.report.issues.push(format!(
            "{} {} in location {location} skipped: {message}",
            listed.service, listed.noun
        ));
    }
}

/// Returns whether a 403 message reports that the API is not enabled in the project (the
/// older `accessNotConfigured` wording).
fn is_api_disabled(message: &str) -> bool {
    message.contains("Access Not Configured") || message.contains("accessNotConfigured")
}

/// Returns whether a 400 message is about the location, as Google returns for a location
/// the service does not offer.
fn names_location(message: &str) -> bool {
    let lower = message.to_ascii_lowercase();
    lower.contains("location") || lower.contains("region")
}
