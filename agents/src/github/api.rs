//! The GitHub REST calls the connector makes, with the documented response shapes.
//!
//! Every call goes through the shared [`HttpClient`] under the limiter of the token's
//! identity, so retries, waits and GitHub's primary and secondary limits are handled there.

use std::sync::Arc;

use base64::Engine;
use serde::Deserialize;
use url::Url;

use super::auth::Auth;
use crate::net::{CallError, HttpClient, JsonPage, PageGuard, PageStep};

/// GitHub REST API version sent with every request.
const API_VERSION: &str = "2022-11-28";

/// Repositories per page of a listing (GitHub's maximum).
const PER_PAGE: &str = "100";

/// Adds the headers GitHub documents for REST calls and the bearer token.
pub(crate) fn github_request(
    builder: reqwest::RequestBuilder,
    bearer: &str,
) -> reqwest::RequestBuilder {
    builder
        .bearer_auth(bearer)
        .header(reqwest::header::ACCEPT, "application/vnd.github+json")
        .header("X-GitHub-Api-Version", API_VERSION)
}

/// A repository as listed by `GET /orgs/{org}/repos`; only `name` is required.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Repo {
    pub(crate) name: String,
    #[serde(default)]
    pub(crate) default_branch: Option<String>,
    #[serde(default)]
    pub(crate) archived: Option<bool>,
    #[serde(default)]
    pub(crate) fork: Option<bool>,
}

/// The response of `GET /repos/{owner}/{repo}/git/trees/{tree}?recursive=1`.
#[derive(Debug, Deserialize)]
pub(crate) struct Tree {
    pub(crate) tree: Vec<TreeEntry>,
    #[serde(default)]
    pub(crate) truncated: bool,
}

/// One entry of a tree: a blob (file), a tree (folder) or a commit (submodule).
#[derive(Debug, Deserialize)]
pub(crate) struct TreeEntry {
    pub(crate) path: String,
    #[serde(default)]
    pub(crate) mode: String,
    #[serde(rename = "type")]
    pub(crate) kind: String,
    pub(crate) sha: String,
    /// Size in bytes; GitHub gives it for blobs only.
    #[serde(default)]
    pub(crate) size: Option<u64>,
}

/// The response of `GET /repos/{owner}/{repo}/git/blobs/{sha}`.
#[derive(Deserialize)]
struct Blob {
    content: String,
    #[serde(default)]
    encoding: Option<String>,
}

/// A repository listing and, when it was cut short, why.
#[derive(Debug)]
pub(crate) struct Listing {
    pub(crate) repos: Vec<Repo>,
    pub(crate) stopped: Option<String>,
}

/// The REST calls of one connector.
#[derive(Debug, Clone)]
pub(crate) struct Api {
    pub(crate) http: HttpClient,
    pub(crate) base: Url,
    pub(crate) auth: Arc<Auth>,
    pub(crate) max_pages: u32,
}

impl Api {
    /// Lists the repositories of an organisation, falling back to the user's repositories
    /// when no organisation has that name.
    pub(crate) async fn list_repos(&self, owner: &str) -> Result<Listing, CallError> {
        let org_url = self.url(&["orgs", owner, "repos"], &[("type", "all")])?;
        match self.list_from(owner, org_url).await {
            Err(CallError::NotFound { .. }) => {
                let user_url = self.url(&["users", owner, "repos"], &[("type", "owner")])?;
                self.list_from(owner, user_url).await
            }
            other => other,
        }
    }

    async fn list_from(&self, owner: &str, first: Url) -> Result<Listing, CallError> {
        let operation = format!("list the repositories of {owner}");
        let mut guard = PageGuard::new(&operation, self.max_pages);
        let mut listing = Listing {
            repos: Vec::new(),
            stopped: None,
        };
        let mut url = first;
        loop {
            let page = self.get_json(&operation, &url).await?;
            listing.repos.extend(parse_repos(&operation, page.body)?);
            let next = next_link(&page.headers);
            let next = match next {
                Some(link) if !self.same_origin(&link) => {
                    listing.stopped = Some(format!(
                        "listing `{operation}` stopped after {} pages because the next-page link \
                         points to another host; the token is sent only to the API host",
                        guard.pages() + 1
                    ));
                    return Ok(listing);
                }
                other => other,
            };
            match guard.next(next.as_ref().map(Url::as_str)) {
                PageStep::Continue(link) => {
                    url = Url::parse(&link).map_err(|error| malformed(&operation, &error))?;
                }
                PageStep::Done => return Ok(listing),
                PageStep::Stop(reason) => {
                    listing.stopped = Some(reason);
                    return Ok(listing);
                }
            }
        }
    }

    /// Reads the whole tree of `reference` (a branch name or a commit SHA).
    pub(crate) async fn tree(
        &self,
        owner: &str,
        repo: &str,
        reference: &str,
    ) -> Result<Tree, CallError> {
        let operation = format!("read the git tree of {owner}/{repo}");
        let url = self.url(
            &["repos", owner, repo, "git", "trees", reference],
            &[("recursive", "1")],
        )?;
        let page = self.get_json(&operation, &url).await?;
        serde_json::from_value(page.body).map_err(|error| malformed(&operation, &error))
    }

    /// Reads one blob's bytes.
    pub(crate) async fn blob(
        &self,
        owner: &str,
        repo: &str,
        sha: &str,
    ) -> Result<Vec<u8>, CallError> {
        let operation = format!("read blob {sha} of {owner}/{repo}");
        let url = self.url(&["repos", owner, repo, "git", "blobs", sha], &[])?;
        let page = self.get_json(&operation, &url).await?;
        let blob: Blob =
            serde_json::from_value(page.body).map_err(|error| malformed(&operation, &error))?;
        match blob.encoding.as_deref() {
            Some("base64") | None => {
                let compact: String = blob.content.split_ascii_whitespace().collect();
                base64::engine::general_purpose::STANDARD
                    .decode(compact)
                    .map_err(|error| malformed(&operation, &error))
            }
            Some("utf-8") => Ok(blob.content.into_bytes()),
            Some(other) => Err(CallError::Malformed {
                operation,
                message: format!("unknown blob encoding `{other}`"),
            }),
        }
    }

    async fn get_json(&self, operation: &str, url: &Url) -> Result<JsonPage, CallError> {
        let bearer = self.auth.bearer(&self.http, &self.base).await?;
        let identity = self.auth.identity();
        let client = self.http.client();
        let request = || github_request(client.get(url.clone()), &bearer);
        self.http
            .get_json("github", &identity, operation, &request)
            .await
    }

    /// Builds `<base>/<segments...>?<query>`, encoding each segment.
    fn url(&self, segments: &[&str], query: &[(&str, &str)]) -> Result<Url, CallError> {
        let mut url = self.base.clone();
        url.path_segments_mut()
            .map_err(|()| CallError::Malformed {
                operation: "build a request URL".to_owned(),
                message: format!("the API base URL `{}` cannot take a path", self.base),
            })?
            .pop_if_empty()
            .extend(segments);
        {
            let mut pairs = url.query_pairs_mut();
            for (name, value) in query {
                pairs.append_pair(name, value);
            }
            if segments.last() == Some(&"repos") {
                pairs.append_pair("per_page", PER_PAGE);
            }
        }
        if url.query() == Some("") {
            url.set_query(None);
        }
        Ok(url)
    }

    fn same_origin(&self, link: &Url) -> bool {
        link.origin() == self.base.origin()
    }
}

fn parse_repos(operation: &str, body: serde_json::Value) -> Result<Vec<Repo>, CallError> {
    let serde_json::Value::Array(items) = body else {
        return Err(CallError::Malformed {
            operation: operation.to_owned(),
            message: "expected a JSON array of repositories".to_owned(),
        });
    };
    items
        .into_iter()
        .enumerate()
        .map(|(index, item)| {
            serde_json::from_value(item).map_err(|error| CallError::Malformed {
                operation: operation.to_owned(),
                message: format!("repository {index} of the page: {error}"),
            })
        })
        .collect()
}

fn malformed(operation: &str, error: &dyn std::fmt::Display) -> CallError {
    CallError::Malformed {
        operation: operation.to_owned(),
        message: error.to_string(),
    }
}

/// Returns the `rel="next"` target of a `Link` header, as GitHub sends for paged listings:
/// `<https://api.github.com/...&page=2>; rel="next", <...>; rel="last"`.
pub(crate) fn next_link(headers: &reqwest::header::HeaderMap) -> Option<Url> {
    headers
        .get_all(reqwest::header::LINK)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .find_map(|part| {
            let (target, params) = part.split_once(';')?;
            let target = target.trim().strip_prefix('<')?.strip_suffix('>')?;
            let is_next = params.split(';').any(|param| {
                let param = param.trim().replace(' ', "");
                param == "rel=\"next\"" || param == "rel=next"
            });
            is_next.then(|| Url::parse(target).ok()).flatten()
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::{HeaderMap, HeaderValue, LINK};

    #[test]
    fn next_link_is_found_among_others() {
        let mut headers = HeaderMap::new();
        headers.insert(
            LINK,
            HeaderValue::from_static(
                "<https://api.github.com/organizations/1/repos?page=1>; rel=\"prev\", \
                 <https://api.github.com/organizations/1/repos?page=3>; rel=\"next\", \
                 <https://api.github.com/organizations/1/repos?page=9>; rel=\"last\"",
            ),
        );
        let next = next_link(&headers).expect("next link");
        assert_eq!(
            next.as_str(),
            "https://api.github.com/organizations/1/repos?page=3"
        );
    }

    #[test]
    fn last_page_has_no_next_link() {
        let mut headers = HeaderMap::new();
        headers.insert(
            LINK,
            HeaderValue::from_static("<https://api.github.com/x?page=1>; rel=\"first\""),
        );
        assert_eq!(next_link(&headers), None);
        assert_eq!(next_link(&HeaderMap::new()), None);
    }
}
