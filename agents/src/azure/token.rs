//! OAuth 2.0 client-credentials tokens for Azure Resource Manager.

use std::time::{Duration, Instant};

use serde::Deserialize;
use url::Url;

use super::config::AzureSettings;

/// Scope that grants Azure Resource Manager access to the whole principal.
pub(crate) const MANAGEMENT_SCOPE: &str = "https://management.azure.com/.default";

/// Margin before expiry at which a cached token is replaced, so no call carries a token
/// that expires in flight.
pub(crate) const REFRESH_MARGIN: Duration = Duration::from_secs(300);

/// An access token and the instant it stops being accepted.
#[derive(Clone)]
pub(crate) struct AccessToken {
    /// Bearer token value; never logged.
    pub(crate) value: String,
    /// Instant the provider stops accepting it.
    pub(crate) expires_at: Instant,
}

impl AccessToken {
    /// Returns whether the token can still be used at `now`, keeping [`REFRESH_MARGIN`] spare.
    pub(crate) fn is_fresh(&self, now: Instant) -> bool {
        now + REFRESH_MARGIN < self.expires_at
    }
}

/// Token endpoint of the tenant: `{authority}/{tenant}/oauth2/v2.0/token`.
pub(crate) fn token_url(authority: &Url, tenant_id: &str) -> String {
    format!(
        "{}/{tenant_id}/oauth2/v2.0/token",
        authority.as_str().trim_end_matches('/')
    )
}

/// Form body of the client-credentials grant.
pub(crate) fn token_form(settings: &AzureSettings) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .append_pair("grant_type", "client_credentials")
        .append_pair("client_id", &settings.client_id)
        .append_pair("client_secret", settings.client_secret.expose())
        .append_pair("scope", MANAGEMENT_SCOPE)
        .finish()
}

#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    expires_in: ExpiresIn,
}

/// `expires_in` is a number in the v2.0 endpoint's responses, but some proxies send it
/// as a string.
#[derive(Deserialize)]
#[serde(untagged)]
enum ExpiresIn {
    Number(u64),
    Text(String),
}

/// Error body of the token endpoint.
#[derive(Deserialize)]
struct TokenErrorBody {
    error: String,
    error_description: Option<String>,
}

/// Parses a successful token response received at `now`.
pub(crate) fn parse_token(body: &[u8], now: Instant) -> Result<AccessToken, String> {
    let response: TokenResponse = serde_json::from_slice(body).map_err(|err| {
        format!("token response is not the documented JSON object with access_token and expires_in: {err}")
    })?;
    let seconds = match response.expires_in {
        ExpiresIn::Number(seconds) => seconds,
        ExpiresIn::Text(text) => text
            .parse()
            .map_err(|_| format!("token response has a non-numeric expires_in `{text}`"))?,
    };
    Ok(AccessToken {
        value: response.access_token,
        expires_at: now + Duration::from_secs(seconds),
    })
}

/// Describes a rejected token request from its error body: the error code and the first
/// line of the description, which names the problem (an `AADSTS` code) and no secret.
pub(crate) fn describe_token_error(status: u16, body: &[u8]) -> String {
    match serde_json::from_slice::<TokenErrorBody>(body) {
        Ok(parsed) => {
            let description = parsed.error_description.unwrap_or_default();
            let first_line = description.lines().next().unwrap_or_default();
            format!("HTTP {status} {}: {first_line}", parsed.error)
        }
        Err(_) => format!("HTTP {status} with a body that is not a token error object"),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::source::ConnectorSpec;

    fn settings() -> AzureSettings {
        let spec = ConnectorSpec {
            name: "corp".to_owned(),
            kind: "azure".to_owned(),
            config: json!({"tenant_id": "tenant-1", "client_id": "app id"}),
            secret: Some(json!({"client_secret": "a&b=c"})),
        };
        AzureSettings::from_spec(&spec).unwrap()
    }

    #[test]
    fn token_url_joins_authority_and_tenant() {
        let authority = Url::parse("http://127.0.0.1:8080/").unwrap();
        assert_eq!(
            token_url(&authority, "tenant-1"),
            "http://127.0.0.1:8080/tenant-1/oauth2/v2.0/token"
        );
    }

    #[test]
    fn form_encodes_every_field() {
        let form = token_form(&settings());
        assert_eq!(
            form,
            "grant_type=client_credentials&client_id=app+id&client_secret=a%26b%3Dc\
             &scope=https%3A%2F%2Fmanagement.azure.com%2F.default"
        );
    }

    #[test]
    fn token_expiry_counts_from_now() {
        let now = Instant::now();
        let body = br#"{"token_type":"Bearer","expires_in":3599,"access_token":"tok"}"#;
        let token = parse_token(body, now).unwrap();
        assert_eq!(token.value, "tok");
        assert_eq!(token.expires_at, now + Duration::from_secs(3599));
        assert!(token.is_fresh(now));
        assert!(!token.is_fresh(now + Duration::from_secs(3599 - 299)));
    }

    #[test]
    fn string_expiry_is_accepted() {
        let body = br#"{"expires_in":"60","access_token":"tok"}"#;
        let now = Instant::now();
        let token = parse_token(body, now).unwrap();
        assert_eq!(token.expires_at, now + Duration::from_secs(60));
    }

    #[test]
    fn token_without_access_token_is_rejected() {
        let err = parse_token(br#"{"expires_in":60}"#, Instant::now())
            .err()
            .unwrap();
        assert!(err.contains("access_token"), "{err}");
    }

    #[test]
    fn token_error_keeps_code_and_first_line() {
        let body = json!({
            "error": "invalid_client",
            "error_description": "AADSTS7000215: Invalid client secret provided.\r\nTrace ID: 1",
        });
        let text = describe_token_error(401, body.to_string().as_bytes());
        assert_eq!(
            text,
            "HTTP 401 invalid_client: AADSTS7000215: Invalid client secret provided."
        );
    }
}
