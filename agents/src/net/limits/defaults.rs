//! Default quotas from the providers' published limits. docs/rate-limits.md gives the
//! source of each number and why the default sits below it.

use std::collections::BTreeMap;

use super::Quota;

/// Calls of one GitHub token allowed in flight at once. GitHub asks clients to avoid
/// concurrent requests and enforces secondary limits on them.
pub(super) const GITHUB_MAX_IN_FLIGHT: usize = 4;

/// Returns the default quota per provider, keyed by provider name and, for AWS, by
/// `aws.<service>` for services whose control-plane limits differ.
pub fn provider_defaults() -> BTreeMap<String, Quota> {
    let entries = [
        // REST API primary limit of a personal access token or an App installation.
        ("github", Quota::per_hour(5_000)),
        // Resource Manager reads of one subscription: token bucket refilled at 25 per
        // second; the default keeps 20 % for other clients of the subscription.
        ("azure", Quota::per_minute(1_200)),
        // Vertex AI resource-management requests per project and region.
        ("gcp", Quota::per_minute(600)),
        // NOTE: AWS publishes no rate for these control-plane APIs; the values are
        // estimates (SageMaker List* and Describe* throttle at low single-digit rates).
        ("aws", Quota::per_second(5)),
        ("aws.sagemaker", Quota::per_second(2)),
        ("aws.bedrock", Quota::per_second(5)),
        // Lambda control-plane APIs other than GetFunction and GetPolicy: 15 per second.
        ("aws.lambda", Quota::per_second(10)),
        // No published rate either; STS limits apply per account and cannot be raised.
        ("aws.organizations", Quota::per_second(2)),
        ("aws.sts", Quota::per_second(20)),
    ];
    entries
        .into_iter()
        .map(|(provider, quota)| (provider.to_owned(), quota))
        .collect()
}
