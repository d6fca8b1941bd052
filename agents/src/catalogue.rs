//! Detector catalogue: the data in `catalogue/detectors.yaml`, compiled into lookup tables and
//! one Aho-Corasick prefilter per file class.

mod compile;
mod spec;

use std::collections::HashMap;
use std::sync::OnceLock;

use regex::Regex;

pub use spec::{Category, Ecosystem, Language};

/// Text of the catalogue compiled into the crate.
const EMBEDDED_YAML: &str = include_str!("../catalogue/detectors.yaml");

/// Error for a catalogue that cannot be loaded.
#[derive(Debug, thiserror::Error)]
pub enum CatalogueError {
    /// The YAML does not parse or does not fit the catalogue schema.
    #[error("invalid detector catalogue{}: {message}; fix the entry to match the schema described at the top of detectors.yaml", location_suffix(*line))]
    Yaml {
        /// 1-based line of the error, when the parser reports one.
        line: Option<usize>,
        /// Parser message naming the field.
        message: String,
    },
    /// An entry contains a value the compiler rejects, such as an invalid regular expression.
    #[error("invalid detector catalogue entry `{entry}`: {message}")]
    Entry {
        /// Subject, provider or name of the entry.
        entry: String,
        /// Description of the problem and of the fix.
        message: String,
    },
    /// The catalogue declares a schema version this build does not read.
    #[error("unsupported detector catalogue version {0}: expected version 1")]
    Version(u32),
}

fn location_suffix(line: Option<usize>) -> String {
    line.map(|line| format!(" at line {line}"))
        .unwrap_or_default()
}

/// The compiled detector catalogue.
#[derive(Debug)]
pub struct Catalogue {
    pub(crate) detectors: Vec<Detector>,
    pub(crate) packages: HashMap<(Ecosystem, String), usize>,
    pub(crate) go_modules: Vec<(String, usize)>,
    pub(crate) imports: [HashMap<String, usize>; 6],
    pub(crate) mcp_files: Vec<String>,
    pub(crate) models: Vec<ModelFamily>,
    pub(crate) hf_orgs: HashMap<String, String>,
    pub(crate) secrets: Vec<SecretFormat>,
    pub(crate) iac_types: Vec<IacType>,
    pub(crate) ci_actions: HashMap<String, usize>,
    pub(crate) env_vars: HashMap<String, usize>,
    pub(crate) code_scanners: [TextScanner; 6],
    pub(crate) config_scanner: TextScanner,
    pub(crate) prose_scanner: TextScanner,
}

/// One catalogue entry after compilation.
#[derive(Debug)]
pub(crate) struct Detector {
    pub(crate) subject: String,
    pub(crate) category: Category,
    pub(crate) provider: Option<String>,
    pub(crate) gpai: bool,
}

/// A family of model identifiers compiled into one regular expression.
#[derive(Debug)]
pub(crate) struct ModelFamily {
    pub(crate) provider: String,
    pub(crate) category: Category,
    pub(crate) gpai: bool,
    /// Capture group 1 is the identifier.
    pub(crate) regex: Regex,
    /// The same patterns anchored at both ends, for testing a Hugging Face repository id.
    pub(crate) whole: Regex,
}

/// An API-key format.
#[derive(Debug)]
pub(crate) struct SecretFormat {
    pub(crate) name: String,
    pub(crate) provider: String,
    pub(crate) prefix: String,
    pub(crate) regex: Regex,
    /// The prefix followed by at least eight key characters: looser than `regex`, so that it
    /// also catches a key cut short in an evidence excerpt.
    pub(crate) redaction: Regex,
}

/// An IaC resource type rule.
#[derive(Debug)]
pub(crate) struct IacType {
    pub(crate) name: String,
    pub(crate) is_prefix: bool,
    /// Value the resource body's `kind` must have.
    pub(crate) kind: Option<String>,
    pub(crate) detector: usize,
}

/// Meaning of an Aho-Corasick hit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Hint {
    /// A catalogue import name occurs; run the language's import grammar.
    Import,
    /// A client-construction snippet of a detector (compared case-sensitively).
    Client(usize),
    /// An endpoint host of a detector (compared case-sensitively).
    Host(usize),
    /// A keyword of a model family; run its regex.
    Model(usize),
    /// A call that takes a Hugging Face repository id.
    HfRepo,
    /// The prefix of a secret format; run its regex.
    Secret(usize),
    /// A serving image repository name (compared case-sensitively).
    Image(usize),
    /// A CloudFormation or ARM resource type prefix.
    Iac,
}

/// One prefilter automaton and the meaning of each of its patterns.
#[derive(Debug)]
pub(crate) struct TextScanner {
    pub(crate) automaton: aho_corasick::AhoCorasick,
    pub(crate) patterns: Vec<String>,
    pub(crate) hints: Vec<Hint>,
}

impl Catalogue {
    /// Returns the catalogue compiled into the crate, parsing it on first use.
    ///
    /// # Panics
    /// Panics when the embedded YAML is invalid; a unit test parses it, so a release never does.
    pub fn embedded() -> &'static Catalogue {
        static EMBEDDED: OnceLock<Catalogue> = OnceLock::new();
        EMBEDDED.get_or_init(|| {
            Catalogue::from_yaml(EMBEDDED_YAML)
                .unwrap_or_else(|error| panic!("embedded detector catalogue: {error}"))
        })
    }

    /// Parses and compiles a catalogue from its YAML text.
    pub fn from_yaml(text: &str) -> Result<Catalogue, CatalogueError> {
        let spec: spec::CatalogueSpec =
            yaml_serde::from_str(text).map_err(|error| CatalogueError::Yaml {
                line: error.location().map(|location| location.line()),
                message: error.to_string(),
            })?;
        if spec.version != 1 {
            return Err(CatalogueError::Version(spec.version));
        }
        compile::compile(spec)
    }

    /// Returns the canonical subjects of every detector entry, in catalogue order.
    pub fn subjects(&self) -> impl Iterator<Item = &str> {
        self.detectors
            .iter()
            .map(|detector| detector.subject.as_str())
    }

    /// Returns every literal keyword the text prefilters search for, sorted and without
    /// repeats. A file that contains none of them gets no text finding, so these are the
    /// strings another search tool needs to read the same files for the same evidence.
    pub fn search_patterns(&self) -> Vec<&str> {
        let scanners = self
            .code_scanners
            .iter()
            .chain([&self.config_scanner, &self.prose_scanner]);
        let mut patterns: Vec<&str> = scanners
            .flat_map(|scanner| scanner.patterns.iter().map(String::as_str))
            .collect();
        patterns.sort_unstable();
        patterns.dedup();
        patterns
    }

    /// Returns the detector for a package of an ecosystem, comparing names exactly after the
    /// ecosystem's own normalisation.
    pub(crate) fn package(&self, ecosystem: Ecosystem, name: &str) -> Option<usize> {
        if ecosystem == Ecosystem::Go {
            return self
                .go_modules
                .iter()
                .filter(|(module, _)| go_path_within(name, module))
                .max_by_key(|(module, _)| module.len())
                .map(|(_, detector)| *detector);
        }
        let key = normalise_package(ecosystem, name);
        let found = self.packages.get(&(ecosystem, key.clone())).copied();
        if found.is_none() && ecosystem == Ecosystem::Conda {
            return self.packages.get(&(Ecosystem::Pypi, key)).copied();
        }
        found
    }

    /// Returns the detector for an imported module, trying the module and then each parent.
    pub(crate) fn import(&self, language: Language, module: &str) -> Option<usize> {
        let table = &self.imports[language.index()];
        let separator = match language {
            Language::Go | Language::Javascript => '/',
            Language::Rust => ':',
            _ => '.',
        };
        let mut candidate = module;
        loop {
            if let Some(detector) = table.get(candidate) {
                return Some(*detector);
            }
            let (parent, _) = candidate.rsplit_once(separator)?;
            candidate = parent.trim_end_matches(separator);
        }
    }
}

/// Tells whether a Go import or module path is `module` or lies below it.
fn go_path_within(path: &str, module: &str) -> bool {
    path == module || (path.starts_with(module) && path.as_bytes().get(module.len()) == Some(&b'/'))
}

/// Normalises a package name the way its ecosystem compares names.
pub(crate) fn normalise_package(ecosystem: Ecosystem, name: &str) -> String {
    match ecosystem {
        Ecosystem::Pypi | Ecosystem::Conda => pep503_normalise(name),
        Ecosystem::Nuget => name.to_ascii_lowercase(),
        Ecosystem::Npm | Ecosystem::Cargo | Ecosystem::Go | Ecosystem::Maven => name.to_owned(),
    }
}

/// Lower-cases a Python distribution name and collapses runs of `-`, `_` and `.` into `-`.
fn pep503_normalise(name: &str) -> String {
    let mut normalised = String::with_capacity(name.len());
    let mut in_separator_run = false;
    for character in name.chars() {
        if matches!(character, '-' | '_' | '.') {
            if !in_separator_run {
                normalised.push('-');
            }
            in_separator_run = true;
        } else {
            normalised.push(character.to_ascii_lowercase());
            in_separator_run = false;
        }
    }
    normalised
}

#[cfg(test)]
mod tests;
