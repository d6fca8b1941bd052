//! pom.xml, Gradle build scripts and version catalogs, and .NET project files.

use std::sync::OnceLock;

use regex::Regex;

use super::{Declared, Parsed};
use crate::catalogue::Ecosystem;

fn regex(cell: &'static OnceLock<Regex>, pattern: &str) -> &'static Regex {
    cell.get_or_init(|| Regex::new(pattern).expect("manifest pattern is valid"))
}

fn maven(group: &str, artifact: &str) -> Declared {
    let mut declared = Declared::new(Ecosystem::Maven, &format!("{group}:{artifact}"));
    declared.line_hint = Some(artifact.to_owned());
    declared
}

/// Reads `<dependency>` elements of a pom.xml, in `<dependencies>` and
/// `<dependencyManagement>` alike.
pub(crate) fn pom(text: &str) -> Parsed {
    static DEPENDENCY: OnceLock<Regex> = OnceLock::new();
    static GROUP: OnceLock<Regex> = OnceLock::new();
    static ARTIFACT: OnceLock<Regex> = OnceLock::new();
    let dependency = regex(&DEPENDENCY, r"(?s)<dependency>(.*?)</dependency>");
    let group = regex(&GROUP, r"<groupId>\s*([^<\s]+)\s*</groupId>");
    let artifact = regex(&ARTIFACT, r"<artifactId>\s*([^<\s]+)\s*</artifactId>");
    let packages = dependency
        .captures_iter(text)
        .filter_map(|captures| {
            let body = captures.get(1)?.as_str();
            let group = group.captures(body)?.get(1)?.as_str();
            let artifact = artifact.captures(body)?.get(1)?.as_str();
            Some(maven(group, artifact))
        })
        .collect();
    let description = regex(&DESCRIPTION, r"(?s)<description>\s*(.*?)\s*</description>")
        .captures(text)
        .and_then(|captures| captures.get(1))
        .map(|found| found.as_str().to_owned());
    Parsed {
        packages,
        description,
    }
}

static DESCRIPTION: OnceLock<Regex> = OnceLock::new();

/// Reads `"group:artifact:version"` coordinates and `group: "…", name: "…"` maps from a Gradle
/// script (Groovy or Kotlin) or a `libs.versions.toml` catalog.
pub(crate) fn gradle(text: &str) -> Parsed {
    static COORDINATE: OnceLock<Regex> = OnceLock::new();
    static MAP: OnceLock<Regex> = OnceLock::new();
    static MODULE: OnceLock<Regex> = OnceLock::new();
    let coordinate = regex(
        &COORDINATE,
        r#"["']([\w.\-]+):([\w.\-]+)(?::[^"'\s]*)?["']"#,
    );
    let map = regex(
        &MAP,
        r#"group\s*[:=]\s*["']([\w.\-]+)["']\s*,\s*name\s*[:=]\s*["']([\w.\-]+)["']"#,
    );
    let module = regex(&MODULE, r#"module\s*=\s*["']([\w.\-]+):([\w.\-]+)["']"#);
    let mut packages = Vec::new();
    for pattern in [coordinate, map, module] {
        for captures in pattern.captures_iter(text) {
            if let (Some(group), Some(artifact)) = (captures.get(1), captures.get(2)) {
                packages.push(maven(group.as_str(), artifact.as_str()));
            }
        }
    }
    Parsed {
        packages,
        description: None,
    }
}

/// Reads `PackageReference`, `PackageVersion` and packages.config `package` entries.
pub(crate) fn csproj(text: &str) -> Parsed {
    static REFERENCE: OnceLock<Regex> = OnceLock::new();
    let reference = regex(
        &REFERENCE,
        r#"(?i)<(?:PackageReference|PackageVersion)\s+(?:Include|Update)\s*=\s*"([^"]+)"|<package\s+id\s*=\s*"([^"]+)""#,
    );
    let packages = reference
        .captures_iter(text)
        .filter_map(|captures| captures.get(1).or_else(|| captures.get(2)))
        .map(|name| Declared::new(Ecosystem::Nuget, name.as_str()))
        .collect();
    let description = regex(
        &DESCRIPTION_NET,
        r"(?s)<Description>\s*(.*?)\s*</Description>",
    )
    .captures(text)
    .and_then(|captures| captures.get(1))
    .map(|found| found.as_str().to_owned());
    Parsed {
        packages,
        description,
    }
}

static DESCRIPTION_NET: OnceLock<Regex> = OnceLock::new();
