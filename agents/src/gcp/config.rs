//! Settings of a GCP connector, read from `ConnectorSpec.config` and `ConnectorSpec.secret`.

use serde::Deserialize;
use url::Url;

use super::KIND;
use super::token::ServiceAccountKey;
use crate::cloud::{self, check_max_pages, parse_config};
use crate::source::{ConnectorSpec, CrawlError};

/// Cloud Resource Manager endpoint that lists projects.
pub const DEFAULT_RESOURCE_MANAGER_URL: &str = "https://cloudresourcemanager.googleapis.com";

/// Vertex AI Workbench (Notebooks API) endpoint.
pub const DEFAULT_NOTEBOOKS_URL: &str = "https://notebooks.googleapis.com";

/// Token URI used when neither the config nor the key file names one.
pub const DEFAULT_TOKEN_URI: &str = "https://oauth2.googleapis.com/token";

/// Pages one listing may read before it stops and is reported incomplete.
pub const DEFAULT_MAX_PAGES: u32 = 1000;

/// Vertex AI regions crawled when the config lists none, from the Vertex AI locations page
/// (cloud.google.com/vertex-ai/docs/general/locations) as of 2026.
///
/// NOTE: Google adds regions over time; a region missing here is not crawled unless the
/// config lists it in `locations`.
pub const DEFAULT_LOCATIONS: &[&str] = &[
    "us-central1",
    "us-east1",
    "us-east4",
    "us-east5",
    "us-south1",
    "us-west1",
    "us-west2",
    "us-west3",
    "us-west4",
    "northamerica-northeast1",
    "northamerica-northeast2",
    "southamerica-east1",
    "southamerica-west1",
    "europe-central2",
    "europe-north1",
    "europe-southwest1",
    "europe-west1",
    "europe-west2",
    "europe-west3",
    "europe-west4",
    "europe-west6",
    "europe-west8",
    "europe-west9",
    "europe-west12",
    "asia-east1",
    "asia-east2",
    "asia-northeast1",
    "asia-northeast2",
    "asia-northeast3",
    "asia-south1",
    "asia-southeast1",
    "asia-southeast2",
    "australia-southeast1",
    "australia-southeast2",
    "me-central1",
    "me-central2",
    "me-west1",
    "africa-south1",
];

/// Non-secret settings, as written in `ConnectorSpec.config`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigFields {
    #[serde(default)]
    projects: Vec<String>,
    locations: Option<Vec<String>>,
    workbench_locations: Option<Vec<String>>,
    token_uri: Option<String>,
    resource_manager_url: Option<String>,
    vertex_url: Option<String>,
    notebooks_url: Option<String>,
    max_pages: Option<u32>,
}

/// Base URL choice of Vertex AI calls.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum VertexBase {
    /// The regional endpoint `https://{location}-aiplatform.googleapis.com`.
    Regional,
    /// One base URL for every location, as an emulator or a private endpoint serves.
    Fixed(Url),
}

impl VertexBase {
    /// Base URL of Vertex AI calls for `location`, without a trailing slash.
    pub(crate) fn for_location(&self, location: &str) -> String {
        match self {
            VertexBase::Regional => format!("https://{location}-aiplatform.googleapis.com"),
            VertexBase::Fixed(url) => url.as_str().trim_end_matches('/').to_owned(),
        }
    }
}

/// Checked settings of one GCP connector.
#[derive(Debug, Clone)]
pub(crate) struct GcpSettings {
    /// Connector name, used in error messages.
    pub(crate) name: String,
    /// Service-account key; `Debug` redacts the private key.
    pub(crate) key: ServiceAccountKey,
    /// Projects to crawl; empty means every active project the account can see.
    pub(crate) projects: Vec<String>,
    /// Vertex AI regions to crawl in every project.
    pub(crate) locations: Vec<String>,
    /// Workbench locations (zones, or `-` for all) to crawl in every project.
    pub(crate) workbench_locations: Vec<String>,
    /// Token endpoint that exchanges the signed assertion for an access token.
    pub(crate) token_uri: Url,
    /// Cloud Resource Manager base URL.
    pub(crate) resource_manager_url: Url,
    /// Vertex AI base URL choice.
    pub(crate) vertex: VertexBase,
    /// Notebooks API base URL.
    pub(crate) notebooks_url: Url,
    /// Page limit of one listing.
    pub(crate) max_pages: u32,
}

impl GcpSettings {
    /// Parses and checks the spec; every error names the field at fault and the fix.
    pub(crate) fn from_spec(spec: &ConnectorSpec) -> Result<GcpSettings, CrawlError> {
        let name = spec.name.clone();
        let config: ConfigFields =
            parse_config(&spec.config).map_err(|err| invalid(&name, &format!("config: {err}")))?;
        let secret = spec.secret.as_ref().ok_or_else(|| {
            invalid(
                &name,
                "secret is missing: store the service-account JSON key as the connector secret",
            )
        })?;
        let key = ServiceAccountKey::from_secret(secret).map_err(|err| invalid(&name, &err))?;

        for project in &config.projects {
            check_name(&name, "projects", project)?;
        }
        let locations = config
            .locations
            .unwrap_or_else(|| DEFAULT_LOCATIONS.iter().map(|l| (*l).to_owned()).collect());
        let workbench_locations = config
            .workbench_locations
            .unwrap_or_else(|| vec!["-".to_owned()]);
        for location in locations.iter().chain(&workbench_locations) {
            check_name(&name, "locations", location)?;
        }
        let token_uri = match (&config.token_uri, &key.token_uri) {
            (Some(uri), _) => parse_url(&name, "token_uri", uri)?,
            (None, Some(uri)) => parse_url(&name, "token_uri in the key file", uri)?,
            (None, None) => parse_url(&name, "token_uri", DEFAULT_TOKEN_URI)?,
        };
        let resource_manager_url = parse_url(
            &name,
            "resource_manager_url",
            config
                .resource_manager_url
                .as_deref()
                .unwrap_or(DEFAULT_RESOURCE_MANAGER_URL),
        )?;
        let vertex = match &config.vertex_url {
            Some(url) => VertexBase::Fixed(parse_url(&name, "vertex_url", url)?),
            None => VertexBase::Regional,
        };
        let notebooks_url = parse_url(
            &name,
            "notebooks_url",
            config
                .notebooks_url
                .as_deref()
                .unwrap_or(DEFAULT_NOTEBOOKS_URL),
        )?;
        let max_pages = check_max_pages(KIND, &name, config.max_pages, DEFAULT_MAX_PAGES)?;

        Ok(GcpSettings {
            name,
            key,
            projects: config.projects,
            locations,
            workbench_locations,
            token_uri,
            resource_manager_url,
            vertex,
            notebooks_url,
            max_pages,
        })
    }
}

fn invalid(name: &str, detail: &str) -> CrawlError {
    cloud::invalid(KIND, name, detail)
}

/// Accepts project ids and location names, which use lower-case letters, digits and `-`
/// (and `:` or `.` in legacy domain-scoped project ids), so they cannot change a URL path.
fn check_name(name: &str, field: &str, value: &str) -> Result<(), CrawlError> {
    let allowed =
        |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | ':' | '.');
    if value.is_empty() || !value.chars().all(allowed) {
        return Err(invalid(
            name,
            &format!("config: `{value}` in `{field}`: use lower-case letters, digits and `-` only"),
        ));
    }
    Ok(())
}

/// Parses an http or https URL.
fn parse_url(name: &str, field: &str, value: &str) -> Result<Url, CrawlError> {
    let url = Url::parse(value).map_err(|err| {
        invalid(
            name,
            &format!("config: `{field}` `{value}`: {err}: use an absolute https URL"),
        )
    })?;
    if !matches!(url.scheme(), "http" | "https") || url.query().is_some() {
        return Err(invalid(
            name,
            &format!("config: `{field}` `{value}`: use an http or https URL without a query"),
        ));
    }
    Ok(url)
}

/// Joins a base URL and an absolute path, with exactly one `/` between them.
pub(crate) fn join(base: &Url, path: &str) -> String {
    format!("{}{path}", base.as_str().trim_end_matches('/'))
}

#[cfg(test)]
#[path = "config/tests.rs"]
mod tests;
