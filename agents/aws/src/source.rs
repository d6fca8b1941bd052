//! The AWS [`Source`] and its [`SourceFactory`].

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::SystemTime;

use agents::net::{CallError, RateLimits, RetryPolicy};
use agents::{
    BoxFuture, ConnectorSpec, CoverageGap, CrawlError, CrawlReport, FindingSink, Scope, Source,
    SourceFactory,
};
use aws_config::SdkConfig;

use crate::call::Caller;
use crate::config::{AwsConfig, AwsSecret, ConfigError};
use crate::crawl::{Crawl, crawl_scope};
use crate::finding::Target;
use crate::session::{self, Session, clients};

/// Builds [`AwsSource`]s for connectors of kind `aws`.
#[derive(Debug, Clone)]
pub struct AwsFactory {
    limits: Arc<RateLimits>,
    policy: RetryPolicy,
}

impl AwsFactory {
    /// Creates a factory whose sources share `limits` and retry every call by `policy`.
    pub fn new(limits: Arc<RateLimits>, policy: RetryPolicy) -> Self {
        AwsFactory { limits, policy }
    }
}

impl SourceFactory for AwsFactory {
    fn build(&self, spec: &ConnectorSpec) -> Result<Arc<dyn Source>, CrawlError> {
        let source = AwsSource::new(spec, Arc::clone(&self.limits), self.policy.clone()).map_err(
            |error| CrawlError::permanent(format!("connector `{}`: {error}", spec.name)),
        )?;
        Ok(Arc::new(source))
    }
}

/// One AWS connector: an organisation or a list of accounts, crawled per account and
/// region.
pub struct AwsSource {
    name: String,
    config: AwsConfig,
    secret: Option<AwsSecret>,
    limits: Arc<RateLimits>,
    policy: RetryPolicy,
    /// Base configuration and its account, loaded on first use.
    base: tokio::sync::OnceCell<Base>,
    /// Assumed session per member account; each slot's async lock makes concurrent crawls
    /// of one account share one `AssumeRole` call.
    sessions: Mutex<HashMap<String, Arc<tokio::sync::Mutex<Option<Session>>>>>,
}

/// The base credentials' configuration and the account they belong to.
#[derive(Debug, Clone)]
pub(crate) struct Base {
    /// Configuration with the base credentials, never changed after loading.
    pub(crate) config: SdkConfig,
    /// Account id from `GetCallerIdentity`.
    pub(crate) account: String,
}

impl std::fmt::Debug for AwsSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AwsSource")
            .field("name", &self.name)
            .field("config", &self.config)
            .field("secret", &self.secret)
            .finish_non_exhaustive()
    }
}

impl AwsSource {
    /// Parses the spec's config and secret; nothing is called until [`Source::scopes`].
    pub fn new(
        spec: &ConnectorSpec,
        limits: Arc<RateLimits>,
        policy: RetryPolicy,
    ) -> Result<AwsSource, ConfigError> {
        let config = AwsConfig::from_json(&spec.config)?;
        let secret = AwsSecret::from_json(spec.secret.as_ref())?;
        Ok(AwsSource {
            name: spec.name.clone(),
            config,
            secret,
            limits,
            policy,
            base: tokio::sync::OnceCell::new(),
            sessions: Mutex::new(HashMap::new()),
        })
    }

    /// Returns the parsed settings.
    pub fn config(&self) -> &AwsConfig {
        &self.config
    }

    /// Returns the caller for a global service (`sts`, `organizations`, `account`) of
    /// `account`, limited per account.
    pub(crate) fn global_caller(&self, service: &str, account: &str) -> Caller {
        Caller {
            limiter: self
                .limits
                .limiter(&format!("aws.{service}"), &format!("{account}:global")),
            policy: self.policy.clone(),
        }
    }

    /// Loads the base configuration and checks the credentials with `GetCallerIdentity`.
    pub(crate) async fn base(&self) -> Result<&Base, CrawlError> {
        self.base.get_or_try_init(|| self.load_base()).await
    }

    async fn load_base(&self) -> Result<Base, CrawlError> {
        let config = session::base_config(&self.config, self.secret.as_ref(), &self.policy).await;
        let sts = clients::sts(&config, &self.config, &self.config.home_region);
        let caller = self.global_caller("sts", &format!("connector-{}", self.name));
        let identity = caller
            .call("sts:GetCallerIdentity", || sts.get_caller_identity().send())
            .await
            .map_err(|error| {
                let fix = if self.secret.is_some() {
                    "check access_key_id and secret_access_key in the connector secret"
                } else {
                    "check the credentials of the standard chain (environment, profile, role)"
                };
                CrawlError {
                    message: format!(
                        "connector `{}`: the base credentials were not accepted: {error}; {fix}",
                        self.name
                    ),
                    permanent: error.is_permanent(),
                }
            })?;
        let account = identity.account.unwrap_or_default();
        if !crate::config::is_account_id(&account) {
            return Err(CrawlError::permanent(format!(
                "connector `{}`: sts:GetCallerIdentity returned no account id; check the STS endpoint",
                self.name
            )));
        }
        tracing::info!(connector = %self.name, aws.account = %account, "aws base credentials accepted");
        Ok(Base { config, account })
    }

    /// External id for `AssumeRole`: the secret's, else the config's.
    fn external_id(&self) -> Option<&str> {
        self.secret
            .as_ref()
            .and_then(|secret| secret.external_id.as_deref())
            .or(self.config.external_id.as_deref())
    }

    /// Returns whether `account` is crawled with the base credentials rather than the role.
    pub(crate) fn uses_base(&self, base: &Base, account: &str) -> bool {
        account == base.account && !self.config.assume_role_in_base_account
    }

    /// Returns the session for `account`: the base credentials for the base account (unless
    /// configured otherwise), otherwise the role assumed there, reused until shortly
    /// before it expires.
    pub(crate) async fn session(&self, base: &Base, account: &str) -> Result<Session, CallError> {
        if self.uses_base(base, account) {
            return Ok(Session::base(&base.config));
        }
        let slot = {
            let mut sessions = self.sessions.lock().unwrap_or_else(PoisonError::into_inner);
            Arc::clone(sessions.entry(account.to_owned()).or_default())
        };
        let mut cached = slot.lock().await;
        if let Some(session) = cached.as_ref().filter(|s| s.is_fresh(SystemTime::now())) {
            return Ok(session.clone());
        }
        let caller = self.global_caller("sts", &base.account);
        let session = session::assume_role(
            &base.config,
            &self.config,
            self.external_id(),
            account,
            &caller,
        )
        .await?;
        tracing::debug!(connector = %self.name, aws.account = %account, "assumed the scan role");
        *cached = Some(session.clone());
        Ok(session)
    }

    async fn crawl_one(&self, scope: &Scope, sink: FindingSink) -> Result<CrawlReport, CrawlError> {
        if let Some(report) = crate::discover::placeholder_report(scope) {
            return report;
        }
        let (Some(account), Some(region)) = (scope.param("account"), scope.param("region")) else {
            return Err(CrawlError::permanent(format!(
                "scope `{}` lacks the account or region parameter; list the scopes again",
                scope.id
            )));
        };
        let base = self.base().await?;
        let session = match self.session(base, account).await {
            Ok(session) => session,
            Err(error) => {
                return assume_failure(scope, &session::role_arn(&self.config, account), error);
            }
        };
        let target = Target {
            scope_id: scope.id.clone(),
            account: account.to_owned(),
            region: region.to_owned(),
            partition: self.config.partition.clone(),
        };
        let crawl = Crawl {
            target: &target,
            session: &session.config,
            config: &self.config,
            limits: &self.limits,
            policy: &self.policy,
            sink: &sink,
            sent: Default::default(),
        };
        let report = crawl_scope(&crawl).await;
        match &report {
            Ok(report) => tracing::info!(
                scope.id = %scope.id,
                items = report.num_items,
                gaps = report.gaps.len(),
                incomplete = report.incomplete.len(),
                skipped = report.skipped.is_some(),
                "aws scope crawled"
            ),
            Err(error) => tracing::warn!(scope.id = %scope.id, error = %error, "aws scope failed"),
        }
        report
    }
}

/// Reports a failed `AssumeRole`: a denied role is a coverage gap of the whole scope.
fn assume_failure(
    scope: &Scope,
    role_arn: &str,
    error: CallError,
) -> Result<CrawlReport, CrawlError> {
    match error {
        CallError::Denied { message, .. } => Ok(CrawlReport {
            gaps: vec![CoverageGap {
                service: "sts:AssumeRole".into(),
                permission: "sts:AssumeRole".into(),
                message: format!(
                    "cannot assume `{role_arn}`: {message}; create the role in the account and let the base credentials assume it"
                ),
            }],
            ..CrawlReport::default()
        }),
        other => Err(CrawlError {
            message: format!(
                "scope `{}`: assuming `{role_arn}` failed: {other}",
                scope.id
            ),
            permanent: other.is_permanent(),
        }),
    }
}

impl Source for AwsSource {
    fn provider(&self) -> &str {
        "aws"
    }

    fn scopes(&self) -> BoxFuture<'_, Result<Vec<Scope>, CrawlError>> {
        Box::pin(crate::discover::scopes(self))
    }

    fn crawl<'a>(
        &'a self,
        scope: &'a Scope,
        sink: FindingSink,
    ) -> BoxFuture<'a, Result<CrawlReport, CrawlError>> {
        Box::pin(self.crawl_one(scope, sink))
    }
}

impl AwsSource {
    /// Connector name.
    pub(crate) fn name(&self) -> &str {
        &self.name
    }

    /// Process-wide rate limits.
    pub(crate) fn limits(&self) -> &RateLimits {
        &self.limits
    }
}
