//! Service-account access tokens: a signed RS256 JWT assertion exchanged at the token URI
//! (the OAuth 2.0 JWT bearer grant, RFC 7523).

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde::{Deserialize, Serialize};

/// Scope of the access token; IAM roles, not the scope, limit what it can read.
pub(crate) const CLOUD_PLATFORM_SCOPE: &str = "https://www.googleapis.com/auth/cloud-platform";

/// Grant type of the JWT bearer exchange.
pub(crate) const JWT_BEARER_GRANT: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";

/// Lifetime requested for the assertion; Google accepts at most one hour.
const ASSERTION_LIFETIME: Duration = Duration::from_secs(3600);

/// The fields of a service-account JSON key file the connector reads. Other fields of the
/// file are ignored, because Google adds fields to the format over time.
#[derive(Clone, Deserialize)]
pub(crate) struct ServiceAccountKey {
    #[serde(rename = "type")]
    key_type: Option<String>,
    /// Id of the key, sent as the JWT `kid` header.
    pub(crate) private_key_id: Option<String>,
    /// PEM-encoded PKCS#8 RSA private key; never logged.
    private_key: String,
    /// Service account e-mail, the assertion's issuer.
    pub(crate) client_email: String,
    /// Token endpoint named in the key file.
    pub(crate) token_uri: Option<String>,
}

impl fmt::Debug for ServiceAccountKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServiceAccountKey")
            .field("client_email", &self.client_email)
            .field("private_key_id", &self.private_key_id)
            .field("private_key", &"<redacted>")
            .finish()
    }
}

impl ServiceAccountKey {
    /// Reads the key from the connector secret: the key file's JSON object, or a string
    /// containing it. The error never echoes a value from the secret.
    pub(crate) fn from_secret(secret: &serde_json::Value) -> Result<ServiceAccountKey, String> {
        let parsed = match secret {
            serde_json::Value::String(text) => serde_json::from_str::<ServiceAccountKey>(text),
            other => serde_json::from_value::<ServiceAccountKey>(other.clone()),
        };
        let key = parsed.map_err(|err| {
            let text = err.to_string();
            let field = text.strip_prefix("missing field ").map(|rest| {
                rest.split_whitespace().next().unwrap_or(rest).to_owned()
            });
            match field {
                Some(field) => format!(
                    "secret: missing field {field}: store the service-account JSON key file as the secret"
                ),
                None => "secret: expected the service-account JSON key file (an object with \
                         client_email and private_key)"
                    .to_owned(),
            }
        })?;
        if key
            .key_type
            .as_deref()
            .is_some_and(|kind| kind != "service_account")
        {
            return Err(
                "secret: the key file `type` is not `service_account`: create a key for a \
                        service account, not user credentials"
                    .to_owned(),
            );
        }
        EncodingKey::from_rsa_pem(key.private_key.as_bytes()).map_err(|_| {
            "secret: `private_key` is not a PEM RSA private key: store the key file unchanged"
                .to_owned()
        })?;
        Ok(key)
    }

    /// Signs the assertion for `audience` (the token URI), issued at `issued_at`.
    pub(crate) fn assertion(
        &self,
        audience: &str,
        issued_at: SystemTime,
    ) -> Result<String, String> {
        let iat = issued_at
            .duration_since(UNIX_EPOCH)
            .map_err(|_| "system clock is before 1970".to_owned())?
            .as_secs();
        let claims = Claims {
            iss: &self.client_email,
            scope: CLOUD_PLATFORM_SCOPE,
            aud: audience,
            iat,
            exp: iat + ASSERTION_LIFETIME.as_secs(),
        };
        let mut header = Header::new(Algorithm::RS256);
        header.kid = self.private_key_id.clone();
        let key = EncodingKey::from_rsa_pem(self.private_key.as_bytes())
            .map_err(|err| format!("cannot read the service-account private key: {err}"))?;
        jsonwebtoken::encode(&header, &claims, &key)
            .map_err(|err| format!("cannot sign the token assertion: {err}"))
    }
}

/// Claims of the JWT bearer assertion Google's token endpoint expects.
#[derive(Debug, Serialize, Deserialize, PartialEq, Eq)]
pub(crate) struct Claims<'a> {
    /// Service account e-mail.
    pub(crate) iss: &'a str,
    /// Space-separated OAuth scopes.
    pub(crate) scope: &'a str,
    /// Token URI.
    pub(crate) aud: &'a str,
    /// Issued at, seconds since the Unix epoch.
    pub(crate) iat: u64,
    /// Expiry, seconds since the Unix epoch.
    pub(crate) exp: u64,
}

/// Form body of the token exchange.
pub(crate) fn token_form(assertion: &str) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .append_pair("grant_type", JWT_BEARER_GRANT)
        .append_pair("assertion", assertion)
        .finish()
}

#[cfg(test)]
#[path = "token/tests.rs"]
mod tests;
