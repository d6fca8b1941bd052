//! Settings of an Azure connector, read from `ConnectorSpec.config` and `ConnectorSpec.secret`.

use std::fmt;

use serde::Deserialize;
use url::Url;

use super::KIND;
use crate::cloud::{self, check_max_pages, parse_config};
use crate::source::{ConnectorSpec, CrawlError};

/// Microsoft Entra ID authority that issues tokens for the public Azure cloud.
pub const DEFAULT_AUTHORITY_URL: &str = "https://login.microsoftonline.com";

/// Azure Resource Manager endpoint of the public Azure cloud.
pub const DEFAULT_MANAGEMENT_URL: &str = "https://management.azure.com";

/// Pages one listing may read before it stops and is reported incomplete.
pub const DEFAULT_MAX_PAGES: u32 = 1000;

/// Non-secret settings, as written in `ConnectorSpec.config`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigFields {
    tenant_id: Option<String>,
    client_id: String,
    #[serde(default)]
    subscriptions: Vec<String>,
    authority_url: Option<String>,
    management_url: Option<String>,
    max_pages: Option<u32>,
}

/// Secret settings, as written in `ConnectorSpec.secret`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SecretFields {
    client_secret: String,
    tenant_id: Option<String>,
}

/// A client secret that never appears in `Debug` output.
#[derive(Clone)]
pub(crate) struct ClientSecret(String);

impl ClientSecret {
    /// Returns the secret for the token request body.
    pub(crate) fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ClientSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// Checked settings of one Azure connector.
#[derive(Debug, Clone)]
pub(crate) struct AzureSettings {
    /// Connector name, used in error messages.
    pub(crate) name: String,
    /// Entra ID tenant (directory) id or domain the service principal belongs to.
    pub(crate) tenant_id: String,
    /// Application (client) id of the service principal.
    pub(crate) client_id: String,
    /// Client secret of the service principal.
    pub(crate) client_secret: ClientSecret,
    /// Subscriptions to crawl; empty means every subscription the principal can read.
    pub(crate) subscriptions: Vec<String>,
    /// Entra ID authority, without a trailing slash.
    pub(crate) authority_url: Url,
    /// Azure Resource Manager base URL.
    pub(crate) management_url: Url,
    /// Page limit of one listing.
    pub(crate) max_pages: u32,
}

impl AzureSettings {
    /// Parses and checks the spec; every error names the field at fault and the fix.
    pub(crate) fn from_spec(spec: &ConnectorSpec) -> Result<AzureSettings, CrawlError> {
        let name = spec.name.clone();
        let config: ConfigFields =
            parse_config(&spec.config).map_err(|err| invalid(&name, &format!("config: {err}")))?;
        let secret_value = spec.secret.as_ref().ok_or_else(|| {
            invalid(
                &name,
                "secret is missing: store {\"client_secret\": \"...\"} as the connector secret",
            )
        })?;
        let secret: SecretFields = serde_json::from_value(secret_value.clone())
            .map_err(|err| invalid(&name, &format!("secret: {}", describe_secret_error(&err))))?;

        let Some(tenant_id) = config.tenant_id.or(secret.tenant_id) else {
            return Err(invalid(
                &name,
                "config: missing field `tenant_id`: set it to the directory id of the service principal",
            ));
        };
        check_path_segment(&name, "tenant_id", &tenant_id)?;
        check_non_empty(&name, "client_id", &config.client_id)?;
        check_non_empty(&name, "client_secret", &secret.client_secret)?;
        for subscription in &config.subscriptions {
            check_subscription_id(&name, subscription)?;
        }
        let authority_url = parse_base_url(
            &name,
            "authority_url",
            config
                .authority_url
                .as_deref()
                .unwrap_or(DEFAULT_AUTHORITY_URL),
        )?;
        let management_url = parse_base_url(
            &name,
            "management_url",
            config
                .management_url
                .as_deref()
                .unwrap_or(DEFAULT_MANAGEMENT_URL),
        )?;
        let max_pages = check_max_pages(KIND, &name, config.max_pages, DEFAULT_MAX_PAGES)?;

        Ok(AzureSettings {
            name,
            tenant_id,
            client_id: config.client_id,
            client_secret: ClientSecret(secret.client_secret),
            subscriptions: config.subscriptions,
            authority_url,
            management_url,
            max_pages,
        })
    }
}

/// Describes a secret parse error without echoing any value from the secret.
fn describe_secret_error(err: &serde_json::Error) -> String {
    let text = err.to_string();
    if text.starts_with("unknown field") || text.starts_with("missing field") {
        format!("{text}: the secret takes `client_secret` and optionally `tenant_id`")
    } else {
        "expected an object {\"client_secret\": \"...\"} with string values".to_owned()
    }
}

fn invalid(name: &str, detail: &str) -> CrawlError {
    cloud::invalid(KIND, name, detail)
}

fn check_non_empty(name: &str, field: &str, value: &str) -> Result<(), CrawlError> {
    if value.trim().is_empty() {
        return Err(invalid(
            name,
            &format!("`{field}` is empty: set it to a value"),
        ));
    }
    Ok(())
}

/// Rejects values that would change the URL path they are put into.
fn check_path_segment(name: &str, field: &str, value: &str) -> Result<(), CrawlError> {
    check_non_empty(name, field, value)?;
    let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_');
    if !value.chars().all(allowed) {
        return Err(invalid(
            name,
            &format!("`{field}` `{value}`: use letters, digits, `-`, `.` and `_` only"),
        ));
    }
    Ok(())
}

/// Returns whether `value` is a subscription id in the GUID form Azure uses, and so safe
/// to put in a URL path.
pub(crate) fn is_subscription_id(value: &str) -> bool {
    let groups: Vec<&str> = value.split('-').collect();
    let lengths_match = groups.iter().map(|group| group.len()).eq([8, 4, 4, 4, 12]);
    let hex_only = groups
        .iter()
        .all(|group| group.chars().all(|c| c.is_ascii_hexdigit()));
    lengths_match && hex_only
}

fn check_subscription_id(name: &str, value: &str) -> Result<(), CrawlError> {
    if !is_subscription_id(value) {
        return Err(invalid(
            name,
            &format!(
                "subscription id `{value}` in `subscriptions`: use the GUID form \
                 00000000-0000-0000-0000-000000000000"
            ),
        ));
    }
    Ok(())
}

/// Parses an http or https base URL and drops any trailing slash from its path.
fn parse_base_url(name: &str, field: &str, value: &str) -> Result<Url, CrawlError> {
    let mut url = Url::parse(value).map_err(|err| {
        invalid(
            name,
            &format!("`{field}` `{value}`: {err}: use an absolute https URL"),
        )
    })?;
    if !matches!(url.scheme(), "http" | "https") || url.query().is_some() {
        return Err(invalid(
            name,
            &format!("`{field}` `{value}`: use an http or https URL without a query"),
        ));
    }
    let trimmed = url.path().trim_end_matches('/').to_owned();
    url.set_path(&trimmed);
    Ok(url)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn spec(config: serde_json::Value, secret: Option<serde_json::Value>) -> ConnectorSpec {
        ConnectorSpec {
            name: "corp".to_owned(),
            kind: "azure".to_owned(),
            config,
            secret,
        }
    }

    fn secret() -> Option<serde_json::Value> {
        Some(json!({"client_secret": "s3cr3t-value"}))
    }

    #[test]
    fn defaults_fill_urls_and_page_limit() {
        let config = json!({"tenant_id": "contoso.onmicrosoft.com", "client_id": "app"});
        let settings = AzureSettings::from_spec(&spec(config, secret())).unwrap();
        assert_eq!(
            settings.authority_url.as_str(),
            "https://login.microsoftonline.com/"
        );
        assert_eq!(
            settings.management_url.as_str(),
            "https://management.azure.com/"
        );
        assert_eq!(settings.max_pages, DEFAULT_MAX_PAGES);
        assert!(settings.subscriptions.is_empty());
    }

    #[test]
    fn tenant_id_may_come_from_secret() {
        let config = json!({"client_id": "app"});
        let secret = json!({"client_secret": "x", "tenant_id": "tenant-1"});
        let settings = AzureSettings::from_spec(&spec(config, Some(secret))).unwrap();
        assert_eq!(settings.tenant_id, "tenant-1");
    }

    #[test]
    fn unknown_config_field_is_named() {
        let config = json!({"tenant_id": "t", "client_id": "app", "subscription": []});
        let err = AzureSettings::from_spec(&spec(config, secret())).unwrap_err();
        assert!(err.permanent);
        assert!(
            err.message.contains("unknown field `subscription`"),
            "{}",
            err.message
        );
        assert!(
            err.message.contains("azure connector `corp`"),
            "{}",
            err.message
        );
    }

    #[test]
    fn missing_tenant_is_named_with_fix() {
        let config = json!({"client_id": "app"});
        let err = AzureSettings::from_spec(&spec(config, secret())).unwrap_err();
        assert!(
            err.message.contains("missing field `tenant_id`"),
            "{}",
            err.message
        );
    }

    #[test]
    fn missing_secret_is_rejected() {
        let config = json!({"tenant_id": "t", "client_id": "app"});
        let err = AzureSettings::from_spec(&spec(config, None)).unwrap_err();
        assert!(err.message.contains("secret is missing"), "{}", err.message);
    }

    #[test]
    fn secret_error_does_not_echo_value() {
        let config = json!({"tenant_id": "t", "client_id": "app"});
        let secret = json!({"client_secret": ["hunter2-secret"]});
        let err = AzureSettings::from_spec(&spec(config, Some(secret))).unwrap_err();
        assert!(!err.message.contains("hunter2"), "{}", err.message);
        assert!(!format!("{err:?}").contains("hunter2"));
    }

    #[test]
    fn malformed_subscription_id_is_rejected() {
        let config = json!({"tenant_id": "t", "client_id": "app", "subscriptions": ["../x"]});
        let err = AzureSettings::from_spec(&spec(config, secret())).unwrap_err();
        assert!(
            err.message.contains("subscription id `../x`"),
            "{}",
            err.message
        );
    }

    #[test]
    fn tenant_with_slash_is_rejected() {
        let config = json!({"tenant_id": "a/b", "client_id": "app"});
        let err = AzureSettings::from_spec(&spec(config, secret())).unwrap_err();
        assert!(err.message.contains("`tenant_id` `a/b`"), "{}", err.message);
    }

    #[test]
    fn base_url_trailing_slash_is_dropped() {
        let config = json!({
            "tenant_id": "t", "client_id": "app",
            "management_url": "http://127.0.0.1:9000/arm/"
        });
        let settings = AzureSettings::from_spec(&spec(config, secret())).unwrap();
        assert_eq!(
            settings.management_url.as_str(),
            "http://127.0.0.1:9000/arm"
        );
    }

    #[test]
    fn settings_debug_redacts_secret() {
        let config = json!({"tenant_id": "t", "client_id": "app"});
        let settings = AzureSettings::from_spec(&spec(config, secret())).unwrap();
        assert!(!format!("{settings:?}").contains("s3cr3t"));
    }
}
