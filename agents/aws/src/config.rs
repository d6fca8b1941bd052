//! The connector's settings: `ConnectorSpec.config` and `ConnectorSpec.secret` as JSON.

use std::collections::BTreeMap;
use std::fmt;

use serde::Deserialize;

/// Role assumed in every member account when `role_name` is not set.
pub const DEFAULT_ROLE_NAME: &str = "SecrunaReadOnly";

/// Region of the global calls (STS, Organizations, Account) when `home_region` is not set.
pub const DEFAULT_HOME_REGION: &str = "us-east-1";

/// Session name of every assumed role, so CloudTrail shows which calls the scanner made.
pub const SESSION_NAME: &str = "secruna-scan";

/// Maximum pages read from one listing when `max_pages` is not set.
pub const DEFAULT_MAX_PAGES: u32 = 1000;

/// Non-secret settings from `ConnectorSpec.config`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AwsConfig {
    /// Account ids to crawl; when absent the accounts come from Organizations `ListAccounts`.
    #[serde(default)]
    pub accounts: Option<Vec<String>>,
    /// Regions to crawl in every account; when absent each account's enabled regions come
    /// from the Account `ListRegions` call.
    #[serde(default)]
    pub regions: Option<Vec<String>>,
    /// Name of the role assumed in every member account.
    #[serde(default = "default_role_name")]
    pub role_name: String,
    /// External id passed to `AssumeRole`; the secret may set it instead.
    #[serde(default)]
    pub external_id: Option<String>,
    /// Whether the account of the base credentials is also crawled through the role
    /// rather than with the base credentials.
    #[serde(default)]
    pub assume_role_in_base_account: bool,
    /// Region used for STS, Organizations and Account calls.
    #[serde(default = "default_home_region")]
    pub home_region: String,
    /// ARN partition: `aws`, `aws-cn` or `aws-us-gov`.
    #[serde(default = "default_partition")]
    pub partition: String,
    /// Endpoint of every service, for emulators and private endpoints.
    #[serde(default)]
    pub endpoint_url: Option<String>,
    /// Endpoint of one service (`sts`, `organizations`, `account`, `sagemaker`, `bedrock`,
    /// `bedrock-agent`, `lambda`), taking precedence over `endpoint_url`.
    #[serde(default)]
    pub service_endpoints: BTreeMap<String, String>,
    /// Maximum pages read from one listing before it is marked incomplete.
    #[serde(default = "default_max_pages")]
    pub max_pages: u32,
    /// Calls allowed per scope in `rate_window_seconds`, overriding the provider default.
    #[serde(default)]
    pub rate_calls: Option<u32>,
    /// Window of `rate_calls`, in seconds.
    #[serde(default = "default_rate_window")]
    pub rate_window_seconds: u64,
}

/// Secret settings from `ConnectorSpec.secret`; when absent the standard credential chain
/// (environment, profile, web identity, container, instance metadata) supplies the base
/// credentials.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AwsSecret {
    /// Access key id of the base credentials.
    pub access_key_id: String,
    /// Secret access key of the base credentials.
    pub secret_access_key: String,
    /// Session token, for temporary base credentials.
    #[serde(default)]
    pub session_token: Option<String>,
    /// External id passed to `AssumeRole`, overriding `config.external_id`.
    #[serde(default)]
    pub external_id: Option<String>,
}

impl fmt::Debug for AwsSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AwsSecret")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"<redacted>")
            .field(
                "session_token",
                &self.session_token.as_ref().map(|_| "<redacted>"),
            )
            .field(
                "external_id",
                &self.external_id.as_ref().map(|_| "<redacted>"),
            )
            .finish()
    }
}

/// Services whose endpoint `service_endpoints` may override.
pub const SERVICES: [&str; 7] = [
    "sts",
    "organizations",
    "account",
    "sagemaker",
    "bedrock",
    "bedrock-agent",
    "lambda",
];

/// Invalid connector settings; the message names the field and the fix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// The JSON does not match the documented fields.
    #[error("invalid aws connector {part}: {message}")]
    Json {
        /// `config` or `secret`.
        part: &'static str,
        /// serde's message, naming the field.
        message: String,
    },
    /// A field has a value the connector cannot use.
    #[error("invalid aws connector config field `{field}`: {message}")]
    Field {
        /// Field name, with an index for list entries.
        field: String,
        /// Description of the problem and its fix.
        message: String,
    },
}

impl AwsConfig {
    /// Parses and validates `ConnectorSpec.config`; `null` means every default.
    pub fn from_json(value: &serde_json::Value) -> Result<AwsConfig, ConfigError> {
        let value = match value {
            serde_json::Value::Null => serde_json::Value::Object(Default::default()),
            other => other.clone(),
        };
        let config: AwsConfig =
            serde_json::from_value(value).map_err(|error| ConfigError::Json {
                part: "config",
                message: error.to_string(),
            })?;
        config.validate()?;
        Ok(config)
    }

    fn validate(&self) -> Result<(), ConfigError> {
        for (index, account) in self.accounts.iter().flatten().enumerate() {
            if !is_account_id(account) {
                return Err(field_error(
                    format!("accounts[{index}]"),
                    format!("`{account}` is not an account id: use the 12-digit id"),
                ));
            }
        }
        if self.accounts.as_ref().is_some_and(Vec::is_empty) {
            return Err(field_error(
                "accounts",
                "the list is empty: name at least one account or remove the field",
            ));
        }
        for (index, region) in self.regions.iter().flatten().enumerate() {
            check_region(&format!("regions[{index}]"), region)?;
        }
        if self.regions.as_ref().is_some_and(Vec::is_empty) {
            return Err(field_error(
                "regions",
                "the list is empty: name at least one region or remove the field",
            ));
        }
        check_region("home_region", &self.home_region)?;
        self.validate_names()?;
        self.validate_endpoints()?;
        self.validate_limits()
    }

    fn validate_names(&self) -> Result<(), ConfigError> {
        let role_ok = !self.role_name.is_empty()
            && self.role_name.len() <= 64
            && self
                .role_name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "+=,.@_-/".contains(c));
        if !role_ok {
            return Err(field_error(
                "role_name",
                format!(
                    "`{}` is not an IAM role name: use 1 to 64 letters, digits or +=,.@_-",
                    self.role_name
                ),
            ));
        }
        if !["aws", "aws-cn", "aws-us-gov"].contains(&self.partition.as_str()) {
            return Err(field_error(
                "partition",
                format!(
                    "`{}` is not a partition: use aws, aws-cn or aws-us-gov",
                    self.partition
                ),
            ));
        }
        Ok(())
    }

    fn validate_endpoints(&self) -> Result<(), ConfigError> {
        if let Some(url) = &self.endpoint_url {
            check_url("endpoint_url", url)?;
        }
        for (service, url) in &self.service_endpoints {
            if !SERVICES.contains(&service.as_str()) {
                return Err(field_error(
                    format!("service_endpoints.{service}"),
                    format!("unknown service: use one of {}", SERVICES.join(", ")),
                ));
            }
            check_url(&format!("service_endpoints.{service}"), url)?;
        }
        Ok(())
    }

    fn validate_limits(&self) -> Result<(), ConfigError> {
        if self.max_pages == 0 {
            return Err(field_error("max_pages", "must be at least 1"));
        }
        if self.rate_calls == Some(0) {
            return Err(field_error(
                "rate_calls",
                "must be at least 1, or remove the field",
            ));
        }
        if self.rate_window_seconds == 0 {
            return Err(field_error("rate_window_seconds", "must be at least 1"));
        }
        Ok(())
    }

    /// Returns the endpoint override of `service`, if any.
    pub fn endpoint_for(&self, service: &str) -> Option<&str> {
        self.service_endpoints
            .get(service)
            .or(self.endpoint_url.as_ref())
            .map(String::as_str)
    }
}

impl AwsSecret {
    /// Parses `ConnectorSpec.secret`; `None` or `null` means the standard credential chain.
    pub fn from_json(value: Option<&serde_json::Value>) -> Result<Option<AwsSecret>, ConfigError> {
        let Some(value) = value.filter(|value| !value.is_null()) else {
            return Ok(None);
        };
        // serde's messages quote the offending value only for type errors on scalars, so
        // replace them to keep key material out of the error.
        let secret: AwsSecret =
            serde_json::from_value(value.clone()).map_err(|error| ConfigError::Json {
                part: "secret",
                message: redact_serde_message(&error.to_string()),
            })?;
        if secret.access_key_id.is_empty() || secret.secret_access_key.is_empty() {
            return Err(ConfigError::Json {
                part: "secret",
                message: "access_key_id and secret_access_key must both be non-empty".into(),
            });
        }
        Ok(Some(secret))
    }
}

/// Returns whether `value` is a 12-digit AWS account id.
pub fn is_account_id(value: &str) -> bool {
    value.len() == 12 && value.bytes().all(|b| b.is_ascii_digit())
}

/// Returns whether `value` has the form of a region name such as `eu-west-1` or `us-gov-east-1`.
pub fn is_region_name(value: &str) -> bool {
    let parts: Vec<&str> = value.split('-').collect();
    let Some((number, words)) = parts.split_last() else {
        return false;
    };
    words.len() >= 2
        && words[0].len() == 2
        && words
            .iter()
            .all(|word| !word.is_empty() && word.bytes().all(|b| b.is_ascii_lowercase()))
        && !number.is_empty()
        && number.bytes().all(|b| b.is_ascii_digit())
}

fn check_region(field: &str, region: &str) -> Result<(), ConfigError> {
    if is_region_name(region) {
        return Ok(());
    }
    Err(field_error(
        field,
        format!("`{region}` is not a region name: use a name such as eu-west-1"),
    ))
}

fn check_url(field: &str, url: &str) -> Result<(), ConfigError> {
    let scheme_ok = url.starts_with("http://") || url.starts_with("https://");
    if scheme_ok && url.len() > "https://".len() {
        return Ok(());
    }
    Err(field_error(
        field,
        format!(
            "`{url}` is not an http(s) URL: use a URL such as https://sagemaker.eu-west-1.amazonaws.com"
        ),
    ))
}

fn field_error(field: impl Into<String>, message: impl Into<String>) -> ConfigError {
    ConfigError::Field {
        field: field.into(),
        message: message.into(),
    }
}

/// Keeps serde's message up to the first quoted value, so a mistyped secret never echoes.
fn redact_serde_message(message: &str) -> String {
    if message.starts_with("unknown field") || message.starts_with("missing field") {
        // These name the field, never the value.
        return message.to_owned();
    }
    match message.find(['"', '`']) {
        Some(quote) => format!("{}<redacted>", &message[..quote]),
        None => message.to_owned(),
    }
}

fn default_role_name() -> String {
    DEFAULT_ROLE_NAME.to_owned()
}

fn default_home_region() -> String {
    DEFAULT_HOME_REGION.to_owned()
}

fn default_partition() -> String {
    "aws".to_owned()
}

fn default_max_pages() -> u32 {
    DEFAULT_MAX_PAGES
}

fn default_rate_window() -> u64 {
    1
}

#[cfg(test)]
mod tests;
