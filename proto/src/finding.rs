use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::v1;

/// What a detector found. The string form is stored in `findings.kind` and printed
/// in `--format json`, so the names are part of the public interface.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FindingKind {
    /// A package named in a dependency manifest.
    Dependency,
    /// An import or `use` of an AI library in source code.
    Import,
    /// Construction of a hosted-model API client in source code.
    Client,
    /// A hosted-model endpoint host named in code or config.
    ApiEndpoint,
    /// A model identifier such as `gpt-4o` or a Hugging Face repo id.
    ModelId,
    /// A serialised model file, recognised by extension and magic bytes.
    Artefact,
    /// A Hugging Face model card (README front matter).
    ModelCard,
    /// A model-serving container (vLLM, TGI, Triton, Ollama, TorchServe).
    ServingContainer,
    /// Infrastructure as code that creates an AI service.
    IacResource,
    /// A Model Context Protocol server configuration.
    McpServer,
    /// A CI workflow step that calls an AI action.
    CiAction,
    /// An API key for an AI provider; the value is always redacted.
    Secret,
    /// A `secruna.yaml` declaration at a project root, or the declared facts of an
    /// inventory row.
    Declaration,
    /// A cloud resource that hosts, serves, trains or stores AI: a SageMaker endpoint, a
    /// Bedrock custom model, an Azure OpenAI deployment, a Vertex AI model.
    CloudResource,
    /// A bought AI tool listed in an imported inventory.
    InventoryEntry,
}

impl FindingKind {
    /// Every kind, in declaration order.
    pub const ALL: [FindingKind; 15] = [
        FindingKind::Dependency,
        FindingKind::Import,
        FindingKind::Client,
        FindingKind::ApiEndpoint,
        FindingKind::ModelId,
        FindingKind::Artefact,
        FindingKind::ModelCard,
        FindingKind::ServingContainer,
        FindingKind::IacResource,
        FindingKind::McpServer,
        FindingKind::CiAction,
        FindingKind::Secret,
        FindingKind::Declaration,
        FindingKind::CloudResource,
        FindingKind::InventoryEntry,
    ];

    /// Returns the snake_case name used in storage and output.
    pub fn as_str(self) -> &'static str {
        match self {
            FindingKind::Dependency => "dependency",
            FindingKind::Import => "import",
            FindingKind::Client => "client",
            FindingKind::ApiEndpoint => "api_endpoint",
            FindingKind::ModelId => "model_id",
            FindingKind::Artefact => "artefact",
            FindingKind::ModelCard => "model_card",
            FindingKind::ServingContainer => "serving_container",
            FindingKind::IacResource => "iac_resource",
            FindingKind::McpServer => "mcp_server",
            FindingKind::CiAction => "ci_action",
            FindingKind::Secret => "secret",
            FindingKind::Declaration => "declaration",
            FindingKind::CloudResource => "cloud_resource",
            FindingKind::InventoryEntry => "inventory_entry",
        }
    }
}

impl fmt::Display for FindingKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Error for a finding kind name that is not in [`FindingKind::ALL`].
#[derive(Debug, thiserror::Error)]
#[error(
    "unknown finding kind `{0}`: expected one of dependency, import, client, api_endpoint, model_id, artefact, model_card, serving_container, iac_resource, mcp_server, ci_action, secret, declaration, cloud_resource, inventory_entry"
)]
pub struct ParseKindError(pub String);

impl FromStr for FindingKind {
    type Err = ParseKindError;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        FindingKind::ALL
            .into_iter()
            .find(|kind| kind.as_str() == name)
            .ok_or_else(|| ParseKindError(name.to_owned()))
    }
}

/// One piece of evidence that AI is in use, as produced by a crawler.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    /// Connector family, e.g. `code`.
    pub source: String,
    /// Scope inside the connector (for code: the scanned root).
    pub scope: String,
    /// Stable id inside `(tenant, source)`; see [`Finding::stable_id`].
    pub external_id: String,
    /// Detector kind.
    pub kind: FindingKind,
    /// Canonical name of the library, provider, model or format found.
    pub subject: String,
    /// Path relative to the scope root.
    pub path: String,
    /// 1-based line, when the finding has one.
    pub line: Option<u32>,
    /// Detector confidence in `[0, 1]`.
    pub confidence: f32,
    /// Project root relative to the scope root (`.` for the scope root itself).
    pub project_root: String,
    /// Detector-specific attributes.
    pub attributes: BTreeMap<String, String>,
    /// Short excerpt; secrets are redacted before they reach this field.
    pub evidence: Option<String>,
}

impl Finding {
    /// Derives a stable external id from the scope, path, kind and subject.
    ///
    /// The line is left out on purpose, so that an edit above a finding does not turn it
    /// into a new finding and resolve the old one.
    pub fn stable_id(scope: &str, path: &str, kind: FindingKind, subject: &str) -> String {
        let mut hasher = Sha256::new();
        for part in [scope, path, kind.as_str(), subject] {
            hasher.update(part.as_bytes());
            hasher.update([0u8]);
        }
        hex::encode(hasher.finalize())
    }
}

impl From<Finding> for v1::Finding {
    fn from(finding: Finding) -> Self {
        v1::Finding {
            source: finding.source,
            scope: finding.scope,
            external_id: finding.external_id,
            kind: finding.kind.as_str().to_owned(),
            subject: finding.subject,
            path: finding.path,
            line: finding.line.unwrap_or(0),
            confidence: finding.confidence,
            project_root: finding.project_root,
            attributes: finding.attributes.into_iter().collect(),
            evidence: finding.evidence.unwrap_or_default(),
        }
    }
}

/// Error for a wire finding that cannot become a domain [`Finding`]; names the field.
#[derive(Debug, thiserror::Error)]
pub enum WireFindingError {
    /// A required string field is empty.
    #[error("finding field `{0}` is empty: set it to a non-empty value")]
    Empty(&'static str),
    /// The kind is not a known finding kind.
    #[error("finding field `kind`: {0}")]
    Kind(#[from] ParseKindError),
    /// The confidence is outside `[0, 1]` or not a number.
    #[error("finding field `confidence` is {0}: expected a number between 0 and 1")]
    Confidence(f32),
}

impl TryFrom<v1::Finding> for Finding {
    type Error = WireFindingError;

    fn try_from(wire: v1::Finding) -> Result<Self, Self::Error> {
        for (name, value) in [
            ("source", &wire.source),
            ("scope", &wire.scope),
            ("external_id", &wire.external_id),
            ("subject", &wire.subject),
        ] {
            if value.is_empty() {
                return Err(WireFindingError::Empty(name));
            }
        }
        if !(0.0..=1.0).contains(&wire.confidence) {
            return Err(WireFindingError::Confidence(wire.confidence));
        }
        let kind = wire.kind.parse()?;
        Ok(Finding {
            source: wire.source,
            scope: wire.scope,
            external_id: wire.external_id,
            kind,
            subject: wire.subject,
            path: wire.path,
            line: (wire.line > 0).then_some(wire.line),
            confidence: wire.confidence,
            project_root: if wire.project_root.is_empty() {
                ".".to_owned()
            } else {
                wire.project_root
            },
            attributes: wire.attributes.into_iter().collect(),
            evidence: (!wire.evidence.is_empty()).then_some(wire.evidence),
        })
    }
}
