//! Serde form of `detectors.yaml`, kept apart from the compiled matchers.

use std::collections::BTreeMap;

use serde::Deserialize;

/// Top level of the catalogue file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CatalogueSpec {
    pub(crate) version: u32,
    #[serde(default)]
    pub(crate) mcp_files: Vec<String>,
    pub(crate) detectors: Vec<DetectorSpec>,
    #[serde(default)]
    pub(crate) models: Vec<ModelSpec>,
    #[serde(default)]
    pub(crate) hf_orgs: BTreeMap<String, String>,
    #[serde(default)]
    pub(crate) secrets: Vec<SecretSpec>,
}

/// One library, hosted API, runtime or cloud service.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct DetectorSpec {
    pub(crate) subject: String,
    pub(crate) category: Category,
    #[serde(default)]
    pub(crate) provider: Option<String>,
    #[serde(default)]
    pub(crate) gpai: bool,
    #[serde(default)]
    pub(crate) packages: BTreeMap<Ecosystem, Vec<String>>,
    #[serde(default)]
    pub(crate) imports: BTreeMap<Language, Vec<String>>,
    #[serde(default)]
    pub(crate) clients: BTreeMap<Language, Vec<String>>,
    #[serde(default)]
    pub(crate) hosts: Vec<String>,
    #[serde(default)]
    pub(crate) images: Vec<String>,
    #[serde(default)]
    pub(crate) iac_types: Vec<String>,
    #[serde(default)]
    pub(crate) ci_actions: Vec<String>,
    #[serde(default)]
    pub(crate) env_vars: Vec<String>,
}

/// A family of model identifiers.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ModelSpec {
    pub(crate) provider: String,
    pub(crate) category: Category,
    #[serde(default)]
    pub(crate) gpai: bool,
    /// Matches only inside quotes, for identifiers too short to stand alone (`o1`).
    #[serde(default)]
    pub(crate) quoted: bool,
    /// Literals of which every match contains one (compared ignoring ASCII case).
    pub(crate) keywords: Vec<String>,
    pub(crate) patterns: Vec<String>,
}

/// An API-key format with a distinctive prefix.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SecretSpec {
    pub(crate) name: String,
    pub(crate) provider: String,
    pub(crate) prefix: String,
    pub(crate) pattern: String,
}

/// The `category` attribute of a finding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    /// Hosted model API: SDK, client, endpoint host or API key.
    HostedApi,
    /// ML or LLM framework.
    MlLibrary,
    /// Code or infrastructure that trains models.
    Training,
    /// Model-serving runtime or container.
    Serving,
    /// Model file.
    Artefact,
    /// Hugging Face model card.
    ModelCard,
    /// Infrastructure as code that creates an AI service.
    Infrastructure,
    /// MCP server configuration or CI AI action.
    AgentTooling,
    /// `secruna.yaml` declaration.
    Declaration,
}

impl Category {
    /// Returns the attribute value.
    pub fn as_str(self) -> &'static str {
        match self {
            Category::HostedApi => "hosted_api",
            Category::MlLibrary => "ml_library",
            Category::Training => "training",
            Category::Serving => "serving",
            Category::Artefact => "artefact",
            Category::ModelCard => "model_card",
            Category::Infrastructure => "infrastructure",
            Category::AgentTooling => "agent_tooling",
            Category::Declaration => "declaration",
        }
    }
}

/// Package ecosystem of a dependency manifest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Ecosystem {
    /// Python Package Index.
    Pypi,
    /// npm registry.
    Npm,
    /// crates.io.
    Cargo,
    /// Go modules.
    Go,
    /// Maven Central (group:artifact).
    Maven,
    /// NuGet.
    Nuget,
    /// Conda channels.
    Conda,
}

impl Ecosystem {
    /// Returns the attribute value.
    pub fn as_str(self) -> &'static str {
        match self {
            Ecosystem::Pypi => "pypi",
            Ecosystem::Npm => "npm",
            Ecosystem::Cargo => "cargo",
            Ecosystem::Go => "go",
            Ecosystem::Maven => "maven",
            Ecosystem::Nuget => "nuget",
            Ecosystem::Conda => "conda",
        }
    }
}

/// Source language family; `javascript` covers TypeScript and `java` covers Kotlin.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Language {
    /// Python, also notebook code cells.
    Python,
    /// JavaScript and TypeScript.
    Javascript,
    /// Go.
    Go,
    /// Java and Kotlin.
    Java,
    /// Rust.
    Rust,
    /// C#.
    Csharp,
}

impl Language {
    /// Every language, in declaration order.
    pub const ALL: [Language; 6] = [
        Language::Python,
        Language::Javascript,
        Language::Go,
        Language::Java,
        Language::Rust,
        Language::Csharp,
    ];

    /// Returns the attribute value.
    pub fn as_str(self) -> &'static str {
        match self {
            Language::Python => "python",
            Language::Javascript => "javascript",
            Language::Go => "go",
            Language::Java => "java",
            Language::Rust => "rust",
            Language::Csharp => "csharp",
        }
    }

    /// Index into per-language tables.
    pub(crate) fn index(self) -> usize {
        self as usize
    }
}
