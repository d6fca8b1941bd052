//! Crawls one scope (an account and a region): SageMaker, Bedrock and Lambda.

pub(crate) mod bedrock;
pub(crate) mod lambda;
pub(crate) mod sagemaker;

use std::collections::HashSet;
use std::sync::{Mutex, PoisonError};

use agents::net::{RateLimits, RetryPolicy};
use agents::{CrawlError, CrawlReport, FindingSink};
use aws_config::SdkConfig;
use proto::Finding;

use crate::call::Caller;
use crate::config::AwsConfig;
use crate::coverage::Coverage;
use crate::finding::Target;

/// Everything the crawl of one scope shares.
pub(crate) struct Crawl<'a> {
    /// Account and region crawled.
    pub(crate) target: &'a Target,
    /// Configuration holding the credentials for this account.
    pub(crate) session: &'a SdkConfig,
    /// Connector settings.
    pub(crate) config: &'a AwsConfig,
    /// Process-wide rate limits.
    pub(crate) limits: &'a RateLimits,
    /// Retry and timeout policy.
    pub(crate) policy: &'a RetryPolicy,
    /// Receiver of the findings.
    pub(crate) sink: &'a FindingSink,
    /// External ids already sent, so a listing that repeats an item sends it once.
    pub(crate) sent: Mutex<HashSet<String>>,
}

impl Crawl<'_> {
    /// Returns the caller for `service` in this scope. Limiters are keyed by service
    /// (`aws.sagemaker`, `aws.bedrock`, `aws.lambda`) and `<account>:<region>`, because AWS
    /// throttles each service's API separately per account and region.
    pub(crate) fn caller(&self, service: &str) -> Caller {
        let scope = format!("{}:{}", self.target.account, self.target.region);
        Caller {
            limiter: self.limits.limiter(&format!("aws.{service}"), &scope),
            policy: self.policy.clone(),
        }
    }

    /// Sends one finding, unless one with the same external id was sent already.
    pub(crate) fn emit(&self, finding: Finding) {
        let new = self
            .sent
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(finding.external_id.clone());
        if new {
            (self.sink)(finding);
        }
    }

    /// Maximum pages of one listing.
    pub(crate) fn max_pages(&self) -> u32 {
        self.config.max_pages
    }
}

/// Crawls every service of the scope at once and merges their coverage.
pub(crate) async fn crawl_scope(crawl: &Crawl<'_>) -> Result<CrawlReport, CrawlError> {
    let (sagemaker, bedrock, lambda) = tokio::join!(
        sagemaker::crawl(crawl),
        bedrock::crawl(crawl),
        lambda::crawl(crawl)
    );
    let mut coverage = Coverage::default();
    coverage.merge(sagemaker);
    coverage.merge(bedrock);
    coverage.merge(lambda);
    coverage.finish(&crawl.target.scope_id)
}
