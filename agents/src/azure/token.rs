//! OAuth 2.0 client-credentials tokens for Azure Resource Manager.

use url::Url;

use super::config::AzureSettings;

/// Scope that grants Azure Resource Manager access to the whole principal.
pub(crate) const MANAGEMENT_SCOPE: &str = "https://management.azure.com/.default";

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

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use serde_json::json;

    use super::*;
    use crate::net::token::{describe_token_error, parse_token};
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
