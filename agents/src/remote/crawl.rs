//! Crawling configured sources locally, scope by scope, into a finding sink.

use std::sync::Arc;

use futures::StreamExt;
use tracing::warn;

use super::Backoff;
use crate::{CrawlReport, FindingSink, Source};

/// Attempts per scope when a crawl fails with a transient error.
const MAX_CRAWL_ATTEMPTS: u32 = 3;

/// Scopes of one source crawled at the same time.
const MAX_CONCURRENT_SCOPES: usize = 4;

/// Result of crawling one scope, or of listing a connector's scopes when `scope` is empty.
#[derive(Debug, Clone)]
pub struct CrawlOutcome {
    /// Connector name.
    pub connector: String,
    /// Scope id; empty when listing the scopes failed.
    pub scope: String,
    /// The crawl's report, or the error of its last attempt.
    pub result: Result<CrawlReport, String>,
}

/// Crawls every scope of every `(connector name, source)`, sending findings to `sink`.
///
/// A scope whose crawl fails with a transient error is crawled again, up to three
/// attempts; findings it sent before failing are sent again, and the uploader drops those
/// repeats. Sources run one after another, with up to four scopes of a source at once.
pub async fn crawl_sources(
    sources: &[(String, Arc<dyn Source>)],
    sink: FindingSink,
) -> Vec<CrawlOutcome> {
    let mut outcomes = Vec::new();
    for (name, source) in sources {
        let scopes = match source.scopes().await {
            Ok(scopes) => scopes,
            Err(error) => {
                warn!(connector.name = %name, %error, "listing the connector's scopes failed");
                outcomes.push(CrawlOutcome {
                    connector: name.clone(),
                    scope: String::new(),
                    result: Err(error.message),
                });
                continue;
            }
        };
        let crawls = futures::stream::iter(scopes)
            .map(|scope| {
                let sink = sink.clone();
                let source = source.clone();
                async move {
                    let result = crawl_scope(source.as_ref(), &scope, sink).await;
                    CrawlOutcome {
                        connector: name.clone(),
                        scope: scope.id,
                        result,
                    }
                }
            })
            .buffer_unordered(MAX_CONCURRENT_SCOPES);
        outcomes.extend(crawls.collect::<Vec<_>>().await);
    }
    outcomes
}

async fn crawl_scope(
    source: &dyn Source,
    scope: &crate::Scope,
    sink: FindingSink,
) -> Result<CrawlReport, String> {
    let backoff = Backoff::default();
    let mut attempt = 1;
    loop {
        match source.crawl(scope, sink.clone()).await {
            Ok(report) => return Ok(report),
            Err(error) if error.permanent || attempt >= MAX_CRAWL_ATTEMPTS => {
                warn!(scope.id = %scope.id, %error, "crawling the scope failed");
                return Err(error.message);
            }
            Err(error) => {
                let delay = backoff.delay(attempt);
                warn!(scope.id = %scope.id, %error, retry.attempt = attempt, "crawling the scope failed; retrying");
                tokio::time::sleep(delay).await;
                attempt += 1;
            }
        }
    }
}
