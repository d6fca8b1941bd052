//! Turns the parsed catalogue into lookup tables, regular expressions and prefilters.

use std::collections::HashMap;

use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};
use regex::Regex;

use super::spec::{CatalogueSpec, DetectorSpec, Ecosystem, Language, ModelSpec};
use super::{
    Catalogue, CatalogueError, Detector, Hint, IacType, ModelFamily, SecretFormat, TextScanner,
    normalise_package,
};

/// Date and version stamps that may follow a model identifier.
pub(crate) const MODEL_STAMP: &str =
    r"(?:-\d{4}-\d{2}-\d{2}|-\d{8}|@\d{8}|-latest|-\d{3}|-v\d+(?::\d+)?|:latest|:\d+(?:\.\d+)?b)*";

/// Calls whose string argument is a Hugging Face repository id.
const HF_REPO_CALLS: [&str; 5] = [
    "from_pretrained",
    "pipeline(",
    "SentenceTransformer(",
    "hf_hub_download",
    "snapshot_download",
];

/// Configuration keys whose value is a model, often a Hugging Face repository id.
const HF_REPO_CONFIG_KEYS: [&str; 6] = [
    "model_name_or_path",
    "base_model",
    "model_id",
    "model_name",
    "repo_id",
    "pretrained_model",
];

/// Literals that start a CloudFormation or ARM resource type.
const IAC_TYPE_PREFIXES: [&str; 2] = ["AWS::", "Microsoft."];

pub(super) fn compile(spec: CatalogueSpec) -> Result<Catalogue, CatalogueError> {
    let mut tables = Tables::default();
    for (index, detector) in spec.detectors.iter().enumerate() {
        tables.add_detector(index, detector)?;
    }
    let models = spec
        .models
        .iter()
        .map(compile_model)
        .collect::<Result<Vec<_>, _>>()?;
    let secrets = compile_secrets(&spec)?;

    let [python, javascript, go, java, rust, csharp] = Language::ALL
        .map(|language| build_scanner(&spec, Some(language), &secrets, ScannerClass::Code));
    let config_scanner = build_scanner(&spec, None, &secrets, ScannerClass::Config);
    let prose_scanner = build_scanner(&spec, None, &secrets, ScannerClass::Prose);
    let mut iac_types = tables.iac_types;
    iac_types.sort_by_key(|rule| rule.kind.is_none());

    Ok(Catalogue {
        detectors: spec.detectors.iter().map(detector_entry).collect(),
        packages: tables.packages,
        go_modules: tables.go_modules,
        imports: tables.imports,
        mcp_files: spec.mcp_files.clone(),
        models,
        hf_orgs: spec
            .hf_orgs
            .iter()
            .map(|(org, provider)| (org.clone(), provider.clone()))
            .collect(),
        secrets,
        iac_types,
        ci_actions: tables.ci_actions,
        env_vars: tables.env_vars,
        code_scanners: [python?, javascript?, go?, java?, rust?, csharp?],
        config_scanner: config_scanner?,
        prose_scanner: prose_scanner?,
    })
}

fn detector_entry(detector: &DetectorSpec) -> Detector {
    Detector {
        subject: detector.subject.clone(),
        category: detector.category,
        provider: detector.provider.clone(),
        gpai: detector.gpai,
    }
}

fn compile_secrets(spec: &CatalogueSpec) -> Result<Vec<SecretFormat>, CatalogueError> {
    // The prefilter pass marks the secret formats of a line in a 64-bit mask.
    if spec.secrets.len() > 64 {
        return Err(CatalogueError::Entry {
            entry: "secrets".into(),
            message: format!(
                "{} secret formats, at most 64 are supported: merge formats",
                spec.secrets.len()
            ),
        });
    }
    spec.secrets
        .iter()
        .map(|secret| {
            Ok(SecretFormat {
                name: secret.name.clone(),
                provider: secret.provider.clone(),
                prefix: secret.prefix.clone(),
                regex: compile_regex(&secret.name, &secret.pattern)?,
                redaction: compile_regex(
                    &secret.name,
                    &format!(r"{}[A-Za-z0-9_\-]{{8,}}", regex::escape(&secret.prefix)),
                )?,
            })
        })
        .collect()
}

/// Exact-match tables filled entry by entry.
#[derive(Default)]
struct Tables {
    packages: HashMap<(Ecosystem, String), usize>,
    go_modules: Vec<(String, usize)>,
    imports: [HashMap<String, usize>; 6],
    iac_types: Vec<IacType>,
    ci_actions: HashMap<String, usize>,
    env_vars: HashMap<String, usize>,
}

impl Tables {
    fn add_detector(
        &mut self,
        index: usize,
        detector: &DetectorSpec,
    ) -> Result<(), CatalogueError> {
        if detector.subject.trim().is_empty() {
            return Err(entry_error(
                index,
                "subject is empty: give the canonical name",
            ));
        }
        for (ecosystem, names) in &detector.packages {
            for name in names {
                self.add_package(*ecosystem, name, index, &detector.subject)?;
            }
        }
        for (language, modules) in &detector.imports {
            for module in modules {
                self.imports[language.index()].insert(module.clone(), index);
            }
        }
        for iac_type in &detector.iac_types {
            self.iac_types
                .push(parse_iac_type(iac_type, index, &detector.subject)?);
        }
        self.ci_actions.extend(
            detector
                .ci_actions
                .iter()
                .map(|action| (action.to_ascii_lowercase(), index)),
        );
        self.env_vars
            .extend(detector.env_vars.iter().map(|name| (name.clone(), index)));
        Ok(())
    }

    fn add_package(
        &mut self,
        ecosystem: Ecosystem,
        name: &str,
        index: usize,
        subject: &str,
    ) -> Result<(), CatalogueError> {
        if ecosystem == Ecosystem::Go {
            self.go_modules.push((name.to_owned(), index));
            return Ok(());
        }
        if ecosystem == Ecosystem::Maven && !name.contains(':') {
            return Err(CatalogueError::Entry {
                entry: subject.to_owned(),
                message: format!("maven package `{name}` is not group:artifact"),
            });
        }
        self.packages
            .insert((ecosystem, normalise_package(ecosystem, name)), index);
        Ok(())
    }
}

fn entry_error(index: usize, message: &str) -> CatalogueError {
    CatalogueError::Entry {
        entry: format!("detectors[{index}]"),
        message: message.to_owned(),
    }
}

/// Parses `name`, `prefix*` or `name[kind=Value]`.
fn parse_iac_type(text: &str, detector: usize, subject: &str) -> Result<IacType, CatalogueError> {
    let (name, kind) = match text.split_once('[') {
        Some((name, condition)) => {
            let value = condition
                .strip_prefix("kind=")
                .and_then(|rest| rest.strip_suffix(']'))
                .ok_or_else(|| CatalogueError::Entry {
                    entry: subject.to_owned(),
                    message: format!("iac type `{text}` has an unsupported condition: write it as type[kind=Value]"),
                })?;
            (name, Some(value.to_owned()))
        }
        None => (text, None),
    };
    let is_prefix = name.ends_with('*');
    Ok(IacType {
        name: name.trim_end_matches('*').to_owned(),
        is_prefix,
        kind,
        detector,
    })
}

fn compile_regex(entry: &str, pattern: &str) -> Result<Regex, CatalogueError> {
    Regex::new(pattern).map_err(|error| CatalogueError::Entry {
        entry: entry.to_owned(),
        message: format!("invalid regular expression `{pattern}`: {error}"),
    })
}

fn compile_model(model: &ModelSpec) -> Result<ModelFamily, CatalogueError> {
    if model.keywords.is_empty() {
        return Err(CatalogueError::Entry {
            entry: model.provider.clone(),
            message: "model entry has no keywords: list literals that every match contains".into(),
        });
    }
    let alternatives = model.patterns.join("|");
    let pattern = if model.quoted {
        format!(r#"(?i)["'`]((?:{alternatives}){MODEL_STAMP})["'`]"#)
    } else {
        format!(r"(?i)(?:^|[^a-z0-9_\-])((?:{alternatives}){MODEL_STAMP})(?:$|[^a-z0-9_\-])")
    };
    Ok(ModelFamily {
        provider: model.provider.clone(),
        category: model.category,
        gpai: model.gpai,
        regex: compile_regex(&model.provider, &pattern)?,
        whole: compile_regex(
            &model.provider,
            &format!(r"(?i)(?:^|[/\-])(?:{alternatives})"),
        )?,
    })
}

/// Detection set that a scanner serves.
#[derive(Clone, Copy, PartialEq, Eq)]
enum ScannerClass {
    /// Source code of one language: imports, clients, hosts, models, secrets.
    Code,
    /// Configuration: hosts, models, secrets, images, IaC types.
    Config,
    /// Prose and other text: secrets only.
    Prose,
}

fn build_scanner(
    spec: &CatalogueSpec,
    language: Option<Language>,
    secrets: &[SecretFormat],
    class: ScannerClass,
) -> Result<TextScanner, CatalogueError> {
    let mut patterns = Vec::new();
    let mut hints = Vec::new();
    let mut push = |pattern: &str, hint: Hint| {
        patterns.push(pattern.to_owned());
        hints.push(hint);
    };
    for (index, secret) in secrets.iter().enumerate() {
        push(&secret.prefix, Hint::Secret(index));
    }
    if class != ScannerClass::Prose {
        for (index, model) in spec.models.iter().enumerate() {
            for keyword in model
                .keywords
                .iter()
                .flat_map(|keyword| case_variants(keyword))
            {
                push(&keyword, Hint::Model(index));
            }
        }
        for (index, detector) in spec.detectors.iter().enumerate() {
            for host in &detector.hosts {
                push(host, Hint::Host(index));
            }
        }
    }

    if let Some(language) = language {
        add_code_patterns(spec, language, &mut push);
    }

    if class == ScannerClass::Config {
        for (index, detector) in spec.detectors.iter().enumerate() {
            for image in &detector.images {
                push(image, Hint::Image(index));
            }
        }
        for prefix in IAC_TYPE_PREFIXES {
            push(prefix, Hint::Iac);
        }
        for key in HF_REPO_CONFIG_KEYS {
            push(key, Hint::HfRepo);
        }
    }
    // A DFA costs some memory per scanner (a few hundred kilobytes for this catalogue) and
    // scans faster than the NFA the builder picks by itself above about a hundred patterns.
    // Matching is case-sensitive, which keeps the automaton small; model keywords are added
    // in their usual spellings instead (see `case_variants`).
    let automaton = AhoCorasick::builder()
        .kind(Some(AhoCorasickKind::DFA))
        .match_kind(MatchKind::Standard)
        .build(&patterns)
        .map_err(|error| CatalogueError::Entry {
            entry: "prefilter".into(),
            message: format!("cannot build the keyword automaton: {error}"),
        })?;
    Ok(TextScanner {
        automaton,
        patterns,
        hints,
    })
}

fn add_code_patterns(spec: &CatalogueSpec, language: Language, push: &mut impl FnMut(&str, Hint)) {
    for (index, detector) in spec.detectors.iter().enumerate() {
        for module in detector.imports.get(&language).into_iter().flatten() {
            push(module, Hint::Import);
        }
        for client in detector.clients.get(&language).into_iter().flatten() {
            push(client, Hint::Client(index));
        }
    }
    if matches!(language, Language::Python | Language::Javascript) {
        for call in HF_REPO_CALLS {
            push(call, Hint::HfRepo);
        }
    }
}

/// Returns a keyword in lower case, capitalised and upper case (`gpt-`, `Gpt-`, `GPT-`), the
/// spellings in which model names appear in code and configuration.
fn case_variants(keyword: &str) -> Vec<String> {
    let lower = keyword.to_lowercase();
    let mut capitalised = lower.clone();
    if let Some(first) = capitalised.get_mut(0..1) {
        first.make_ascii_uppercase();
    }
    let mut variants = vec![lower, capitalised, keyword.to_uppercase()];
    variants.dedup();
    variants.sort();
    variants.dedup();
    variants
}
