//! Crawl of one subscription: Machine Learning workspaces with their online endpoints,
//! deployments and registered models, and Cognitive Services accounts of kind `OpenAI` or
//! `AIServices` with their model deployments.

use std::sync::Arc;

use futures::StreamExt;
use proto::Finding;

use super::client::{ArmClient, Listing};
use super::findings::SubscriptionContext;
use super::resources::{
    Account, Deployment, ModelContainer, OnlineDeployment, OnlineEndpoint, Workspace,
};
use crate::cloud::settle_absent_services;
use crate::net::CallError;
use crate::source::{CoverageGap, CrawlError, CrawlReport, FindingSink};

/// api-version of `Microsoft.MachineLearningServices` calls (GA 2024-10-01).
pub const ML_API_VERSION: &str = "2024-10-01";

/// api-version of `Microsoft.CognitiveServices` calls (GA 2024-10-01).
pub const COGNITIVE_API_VERSION: &str = "2024-10-01";

/// Account kinds that host generative models.
const AI_ACCOUNT_KINDS: [&str; 2] = ["OpenAI", "AIServices"];

/// Workspaces or accounts whose child resources are listed at the same time. The scope's
/// rate limiter still bounds the call rate, so this only overlaps the calls' latency.
const CHILD_CONCURRENCY: usize = 4;

/// One list call: its name in messages and the permission it needs.
struct Operation {
    name: String,
    permission: &'static str,
}

impl Operation {
    fn new(name: impl Into<String>, permission: &'static str) -> Self {
        Operation {
            name: name.into(),
            permission,
        }
    }
}

/// Reach of a listing: a whole service of the subscription, or the children of one
/// resource. An absent service skips the service, but an absent child only adds an issue.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Level {
    Service,
    Child,
}

/// State of one subscription crawl.
struct Run<'a> {
    client: &'a ArmClient,
    context: SubscriptionContext<'a>,
    sink: FindingSink,
    report: CrawlReport,
    /// Services found absent (provider namespace not registered), with the reason.
    skipped_services: Vec<String>,
}

/// Crawls one subscription and reports how much of it was covered.
pub(crate) async fn crawl_subscription(
    client: &ArmClient,
    context: SubscriptionContext<'_>,
    sink: FindingSink,
) -> Result<CrawlReport, CrawlError> {
    let mut run = Run {
        client,
        context,
        sink,
        report: CrawlReport::default(),
        skipped_services: Vec::new(),
    };
    run.machine_learning().await?;
    run.cognitive_services().await?;

    Ok(settle_absent_services(run.report, run.skipped_services, 2))
}

impl<'a> Run<'a> {
    fn emit(&mut self, finding: Finding) {
        self.report.num_items += 1;
        (self.sink)(finding);
    }

    /// Returns a run with an empty report for the children of one resource.
    fn fork(&self) -> Run<'a> {
        Run {
            client: self.client,
            context: self.context,
            sink: Arc::clone(&self.sink),
            report: CrawlReport::default(),
            skipped_services: Vec::new(),
        }
    }

    /// Adds the report of a forked run, in the order the forks were made.
    fn absorb(&mut self, report: CrawlReport) {
        self.report.num_items += report.num_items;
        self.report.issues.extend(report.issues);
        self.report.gaps.extend(report.gaps);
        self.report.incomplete.extend(report.incomplete);
    }

    /// Returns the workspaces or accounts whose ids can be used as URL paths, with the path.
    fn with_paths<'r, R>(
        &mut self,
        resources: &'r [R],
        id: impl Fn(&R) -> &str,
    ) -> Vec<(&'r R, String)> {
        let mut targets = Vec::new();
        for resource in resources {
            if let Some(path) = self.child_path(id(resource)) {
                targets.push((resource, path));
            }
        }
        targets
    }

    async fn machine_learning(&mut self) -> Result<(), CrawlError> {
        let subscription = self.context.subscription;
        let path = format!(
            "/subscriptions/{subscription}/providers/Microsoft.MachineLearningServices/workspaces"
        );
        let operation = Operation::new(
            "list machine learning workspaces",
            "Microsoft.MachineLearningServices/workspaces/read",
        );
        let workspaces: Vec<Workspace> = self
            .list(&operation, &path, ML_API_VERSION, Level::Service)
            .await?;
        for workspace in &workspaces {
            self.emit(self.context.workspace(workspace));
        }

        let targets = self.with_paths(&workspaces, |workspace| &workspace.id);
        let forks = targets.into_iter().map(|(workspace, id)| {
            let mut fork = self.fork();
            async move {
                fork.online_endpoints(&workspace.name, &id).await?;
                fork.models(&workspace.name, &id).await?;
                Ok::<_, CrawlError>(fork.report)
            }
        });
        // Collected first because a lazy map here fails the compiler check that the crawl
        // future is Send (a higher-ranked lifetime limitation).
        let forks: Vec<_> = forks.collect();
        let reports: Vec<_> = futures::stream::iter(forks)
            .buffered(CHILD_CONCURRENCY)
            .collect()
            .await;
        for report in reports {
            self.absorb(report?);
        }
        Ok(())
    }

    async fn online_endpoints(
        &mut self,
        workspace: &str,
        workspace_id: &str,
    ) -> Result<(), CrawlError> {
        let operation = Operation::new(
            format!("list online endpoints of workspace `{workspace}`"),
            "Microsoft.MachineLearningServices/workspaces/onlineEndpoints/read",
        );
        let path = format!("{workspace_id}/onlineEndpoints");
        let endpoints: Vec<OnlineEndpoint> = self
            .list(&operation, &path, ML_API_VERSION, Level::Child)
            .await?;
        for endpoint in &endpoints {
            self.emit(self.context.online_endpoint(workspace, endpoint));
            let Some(id) = self.child_path(&endpoint.id) else {
                continue;
            };
            let operation = Operation::new(
                format!(
                    "list deployments of online endpoint `{}` in workspace `{workspace}`",
                    endpoint.name
                ),
                "Microsoft.MachineLearningServices/workspaces/onlineEndpoints/deployments/read",
            );
            let path = format!("{id}/deployments");
            let deployments: Vec<OnlineDeployment> = self
                .list(&operation, &path, ML_API_VERSION, Level::Child)
                .await?;
            for deployment in &deployments {
                self.emit(
                    self.context
                        .online_deployment(workspace, &endpoint.name, deployment),
                );
            }
        }
        Ok(())
    }

    async fn models(&mut self, workspace: &str, workspace_id: &str) -> Result<(), CrawlError> {
        let operation = Operation::new(
            format!("list registered models of workspace `{workspace}`"),
            "Microsoft.MachineLearningServices/workspaces/models/read",
        );
        let path = format!("{workspace_id}/models");
        let models: Vec<ModelContainer> = self
            .list(&operation, &path, ML_API_VERSION, Level::Child)
            .await?;
        for model in &models {
            self.emit(self.context.model(workspace, model));
        }
        Ok(())
    }

    async fn cognitive_services(&mut self) -> Result<(), CrawlError> {
        let subscription = self.context.subscription;
        let path =
            format!("/subscriptions/{subscription}/providers/Microsoft.CognitiveServices/accounts");
        let operation = Operation::new(
            "list cognitive services accounts",
            "Microsoft.CognitiveServices/accounts/read",
        );
        let accounts: Vec<Account> = self
            .list(&operation, &path, COGNITIVE_API_VERSION, Level::Service)
            .await?;
        let ai_accounts: Vec<Account> = accounts
            .into_iter()
            .filter(|account| {
                let kind = account.kind.as_deref();
                kind.is_some_and(|kind| AI_ACCOUNT_KINDS.contains(&kind))
            })
            .collect();
        for account in &ai_accounts {
            self.emit(self.context.account(account));
        }

        let targets = self.with_paths(&ai_accounts, |account| &account.id);
        let forks = targets.into_iter().map(|(account, id)| {
            let mut fork = self.fork();
            async move {
                fork.deployments(account, &id).await?;
                Ok::<_, CrawlError>(fork.report)
            }
        });
        // Collected first because a lazy map here fails the compiler check that the crawl
        // future is Send (a higher-ranked lifetime limitation).
        let forks: Vec<_> = forks.collect();
        let reports: Vec<_> = futures::stream::iter(forks)
            .buffered(CHILD_CONCURRENCY)
            .collect()
            .await;
        for report in reports {
            self.absorb(report?);
        }
        Ok(())
    }

    async fn deployments(&mut self, account: &Account, account_id: &str) -> Result<(), CrawlError> {
        let operation = Operation::new(
            format!("list model deployments of account `{}`", account.name),
            "Microsoft.CognitiveServices/accounts/deployments/read",
        );
        let path = format!("{account_id}/deployments");
        let deployments: Vec<Deployment> = self
            .list(&operation, &path, COGNITIVE_API_VERSION, Level::Child)
            .await?;
        for deployment in &deployments {
            self.emit(self.context.deployment(account, deployment));
        }
        Ok(())
    }

    /// Lists every page and settles how the listing ended. Only errors that make the
    /// whole subscription unreadable are returned.
    async fn list<T: serde::de::DeserializeOwned>(
        &mut self,
        operation: &Operation,
        path: &str,
        api_version: &str,
        level: Level,
    ) -> Result<Vec<T>, CrawlError> {
        let url = self.client.url(path, api_version);
        let listing: Listing<T> = self
            .client
            .list(self.context.subscription, &operation.name, url)
            .await;
        if let Some(reason) = listing.stopped {
            self.report.incomplete.push(reason);
        }
        if let Some(error) = listing.error {
            self.settle(operation, level, error)?;
        }
        Ok(listing.items)
    }

    /// Records a listing's error in the report, or returns it as the scope's error.
    fn settle(
        &mut self,
        operation: &Operation,
        level: Level,
        error: CallError,
    ) -> Result<(), CrawlError> {
        let subscription = self.context.subscription;
        match error {
            CallError::Denied {
                permission,
                message,
                ..
            } => {
                // The shared client falls back to the operation name when the provider
                // names no permission.
                let permission = if permission == operation.name {
                    operation.permission.to_owned()
                } else {
                    permission
                };
                tracing::warn!(scope.id = self.context.scope_id, %permission, "azure listing denied");
                self.report.gaps.push(CoverageGap {
                    service: operation.name.clone(),
                    permission,
                    message,
                });
            }
            CallError::NotEnabled { message, .. } if level == Level::Service => {
                self.skipped_services
                    .push(format!("{} skipped: {message}", operation.name));
            }
            CallError::NotEnabled { message, .. } | CallError::NotFound { message, .. }
                if level == Level::Child =>
            {
                self.report
                    .issues
                    .push(format!("{} skipped: {message}", operation.name));
            }
            error @ (CallError::Throttled { .. } | CallError::Timeout { .. }) => {
                self.report.incomplete.push(error.to_string());
            }
            error => {
                let permanent = error.is_permanent();
                let message = format!("azure subscription `{subscription}`: {error}");
                return Err(CrawlError { message, permanent });
            }
        }
        Ok(())
    }

    /// Returns an ARM id as a URL path for child listings, or records an issue when the id
    /// is not a plain ARM id of this subscription (so a response can never redirect calls).
    fn child_path(&mut self, id: &str) -> Option<String> {
        let prefix = format!("/subscriptions/{}/", self.context.subscription);
        let plain = id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "/-_.()".contains(c));
        let within = id
            .to_ascii_lowercase()
            .starts_with(&prefix.to_ascii_lowercase());
        if plain && within && !id.contains("..") {
            return Some(id.to_owned());
        }
        self.report.issues.push(format!(
            "resource id `{id}` is not an ARM id in subscription {}: its child resources were not listed",
            self.context.subscription
        ));
        None
    }
}
