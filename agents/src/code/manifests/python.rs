//! Python manifests: requirements files, pyproject.toml, Pipfile, setup.cfg, setup.py and
//! conda environment files.

use std::sync::OnceLock;

use regex::Regex;

use super::{Declared, Parsed, requirement_name};
use crate::catalogue::Ecosystem;

/// Reads `requirements*.txt`: one requirement a line; options, includes and URLs are skipped.
pub(crate) fn requirements(text: &str) -> Parsed {
    let packages = text
        .lines()
        .map(|line| line.split(" #").next().unwrap_or(line).trim())
        .filter(|line| !line.is_empty() && !line.starts_with('#') && !line.starts_with('-'))
        .filter(|line| !line.contains("://") || line.contains(" @ "))
        .map(|line| Declared::new(Ecosystem::Pypi, requirement_name(line)))
        .filter(|declared| !declared.name.is_empty())
        .collect();
    Parsed {
        packages,
        description: None,
    }
}

fn parse_toml(text: &str, file: &str) -> Result<toml::Table, String> {
    text.parse::<toml::Table>()
        .map_err(|error| format!("invalid {file}: {error}; fix the TOML syntax"))
}

/// Reads PEP 621 `[project]` dependencies and optional dependencies, PEP 735 dependency
/// groups, Poetry's dependency tables including groups, and uv and PDM development lists.
pub(crate) fn pyproject(text: &str) -> Result<Parsed, String> {
    let table = parse_toml(text, "pyproject.toml")?;
    let mut names: Vec<String> = Vec::new();
    let project = table.get("project");
    names.extend(
        strings_in(project.and_then(|project| project.get("dependencies")))
            .map(requirement_name)
            .map(str::to_owned),
    );
    for group_key in ["optional-dependencies"] {
        for (_, group) in tables_in(project.and_then(|project| project.get(group_key))) {
            names.extend(
                strings_in(Some(group))
                    .map(requirement_name)
                    .map(str::to_owned),
            );
        }
    }
    for (_, group) in tables_in(table.get("dependency-groups")) {
        names.extend(
            strings_in(Some(group))
                .map(requirement_name)
                .map(str::to_owned),
        );
    }

    let poetry = table.get("tool").and_then(|tool| tool.get("poetry"));
    for key in ["dependencies", "dev-dependencies"] {
        names.extend(keys_in(poetry.and_then(|poetry| poetry.get(key))));
    }
    for (_, group) in tables_in(poetry.and_then(|poetry| poetry.get("group"))) {
        names.extend(keys_in(group.get("dependencies")));
    }

    let tool = table.get("tool");
    let uv_dev = tool
        .and_then(|tool| tool.get("uv"))
        .and_then(|uv| uv.get("dev-dependencies"));
    names.extend(strings_in(uv_dev).map(requirement_name).map(str::to_owned));
    let pdm_dev = tool
        .and_then(|tool| tool.get("pdm"))
        .and_then(|pdm| pdm.get("dev-dependencies"));
    for (_, group) in tables_in(pdm_dev) {
        names.extend(
            strings_in(Some(group))
                .map(requirement_name)
                .map(str::to_owned),
        );
    }

    let description = project
        .and_then(|project| project.get("description"))
        .or_else(|| poetry.and_then(|poetry| poetry.get("description")))
        .and_then(toml::Value::as_str)
        .map(str::to_owned);
    Ok(pypi_packages(names, description))
}

/// Reads the `[packages]` and `[dev-packages]` tables of a Pipfile.
pub(crate) fn pipfile(text: &str) -> Result<Parsed, String> {
    let table = parse_toml(text, "Pipfile")?;
    let mut names = Vec::new();
    for key in ["packages", "dev-packages"] {
        names.extend(keys_in(table.get(key)));
    }
    Ok(pypi_packages(names, None))
}

/// Reads `install_requires` and `extras_require` of `[options]`, and `[metadata] description`.
pub(crate) fn setup_cfg(text: &str) -> Parsed {
    let mut packages = Vec::new();
    let mut description = None;
    let mut section = "";
    let mut in_requirements = false;
    for line in text.lines() {
        let trimmed = line.trim();
        if trimmed.starts_with('[') {
            section = trimmed.trim_matches(['[', ']']);
            in_requirements = false;
            continue;
        }
        if trimmed.is_empty() || trimmed.starts_with('#') || trimmed.starts_with(';') {
            continue;
        }
        let continuation = line.starts_with([' ', '\t']);
        if let (false, Some((key, value))) = (continuation, trimmed.split_once('=')) {
            let key = key.trim();
            in_requirements = (section == "options"
                && matches!(key, "install_requires" | "tests_require"))
                || section == "options.extras_require";
            if section == "metadata" && key == "description" {
                description = Some(value.trim().to_owned());
            }
            if in_requirements && !value.trim().is_empty() && section == "options" {
                packages.push(Declared::new(Ecosystem::Pypi, requirement_name(value)));
            }
            continue;
        }
        if in_requirements {
            packages.push(Declared::new(Ecosystem::Pypi, requirement_name(trimmed)));
        }
    }
    packages.retain(|declared| !declared.name.is_empty());
    Parsed {
        packages,
        description,
    }
}

/// Reads the string literals of list literals assigned to a requirements-like name
/// (`install_requires`, `tests_require`, `_deps`, `REQUIRED`) and of `extras_require`, and a
/// literal `description`. Lists built by code are not followed.
pub(crate) fn setup_py(text: &str) -> Parsed {
    static LISTS: OnceLock<Regex> = OnceLock::new();
    static STRING: OnceLock<Regex> = OnceLock::new();
    static DESCRIPTION: OnceLock<Regex> = OnceLock::new();
    let lists = LISTS.get_or_init(|| {
        Regex::new(r"(?is)\b\w*(?:requires?|requirements|deps|dependencies)\w*\s*=\s*\[(.*?)\]|extras_require\s*=\s*\{(.*?)\}")
            .expect("setup.py pattern is valid")
    });
    let string = STRING
        .get_or_init(|| Regex::new(r#"["']([^"'\n]+)["']"#).expect("string pattern is valid"));
    let description_pattern = DESCRIPTION.get_or_init(|| {
        Regex::new(r#"\bdescription\s*=\s*["']([^"'\n]*)["']"#)
            .expect("description pattern is valid")
    });

    let mut packages = Vec::new();
    for captures in lists.captures_iter(text) {
        let Some(body) = captures.get(1).or_else(|| captures.get(2)) else {
            continue;
        };
        for literal in string
            .captures_iter(body.as_str())
            .filter_map(|found| found.get(1))
        {
            packages.push(Declared::new(
                Ecosystem::Pypi,
                requirement_name(literal.as_str()),
            ));
        }
    }
    packages.retain(|declared| !declared.name.is_empty());
    let description = description_pattern
        .captures(text)
        .and_then(|captures| captures.get(1))
        .map(|found| found.as_str().to_owned());
    Parsed {
        packages,
        description,
    }
}

/// Reads a conda `environment.yml`: conda packages, and the `pip:` sub-list as PyPI packages.
pub(crate) fn conda_environment(text: &str) -> Result<Parsed, String> {
    let document: yaml_serde::Value = yaml_serde::from_str(text)
        .map_err(|error| format!("invalid conda environment file: {error}; fix the YAML syntax"))?;
    let mut conda = Vec::new();
    let mut pip = Vec::new();
    for item in document
        .get("dependencies")
        .and_then(yaml_serde::Value::as_sequence)
        .into_iter()
        .flatten()
    {
        match item {
            yaml_serde::Value::String(spec) => {
                let without_channel = spec.rsplit("::").next().unwrap_or(spec);
                conda.push(
                    requirement_name(without_channel.split('=').next().unwrap_or(without_channel))
                        .to_owned(),
                );
            }
            yaml_serde::Value::Mapping(mapping) => {
                let pip_list = mapping.get("pip").and_then(yaml_serde::Value::as_sequence);
                pip.extend(
                    pip_list
                        .into_iter()
                        .flatten()
                        .filter_map(yaml_serde::Value::as_str)
                        .map(|spec| requirement_name(spec).to_owned()),
                );
            }
            _ => {}
        }
    }
    let mut parsed = pypi_packages(conda, None);
    for declared in &mut parsed.packages {
        declared.ecosystem = Ecosystem::Conda;
    }
    parsed.packages.extend(pypi_packages(pip, None).packages);
    Ok(parsed)
}

fn strings_in(value: Option<&toml::Value>) -> impl Iterator<Item = &str> {
    value
        .and_then(toml::Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(toml::Value::as_str)
}

fn tables_in(value: Option<&toml::Value>) -> impl Iterator<Item = (&String, &toml::Value)> {
    value.and_then(toml::Value::as_table).into_iter().flatten()
}

fn keys_in(value: Option<&toml::Value>) -> impl Iterator<Item = String> + '_ {
    tables_in(value)
        .map(|(name, _)| name.clone())
        .filter(|name| name != "python")
}

fn pypi_packages(names: Vec<String>, description: Option<String>) -> Parsed {
    let packages = names
        .iter()
        .filter(|name| !name.is_empty())
        .map(|name| Declared::new(Ecosystem::Pypi, name))
        .collect();
    Parsed {
        packages,
        description,
    }
}
