//! The GitHub connector: runs the code detectors on an organisation's repositories.
//!
//! Each organisation is one scope, `github:<org>`. The connector lists its repositories with
//! Link-header paging and reads each default branch's git tree. It downloads the blobs of the
//! files the code detectors read into a temporary folder and runs
//! [`scan_tree`](crate::scan_tree) on it with the embedded catalogue, so GitHub repositories
//! get exactly the detectors of local code. The findings are then moved into the scope, with
//! `path` = `<repo>/<file>`.
//!
//! Every call runs through the shared [`HttpClient`] under one limiter per token (the App
//! installation id, or a SHA-256 prefix of the personal access token), so a secondary rate
//! limit pauses that token on every endpoint and in every organisation.

mod api;
mod auth;
mod crawl;
mod select;

use std::fmt;
use std::sync::Arc;

use serde::Deserialize;
use url::Url;

use self::api::{Api, Repo};
use self::auth::Auth;
use self::crawl::OrgCrawl;
use crate::code::{DEFAULT_MAX_FILE_SIZE, DEFAULT_SKIP_DIRS};
use crate::net::HttpClient;
use crate::source::{
    BoxFuture, ConnectorSpec, CrawlError, CrawlReport, FindingSink, Scope, Source, SourceFactory,
};

/// Default API base URL.
pub const DEFAULT_API_URL: &str = "https://api.github.com";

/// Default number of blobs downloaded at once per repository.
pub const DEFAULT_BLOB_CONCURRENCY: usize = 4;

/// Default maximum of repository listing pages (100 repositories each).
pub const DEFAULT_MAX_PAGES: u32 = 1_000;

const PROVIDER: &str = "github";

/// Settings of a GitHub connector, the `config` object of its spec.
#[derive(Debug, Clone)]
pub struct GitHubConfig {
    /// Organisations (or user accounts) to crawl, one scope each.
    pub organisations: Vec<String>,
    /// REST API base URL, such as `https://ghe.example.com/api/v3` for GitHub Enterprise Server.
    pub api_url: Url,
    /// Whether archived repositories are scanned.
    pub include_archived: bool,
    /// Whether forks are scanned.
    pub include_forks: bool,
    /// Repository name patterns to scan (`*` matches any run of characters, case-insensitive);
    /// empty means all.
    pub include_repos: Vec<String>,
    /// Repository name patterns to leave out, applied after `include_repos`.
    pub exclude_repos: Vec<String>,
    /// Largest file downloaded and scanned, in bytes.
    pub max_file_size: u64,
    /// Folder names whose files are not downloaded.
    pub skip_dirs: Vec<String>,
    /// Blobs downloaded at once per repository.
    pub blob_concurrency: usize,
    /// Maximum pages of one repository listing.
    pub max_pages: u32,
}

impl GitHubConfig {
    /// Creates the default settings for `organisations`.
    pub fn new(organisations: Vec<String>) -> Self {
        GitHubConfig {
            organisations,
            api_url: Url::parse(DEFAULT_API_URL).expect("the default API URL is valid"),
            include_archived: false,
            include_forks: false,
            include_repos: Vec::new(),
            exclude_repos: Vec::new(),
            max_file_size: DEFAULT_MAX_FILE_SIZE,
            skip_dirs: DEFAULT_SKIP_DIRS
                .iter()
                .map(|name| (*name).to_owned())
                .collect(),
            blob_concurrency: DEFAULT_BLOB_CONCURRENCY,
            max_pages: DEFAULT_MAX_PAGES,
        }
    }

    /// Tells whether a listed repository is scanned.
    fn selects(&self, repo: &Repo) -> bool {
        if repo.archived == Some(true) && !self.include_archived {
            return false;
        }
        if repo.fork == Some(true) && !self.include_forks {
            return false;
        }
        let included = self.include_repos.is_empty()
            || self
                .include_repos
                .iter()
                .any(|pattern| glob_match(pattern, &repo.name));
        included
            && !self
                .exclude_repos
                .iter()
                .any(|pattern| glob_match(pattern, &repo.name))
    }
}

/// Credentials of the connector.
#[derive(Clone)]
pub enum GitHubCredentials {
    /// A personal access token (classic, or fine-grained with read access to contents and
    /// metadata).
    Token(String),
    /// A GitHub App installed on the organisations.
    App {
        /// The App's id (or client id), the JWT issuer.
        app_id: String,
        /// The installation id on the organisation.
        installation_id: u64,
        /// The App's private key in PEM form.
        private_key_pem: String,
    },
}

impl fmt::Debug for GitHubCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GitHubCredentials::Token(_) => f.write_str("Token(<redacted>)"),
            GitHubCredentials::App {
                app_id,
                installation_id,
                ..
            } => f
                .debug_struct("App")
                .field("app_id", app_id)
                .field("installation_id", installation_id)
                .field("private_key_pem", &"<redacted>")
                .finish(),
        }
    }
}

/// A configured GitHub connector.
#[derive(Debug)]
pub struct GitHubSource {
    config: GitHubConfig,
    api: Api,
}

impl GitHubSource {
    /// Creates the source; `http` carries the process's rate limits and retry policy.
    ///
    /// # Errors
    ///
    /// Returns a permanent [`CrawlError`] when no organisation is given or the App's
    /// private key is not an RSA key in PEM form.
    pub fn new(
        config: GitHubConfig,
        credentials: GitHubCredentials,
        http: HttpClient,
    ) -> Result<Self, CrawlError> {
        if config.organisations.is_empty() {
            return Err(CrawlError::permanent(
                "the GitHub connector has no organisation: list at least one in `organisations`",
            ));
        }
        let auth = match credentials {
            GitHubCredentials::Token(token) => Auth::token(token),
            GitHubCredentials::App {
                app_id,
                installation_id,
                private_key_pem,
            } => Auth::app(app_id, installation_id, &private_key_pem).map_err(|message| {
                CrawlError::permanent(format!("invalid GitHub App secret: {message}"))
            })?,
        };
        let api = Api {
            http,
            base: config.api_url.clone(),
            auth: Arc::new(auth),
            max_pages: config.max_pages,
        };
        Ok(GitHubSource { config, api })
    }

    /// Returns the limiter key this source's calls share: `installation:<id>` or
    /// `pat:<SHA-256 prefix>`, never the token.
    pub fn token_identity(&self) -> String {
        self.api.auth.identity()
    }
}

impl Source for GitHubSource {
    fn provider(&self) -> &str {
        PROVIDER
    }

    fn scopes(&self) -> BoxFuture<'_, Result<Vec<Scope>, CrawlError>> {
        let scopes = self
            .config
            .organisations
            .iter()
            .map(|owner| Scope::new(PROVIDER, format!("github:{owner}")).with_param("owner", owner))
            .collect();
        Box::pin(async move { Ok(scopes) })
    }

    fn crawl<'a>(
        &'a self,
        scope: &'a Scope,
        sink: FindingSink,
    ) -> BoxFuture<'a, Result<CrawlReport, CrawlError>> {
        Box::pin(async move {
            let owner = scope
                .param("owner")
                .filter(|owner| self.config.organisations.iter().any(|known| known == owner))
                .ok_or_else(|| {
                    CrawlError::permanent(format!(
                        "scope `{}` is not an organisation of this GitHub connector",
                        scope.id
                    ))
                })?;
            let crawl = OrgCrawl {
                api: &self.api,
                config: &self.config,
                owner,
                scope: &scope.id,
                sink,
            };
            let report = crawl.run().await?;
            tracing::debug!(
                scope.id = %scope.id,
                github.files = report.num_items,
                github.gaps = report.gaps.len(),
                github.incomplete = report.incomplete.len(),
                "github organisation crawled"
            );
            Ok(report)
        })
    }
}

/// The `config` object of a GitHub connector spec.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigFields {
    organisations: Vec<String>,
    #[serde(default)]
    api_url: Option<String>,
    #[serde(default)]
    app_id: Option<serde_json::Value>,
    #[serde(default)]
    installation_id: Option<u64>,
    #[serde(default)]
    include_archived: bool,
    #[serde(default)]
    include_forks: bool,
    #[serde(default)]
    include_repos: Vec<String>,
    #[serde(default)]
    exclude_repos: Vec<String>,
    #[serde(default)]
    max_file_size: Option<u64>,
    #[serde(default)]
    blob_concurrency: Option<usize>,
    #[serde(default)]
    max_pages: Option<u32>,
}

/// The `secret` object of a GitHub connector spec.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SecretFields {
    #[serde(default)]
    token: Option<String>,
    #[serde(default)]
    private_key: Option<String>,
}

/// Builds [`GitHubSource`]s from connector specs of kind `github`.
#[derive(Debug, Clone)]
pub struct GitHubFactory {
    http: HttpClient,
}

impl GitHubFactory {
    /// Creates the factory; every source it builds shares `http` and its rate limits.
    pub fn new(http: HttpClient) -> Self {
        GitHubFactory { http }
    }
}

impl SourceFactory for GitHubFactory {
    fn build(&self, spec: &ConnectorSpec) -> Result<Arc<dyn Source>, CrawlError> {
        let invalid = |message: String| {
            CrawlError::permanent(format!(
                "connector `{}` has an invalid GitHub {message}",
                spec.name
            ))
        };
        let fields: ConfigFields = serde_json::from_value(spec.config.clone())
            .map_err(|error| invalid(format!("config: {error}; see docs/connectors/github.md")))?;
        let config = config_from(fields.organisations.clone(), &fields).map_err(invalid)?;
        let credentials = credentials_from(&fields, spec.secret.as_ref()).map_err(invalid)?;
        Ok(Arc::new(GitHubSource::new(
            config,
            credentials,
            self.http.clone(),
        )?))
    }
}

fn config_from(organisations: Vec<String>, fields: &ConfigFields) -> Result<GitHubConfig, String> {
    let mut config = GitHubConfig::new(organisations);
    if let Some(api_url) = &fields.api_url {
        config.api_url = Url::parse(api_url)
            .ok()
            .filter(|url| matches!(url.scheme(), "https" | "http"))
            .ok_or_else(|| format!("config: `api_url` \"{api_url}\" is not an http(s) URL"))?;
    }
    config.include_archived = fields.include_archived;
    config.include_forks = fields.include_forks;
    config.include_repos.clone_from(&fields.include_repos);
    config.exclude_repos.clone_from(&fields.exclude_repos);
    config.max_file_size = fields.max_file_size.unwrap_or(config.max_file_size);
    config.blob_concurrency = fields
        .blob_concurrency
        .unwrap_or(config.blob_concurrency)
        .max(1);
    config.max_pages = fields.max_pages.unwrap_or(config.max_pages);
    Ok(config)
}

/// Reads the credentials. Messages name fields only, never a secret value.
fn credentials_from(
    fields: &ConfigFields,
    secret: Option<&serde_json::Value>,
) -> Result<GitHubCredentials, String> {
    let expected = "secret: expected {\"token\": \"...\"}, or {\"private_key\": \"<PEM>\"} with \
                    `app_id` and `installation_id` in the config";
    let secret: SecretFields = secret
        .cloned()
        .and_then(|value| serde_json::from_value(value).ok())
        .ok_or_else(|| expected.to_owned())?;
    let app_id = fields.app_id.as_ref().map(|value| match value {
        serde_json::Value::String(text) => text.clone(),
        other => other.to_string(),
    });
    match (
        secret.token,
        secret.private_key,
        app_id,
        fields.installation_id,
    ) {
        (Some(token), None, None, None) if !token.trim().is_empty() => {
            Ok(GitHubCredentials::Token(token.trim().to_owned()))
        }
        (None, Some(private_key_pem), Some(app_id), Some(installation_id)) => {
            Ok(GitHubCredentials::App {
                app_id,
                installation_id,
                private_key_pem,
            })
        }
        _ => Err(expected.to_owned()),
    }
}

/// Matches a repository name against a pattern where `*` stands for any run of characters,
/// ignoring case as GitHub does for repository names.
fn glob_match(pattern: &str, name: &str) -> bool {
    let pattern = pattern.to_lowercase();
    let name = name.to_lowercase();
    let mut parts = pattern.split('*');
    let first = parts.next().unwrap_or("");
    let Some(mut rest) = name.strip_prefix(first) else {
        return false;
    };
    let parts: Vec<&str> = parts.collect();
    let Some((last, middle)) = parts.split_last() else {
        return rest.is_empty();
    };
    for part in middle {
        match rest.find(part) {
            Some(at) => rest = &rest[at + part.len()..],
            None => return false,
        }
    }
    rest.len() >= last.len() && rest.ends_with(last)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glob_matches_stars_and_case() {
        assert!(glob_match("valuer", "Valuer"));
        assert!(glob_match("*-service", "pricing-service"));
        assert!(glob_match("ml-*-api", "ml-avm-api"));
        assert!(glob_match("*", "anything"));
        assert!(!glob_match("ml-*", "web-ml"));
        assert!(!glob_match("a*b*c", "acb"));
        assert!(!glob_match("valuer", "valuers"));
    }

    #[test]
    fn archived_forks_and_patterns_filter_repositories() {
        let mut config = GitHubConfig::new(vec!["acme".to_owned()]);
        config.exclude_repos = vec!["*-sandbox".to_owned()];
        let repo = |name: &str, archived, fork| Repo {
            name: name.to_owned(),
            default_branch: None,
            archived: Some(archived),
            fork: Some(fork),
        };
        assert!(config.selects(&repo("valuer", false, false)));
        assert!(!config.selects(&repo("old", true, false)));
        assert!(!config.selects(&repo("upstream", false, true)));
        assert!(!config.selects(&repo("ml-sandbox", false, false)));
        config.include_archived = true;
        config.include_forks = true;
        assert!(config.selects(&repo("old", true, false)));
        assert!(config.selects(&repo("upstream", false, true)));
    }
}
