//! SDK configurations: the base credentials, and one separate configuration per assumed
//! member-account role.
//!
//! The base [`SdkConfig`] is built once and never changed. Every assumed session gets its
//! own `SdkConfig` with its own static credentials, so no call made for one account can
//! use another account's credentials or the base credentials by accident.

use std::time::{Duration, SystemTime};

use agents::net::{CallError, RetryPolicy};
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::Credentials;
use aws_credential_types::provider::SharedCredentialsProvider;

use crate::call::Caller;
use crate::config::{AwsConfig, AwsSecret, SESSION_NAME};

/// Time before expiry at which an assumed session is renewed instead of reused.
const RENEW_BEFORE_EXPIRY: Duration = Duration::from_secs(10 * 60);

/// Maximum connect timeout handed to the SDK; the retry layer owns the attempt timeout.
const MAX_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Builds the base configuration: static keys from the secret when given, otherwise the
/// standard credential chain. Retries are off and timeouts follow `policy`, because
/// [`agents::net::with_retries`] owns both.
pub(crate) async fn base_config(
    config: &AwsConfig,
    secret: Option<&AwsSecret>,
    policy: &RetryPolicy,
) -> SdkConfig {
    // The region is always explicit, so the region chain (which may ask the instance
    // metadata service) is never consulted.
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new(config.home_region.clone()))
        .retry_config(RetryConfig::disabled())
        .timeout_config(timeouts(policy));
    if let Some(secret) = secret {
        loader = loader.credentials_provider(Credentials::new(
            secret.access_key_id.clone(),
            secret.secret_access_key.clone(),
            secret.session_token.clone(),
            None,
            "secruna-connector-secret",
        ));
    }
    if let Some(url) = &config.endpoint_url {
        loader = loader.endpoint_url(url.clone());
    }
    loader.load().await
}

/// SDK timeouts for one attempt; the retry layer applies its own on top.
fn timeouts(policy: &RetryPolicy) -> TimeoutConfig {
    TimeoutConfig::builder()
        .connect_timeout(policy.attempt_timeout.min(MAX_CONNECT_TIMEOUT))
        .operation_attempt_timeout(policy.attempt_timeout)
        .operation_timeout(policy.attempt_timeout)
        .build()
}

/// An assumed role's configuration and when its credentials expire.
#[derive(Debug, Clone)]
pub(crate) struct Session {
    /// Configuration with the assumed credentials; the base configuration is untouched.
    pub(crate) config: SdkConfig,
    /// Expiry of the credentials; `None` for the base credentials.
    pub(crate) expires: Option<SystemTime>,
}

impl Session {
    /// Wraps the base configuration.
    pub(crate) fn base(config: &SdkConfig) -> Session {
        Session {
            config: config.clone(),
            expires: None,
        }
    }

    /// Returns whether the credentials are still valid long enough for a crawl.
    pub(crate) fn is_fresh(&self, now: SystemTime) -> bool {
        self.expires
            .is_none_or(|expires| expires > now + RENEW_BEFORE_EXPIRY)
    }
}

/// Builds the ARN of the role to assume in `account`.
pub(crate) fn role_arn(config: &AwsConfig, account: &str) -> String {
    format!(
        "arn:{}:iam::{account}:role/{}",
        config.partition, config.role_name
    )
}

/// Assumes the configured role in `account` with the base credentials and returns a new
/// configuration holding only the assumed credentials.
pub(crate) async fn assume_role(
    base: &SdkConfig,
    config: &AwsConfig,
    external_id: Option<&str>,
    account: &str,
    caller: &Caller,
) -> Result<Session, CallError> {
    let sts = clients::sts(base, config, &config.home_region);
    let role_arn = role_arn(config, account);
    let output = caller
        .call("sts:AssumeRole", || {
            sts.assume_role()
                .role_arn(role_arn.clone())
                .role_session_name(SESSION_NAME)
                .set_external_id(external_id.map(str::to_owned))
                .send()
        })
        .await?;
    let Some(credentials) = output.credentials else {
        return Err(CallError::Malformed {
            operation: "sts:AssumeRole".into(),
            message: format!("the response for `{role_arn}` has no Credentials element"),
        });
    };
    let expires = SystemTime::try_from(credentials.expiration).ok();
    let provider = Credentials::new(
        credentials.access_key_id,
        credentials.secret_access_key,
        Some(credentials.session_token),
        expires,
        "secruna-assumed-role",
    );
    let session_config = base
        .to_builder()
        .credentials_provider(SharedCredentialsProvider::new(provider))
        .build();
    Ok(Session {
        config: session_config,
        expires,
    })
}

/// One SDK client per service, built from a session for one region.
pub(crate) mod clients {
    use aws_config::{Region, SdkConfig};

    use crate::config::AwsConfig;

    macro_rules! client_builder {
        ($(#[$doc:meta])* $name:ident, $krate:ident, $service:literal) => {
            $(#[$doc])*
            pub(crate) fn $name(session: &SdkConfig, config: &AwsConfig, region: &str) -> $krate::Client {
                let mut builder = $krate::config::Builder::from(session)
                    .region(Region::new(region.to_owned()));
                if let Some(url) = config.service_endpoints.get($service) {
                    builder = builder.endpoint_url(url.clone());
                }
                $krate::Client::from_conf(builder.build())
            }
        };
    }

    client_builder!(
        /// STS client.
        sts, aws_sdk_sts, "sts"
    );
    client_builder!(
        /// Organizations client.
        organizations, aws_sdk_organizations, "organizations"
    );
    client_builder!(
        /// Account client (`ListRegions`).
        account, aws_sdk_account, "account"
    );
    client_builder!(
        /// SageMaker client.
        sagemaker, aws_sdk_sagemaker, "sagemaker"
    );
    client_builder!(
        /// Bedrock control-plane client.
        bedrock, aws_sdk_bedrock, "bedrock"
    );
    client_builder!(
        /// Bedrock Agents build-time client.
        bedrock_agent, aws_sdk_bedrockagent, "bedrock-agent"
    );
    client_builder!(
        /// Lambda client.
        lambda, aws_sdk_lambda, "lambda"
    );
}
