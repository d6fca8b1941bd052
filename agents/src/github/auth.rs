//! GitHub credentials: a personal access token, or a GitHub App whose JWT is exchanged for
//! an installation token that is cached until shortly before it expires.

use std::fmt;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use url::Url;

use super::api::github_request;
use crate::net::token::{AccessToken, TokenCache};
use crate::net::{CallError, HttpClient};

/// How far in the past the JWT's `iat` is set, against clock drift (GitHub recommends 60 s).
const JWT_BACKDATE: Duration = Duration::from_secs(60);

/// Lifetime of the JWT from `iat`; GitHub accepts at most 10 minutes.
const JWT_LIFETIME: Duration = Duration::from_secs(9 * 60);

/// The credentials of one GitHub connector.
pub(crate) enum Auth {
    /// A personal access token (classic or fine-grained).
    Token {
        /// The token; never logged or shown.
        token: String,
        /// `pat:` and the first 12 hex digits of the token's SHA-256.
        identity: String,
    },
    /// A GitHub App installation.
    App(AppAuth),
}

impl fmt::Debug for Auth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Auth")
            .field("identity", &self.identity())
            .finish_non_exhaustive()
    }
}

/// A GitHub App installation and its cached installation token.
pub(crate) struct AppAuth {
    app_id: String,
    installation_id: u64,
    key: EncodingKey,
    /// The installation token, renewed when less than five minutes of it are left.
    cached: TokenCache,
}

/// Claims of the JWT that authenticates as the App.
#[derive(Debug, Serialize)]
struct AppClaims {
    iat: u64,
    exp: u64,
    iss: String,
}

/// The documented response of `POST /app/installations/{id}/access_tokens`.
#[derive(Deserialize)]
struct InstallationToken {
    token: String,
    expires_at: String,
}

impl Auth {
    /// Creates token credentials.
    pub(crate) fn token(token: String) -> Auth {
        let digest = Sha256::digest(token.as_bytes());
        let identity = format!("pat:{}", &hex::encode(digest)[..12]);
        Auth::Token { token, identity }
    }

    /// Creates App credentials from the App id, the installation id and the App's private
    /// key in PEM form.
    pub(crate) fn app(app_id: String, installation_id: u64, pem: &str) -> Result<Auth, String> {
        let key = EncodingKey::from_rsa_pem(pem.as_bytes()).map_err(|error| {
            format!("`private_key` is not an RSA private key in PEM form ({error})")
        })?;
        Ok(Auth::App(AppAuth {
            app_id,
            installation_id,
            key,
            cached: TokenCache::new(),
        }))
    }

    /// Returns the limiter key of these credentials: every call made with them shares one
    /// limiter, so a secondary limit pauses them on every endpoint. It never contains the
    /// token.
    pub(crate) fn identity(&self) -> String {
        match self {
            Auth::Token { identity, .. } => identity.clone(),
            Auth::App(app) => format!("installation:{}", app.installation_id),
        }
    }

    /// Returns the bearer token for API calls, exchanging a new installation token when the
    /// cached one is missing or near expiry.
    pub(crate) async fn bearer(&self, http: &HttpClient, api: &Url) -> Result<String, CallError> {
        match self {
            Auth::Token { token, .. } => Ok(token.clone()),
            Auth::App(app) => app.installation_token(http, api, &self.identity()).await,
        }
    }
}

impl AppAuth {
    async fn installation_token(
        &self,
        http: &HttpClient,
        api: &Url,
        identity: &str,
    ) -> Result<String, CallError> {
        let fetch = || self.create_installation_token(http, api, identity);
        self.cached.bearer(fetch).await
    }

    async fn create_installation_token(
        &self,
        http: &HttpClient,
        api: &Url,
        identity: &str,
    ) -> Result<AccessToken, CallError> {
        let operation = "create an installation access token";
        let jwt = self.jwt(operation)?;
        let mut url = api.clone();
        url.path_segments_mut()
            .map_err(|()| malformed_base(operation))?
            .pop_if_empty()
            .extend([
                "app",
                "installations",
                &self.installation_id.to_string(),
                "access_tokens",
            ]);
        let request = || github_request(http.client().post(url.clone()), &jwt);
        let response = http.send("github", identity, operation, &request).await?;
        let answer: InstallationToken =
            serde_json::from_slice(&response.body).map_err(|error| CallError::Malformed {
                operation: operation.to_owned(),
                message: format!("expected `token` and `expires_at` ({error})"),
            })?;
        let expires_at = chrono::DateTime::parse_from_rfc3339(&answer.expires_at)
            .map(SystemTime::from)
            .map_err(|error| CallError::Malformed {
                operation: operation.to_owned(),
                message: format!("`expires_at` is not an RFC 3339 time ({error})"),
            })?;
        tracing::debug!(
            github.installation_id = self.installation_id,
            "installation token renewed"
        );
        let lifetime = expires_at
            .duration_since(SystemTime::now())
            .unwrap_or_default();
        Ok(AccessToken {
            value: answer.token,
            expires_at: Instant::now() + lifetime,
        })
    }

    /// Signs the RS256 JWT that authenticates as the App.
    fn jwt(&self, operation: &str) -> Result<String, CallError> {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        let issued = now.saturating_sub(JWT_BACKDATE);
        let claims = AppClaims {
            iat: issued.as_secs(),
            exp: (issued + JWT_LIFETIME).as_secs(),
            iss: self.app_id.clone(),
        };
        jsonwebtoken::encode(&Header::new(Algorithm::RS256), &claims, &self.key).map_err(|error| {
            CallError::Status {
                operation: operation.to_owned(),
                status: 0,
                message: format!("cannot sign the App JWT ({error}); check `private_key`"),
            }
        })
    }
}

fn malformed_base(operation: &str) -> CallError {
    CallError::Malformed {
        operation: operation.to_owned(),
        message: "the API base URL cannot take a path".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_identity_hides_the_token() {
        let auth = Auth::token("ghp_secretvalue".to_owned());
        let identity = auth.identity();
        assert!(identity.starts_with("pat:"));
        assert_eq!(identity.len(), 16);
        assert!(!identity.contains("secret"));
        assert!(!format!("{auth:?}").contains("secret"));
    }

    #[test]
    fn invalid_private_key_is_rejected() {
        let error = Auth::app("1".to_owned(), 2, "not a key").expect_err("no PEM");
        assert!(error.contains("`private_key`"), "{error}");
    }
}
