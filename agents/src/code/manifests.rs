//! Dependency manifests. Every declared package is looked up by exact name in its ecosystem,
//! so `openapi-types` never matches `openai`.

mod jvm_dotnet;
mod node_rust_go;
mod python;

use proto::FindingKind;

use super::context::{Draft, TextView, shorten};
use super::route::Manifest;
use crate::catalogue::{Catalogue, Ecosystem};

/// A package found in a manifest, before the catalogue lookup.
pub(crate) struct Declared {
    pub(crate) ecosystem: Ecosystem,
    pub(crate) name: String,
    /// Text to search for the line, when it differs from `name` (a Maven artifact id).
    pub(crate) line_hint: Option<String>,
}

impl Declared {
    pub(crate) fn new(ecosystem: Ecosystem, name: &str) -> Self {
        Declared {
            ecosystem,
            name: name.to_owned(),
            line_hint: None,
        }
    }
}

/// Result of a manifest parser: the packages and the project description, when stated.
#[derive(Default)]
pub(crate) struct Parsed {
    pub(crate) packages: Vec<Declared>,
    pub(crate) description: Option<String>,
}

/// Parses a manifest and reports its catalogue packages; an invalid manifest is an `Err`.
pub(crate) fn scan(
    catalogue: &Catalogue,
    manifest: Manifest,
    view: &TextView<'_>,
    drafts: &mut Vec<Draft>,
) -> Result<(), String> {
    let text = view.text;
    let parsed = match manifest {
        Manifest::Requirements => python::requirements(text),
        Manifest::Pyproject => python::pyproject(text)?,
        Manifest::Pipfile => python::pipfile(text)?,
        Manifest::SetupCfg => python::setup_cfg(text),
        Manifest::SetupPy => python::setup_py(text),
        Manifest::CondaEnvironment => python::conda_environment(text)?,
        Manifest::PackageJson => node_rust_go::package_json(text)?,
        Manifest::CargoToml => node_rust_go::cargo_toml(text)?,
        Manifest::GoMod => node_rust_go::go_mod(text),
        Manifest::Pom => jvm_dotnet::pom(text),
        Manifest::Gradle | Manifest::GradleVersionCatalog => jvm_dotnet::gradle(text),
        Manifest::Csproj => jvm_dotnet::csproj(text),
    };
    report(catalogue, view, &parsed, drafts);
    Ok(())
}

fn report(catalogue: &Catalogue, view: &TextView<'_>, parsed: &Parsed, drafts: &mut Vec<Draft>) {
    for declared in &parsed.packages {
        let Some(detector) = catalogue.package(declared.ecosystem, &declared.name) else {
            continue;
        };
        let mut draft =
            Draft::for_detector(FindingKind::Dependency, &catalogue.detectors[detector])
                .attr("ecosystem", declared.ecosystem.as_str())
                .attr("package", &declared.name);
        let line_hint = declared.line_hint.as_deref().unwrap_or(&declared.name);
        if let Some(offset) = token_offset(view, line_hint) {
            draft = draft
                .at_line(view.line_of(offset))
                .evidence(view.evidence_at(offset));
        }
        if let Some(description) = &parsed.description {
            draft = draft.attr("project_description", description);
        }
        drafts.push(draft);
    }
}

/// Returns the offset of the first occurrence of `token` that is not part of a longer name
/// and not on a comment line.
pub(crate) fn token_offset(view: &TextView<'_>, token: &str) -> Option<usize> {
    let text = view.text;
    let is_name_byte =
        |byte: u8| byte.is_ascii_alphanumeric() || matches!(byte, b'_' | b'-' | b'.');
    text.match_indices(token)
        .map(|(offset, _)| offset)
        .find(|offset| {
            let before = offset.checked_sub(1).map(|index| text.as_bytes()[index]);
            let after = text.as_bytes().get(offset + token.len()).copied();
            !before.is_some_and(is_name_byte)
                && !after.is_some_and(|byte| is_name_byte(byte) && byte != b'.')
                && !view.is_comment_line(*offset)
        })
}

/// Returns the distribution name at the start of a PEP 508 requirement (`openai>=1; extra`).
pub(crate) fn requirement_name(requirement: &str) -> &str {
    let trimmed = requirement.trim();
    let end = trimmed
        .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
        .unwrap_or(trimmed.len());
    trimmed[..end].trim_end_matches('.')
}

/// Reports catalogue packages installed by `pip install` commands: notebook magics
/// (`%pip install x`), Dockerfile `RUN pip install x` lines and shell scripts. Arguments end
/// at a shell separator (`&&`, `;`, `|`), and options and their values are skipped.
pub(crate) fn pip_installs(catalogue: &Catalogue, text: &str, drafts: &mut Vec<Draft>) {
    for (line_index, line) in text.split('\n').enumerate() {
        let Some(position) = line
            .find("pip install ")
            .or_else(|| line.find("pip3 install "))
        else {
            continue;
        };
        let arguments = &line[position..];
        let arguments = arguments
            .split_once(" install ")
            .map_or("", |(_, rest)| rest);
        let command = arguments.split(['&', ';', '|', '\\']).next().unwrap_or("");
        let mut skip_value = false;
        for argument in command.split_whitespace() {
            if skip_value {
                skip_value = false;
                continue;
            }
            if argument.starts_with('-') {
                // `-r file`, `-c file`, `-i url` and `--index-url url` take a value.
                skip_value = matches!(
                    argument,
                    "-r" | "-c"
                        | "-e"
                        | "-i"
                        | "--requirement"
                        | "--constraint"
                        | "--index-url"
                        | "--extra-index-url"
                );
                continue;
            }
            let name = requirement_name(argument.trim_matches(['"', '\'']));
            let Some(detector) = catalogue.package(Ecosystem::Pypi, name) else {
                continue;
            };
            let line_number = u32::try_from(line_index + 1).unwrap_or(u32::MAX);
            let draft =
                Draft::for_detector(FindingKind::Dependency, &catalogue.detectors[detector])
                    .attr("ecosystem", Ecosystem::Pypi.as_str())
                    .attr("package", name)
                    .at_line(line_number)
                    .evidence(shorten(line.trim()));
            drafts.push(draft);
        }
    }
}
