//! Lists the scopes of a connector: its accounts times their regions.

use std::time::Duration;

use agents::net::{CallError, Quota};
use agents::{CoverageGap, CrawlError, CrawlReport, Scope};
use aws_sdk_account::types::RegionOptStatus;
use aws_sdk_organizations::types::{Account, AccountState, AccountStatus};
use futures::StreamExt;

use crate::config::is_account_id;
use crate::session::clients;
use crate::source::{AwsSource, Base};

/// Accounts whose regions are listed at once when the config names no regions.
const REGION_LISTING_CONCURRENCY: usize = 8;

/// Services whose limiters a configured quota applies to.
const CRAWLED_SERVICES: [&str; 3] = ["aws.sagemaker", "aws.bedrock", "aws.lambda"];

/// Lists one scope per account and region. An account whose regions cannot be listed gets
/// one placeholder scope, `aws:<account>:regions`, whose crawl reports why.
pub(crate) async fn scopes(source: &AwsSource) -> Result<Vec<Scope>, CrawlError> {
    let base = source.base().await?;
    let accounts = match &source.config().accounts {
        Some(accounts) => accounts.clone(),
        None => list_accounts(source, base).await?,
    };

    let per_account: Vec<Vec<Scope>> = futures::stream::iter(accounts)
        .map(|account| account_scopes(source, base, account))
        .buffered(REGION_LISTING_CONCURRENCY)
        .collect()
        .await;
    let scopes: Vec<Scope> = per_account.into_iter().flatten().collect();

    if let Some(calls) = source.config().rate_calls {
        let quota = Quota::new(
            calls,
            Duration::from_secs(source.config().rate_window_seconds),
        );
        for scope in &scopes {
            if let (Some(account), Some(region)) = (scope.param("account"), scope.param("region")) {
                for service in CRAWLED_SERVICES {
                    source
                        .limits()
                        .set_quota(service, &format!("{account}:{region}"), quota);
                }
            }
        }
    }
    tracing::info!(connector = %source.name(), scopes = scopes.len(), "aws scopes listed");
    Ok(scopes)
}

async fn account_scopes(source: &AwsSource, base: &Base, account: String) -> Vec<Scope> {
    let access = if source.uses_base(base, &account) {
        "base"
    } else {
        "role"
    };
    let regions = match &source.config().regions {
        Some(regions) => Ok(regions.clone()),
        None => list_regions(source, base, &account).await,
    };
    match regions {
        Ok(regions) => regions
            .into_iter()
            .map(|region| {
                Scope::new("aws", format!("aws:{account}:{region}"))
                    .with_param("account", account.clone())
                    .with_param("region", region)
                    .with_param("access", access)
            })
            .collect(),
        Err(error) => {
            tracing::warn!(aws.account = %account, error = %error, "aws regions not listed");
            vec![placeholder(&account, &error)]
        }
    }
}

/// Lists the active accounts of the organisation; without an organisation, the base
/// account alone.
async fn list_accounts(source: &AwsSource, base: &Base) -> Result<Vec<String>, CrawlError> {
    let client =
        clients::organizations(&base.config, source.config(), &source.config().home_region);
    let caller = source.global_caller("organizations", &base.account);
    let listing = caller
        .list(
            "organizations:ListAccounts",
            source.config().max_pages,
            |token| {
                let request = client.list_accounts().set_next_token(token);
                async move {
                    let output = request.send().await?;
                    Ok((output.accounts.unwrap_or_default(), output.next_token))
                }
            },
        )
        .await;
    let fail = |message: String, permanent: bool| CrawlError {
        message: format!("connector `{}`: {message}", source.name()),
        permanent,
    };
    match listing.error {
        Some(CallError::Status { message, .. })
            if message.contains("AWSOrganizationsNotInUseException") =>
        {
            tracing::info!(connector = %source.name(), "no organisation: crawling the base account only");
            return Ok(vec![base.account.clone()]);
        }
        Some(error) => {
            let permanent = error.is_permanent();
            return Err(fail(
                format!(
                    "listing the accounts failed: {error}; or name the accounts in config `accounts`"
                ),
                permanent,
            ));
        }
        None => {}
    }
    if let Some(reason) = listing.stopped {
        return Err(fail(
            format!("{reason}; name the accounts in config `accounts`"),
            true,
        ));
    }
    let accounts: Vec<String> = listing
        .items
        .iter()
        .filter(|a| is_active(a))
        .filter_map(|a| a.id.clone())
        .collect();
    let valid: Vec<String> = accounts
        .iter()
        .filter(|id| is_account_id(id))
        .cloned()
        .collect();
    if valid.len() != accounts.len() {
        tracing::warn!(connector = %source.name(), "organizations:ListAccounts returned ids that are not 12-digit account ids; they are left out");
    }
    Ok(valid)
}

/// Returns whether an organisation account can be crawled; a missing state counts as active.
fn is_active(account: &Account) -> bool {
    match (&account.state, &account.status) {
        (Some(state), _) => *state == AccountState::Active,
        (None, Some(status)) => *status == AccountStatus::Active,
        (None, None) => true,
    }
}

/// Lists the regions enabled in `account` with that account's session.
async fn list_regions(
    source: &AwsSource,
    base: &Base,
    account: &str,
) -> Result<Vec<String>, CallError> {
    let session = source.session(base, account).await?;
    let client = clients::account(
        &session.config,
        source.config(),
        &source.config().home_region,
    );
    let caller = source.global_caller("account", account);
    let listing = caller
        .list("account:ListRegions", source.config().max_pages, |token| {
            let request = client
                .list_regions()
                .region_opt_status_contains(RegionOptStatus::Enabled)
                .region_opt_status_contains(RegionOptStatus::EnabledByDefault)
                .set_next_token(token);
            async move {
                let output = request.send().await?;
                Ok((output.regions.unwrap_or_default(), output.next_token))
            }
        })
        .await;
    if let Some(error) = listing.error {
        return Err(error);
    }
    if let Some(reason) = listing.stopped {
        return Err(CallError::Malformed {
            operation: "account:ListRegions".into(),
            message: reason,
        });
    }
    let mut regions: Vec<String> = listing
        .items
        .into_iter()
        .filter(|region| {
            matches!(
                region.region_opt_status,
                None | Some(RegionOptStatus::Enabled) | Some(RegionOptStatus::EnabledByDefault)
            )
        })
        .filter_map(|region| region.region_name)
        .filter(|name| crate::config::is_region_name(name))
        .collect();
    regions.sort();
    regions.dedup();
    if regions.is_empty() {
        return Err(CallError::Malformed {
            operation: "account:ListRegions".into(),
            message: "no enabled region was returned".into(),
        });
    }
    Ok(regions)
}

/// Builds the scope that stands for an account whose regions could not be listed.
fn placeholder(account: &str, error: &CallError) -> Scope {
    let (failure, permanent) = match error {
        CallError::Denied { .. } => ("denied", true),
        CallError::NotEnabled { .. } => ("not_enabled", true),
        other => ("error", other.is_permanent()),
    };
    let mut scope = Scope::new("aws", format!("aws:{account}:regions"))
        .with_param("account", account)
        .with_param("failure", failure)
        .with_param("operation", error.operation())
        .with_param("message", error.to_string())
        .with_param("permanent", permanent.to_string());
    if let CallError::Denied {
        permission,
        message,
        ..
    } = error
    {
        scope = scope
            .with_param("permission", permission.as_str())
            .with_param("detail", message.as_str());
    }
    scope
}

/// Returns the crawl result of a placeholder scope, `None` for a normal scope.
pub(crate) fn placeholder_report(scope: &Scope) -> Option<Result<CrawlReport, CrawlError>> {
    let failure = scope.param("failure")?;
    let message = scope
        .param("message")
        .unwrap_or("the regions could not be listed")
        .to_owned();
    let report = match failure {
        "denied" => Ok(CrawlReport {
            gaps: vec![CoverageGap {
                service: scope
                    .param("operation")
                    .unwrap_or("account:ListRegions")
                    .to_owned(),
                permission: scope
                    .param("permission")
                    .unwrap_or("account:ListRegions")
                    .to_owned(),
                message: format!(
                    "{}; or name the regions in config `regions`",
                    scope.param("detail").unwrap_or(&message)
                ),
            }],
            ..CrawlReport::default()
        }),
        "not_enabled" => Ok(CrawlReport {
            skipped: Some(message),
            ..CrawlReport::default()
        }),
        _ => Err(CrawlError {
            message: format!("scope `{}`: {message}", scope.id),
            permanent: scope.param("permanent") == Some("true"),
        }),
    };
    Some(report)
}
