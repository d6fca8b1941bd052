//! Chooses the files of a repository tree that the code detectors read, so that only those
//! blobs are downloaded.
//!
//! NOTE: this mirrors the routing of the code connector (`code/route.rs`) by name and path.
//! A file type added there must be added here too, or GitHub scans will not download it.

use crate::catalogue::Catalogue;

/// Reason a tree entry is downloaded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Wanted {
    /// A text file some detector reads, bounded by the maximum file size.
    Text,
    /// A model artefact, checked by magic bytes and hashed; also bounded by the maximum
    /// file size, because the blob API returns whole files.
    Artefact,
}

/// Lock files the code connector skips.
const LOCK_FILES: [&str; 9] = [
    "package-lock.json",
    "yarn.lock",
    "pnpm-lock.yaml",
    "poetry.lock",
    "Pipfile.lock",
    "Cargo.lock",
    "go.sum",
    "composer.lock",
    "uv.lock",
];

/// Exact manifest file names.
const MANIFESTS: [&str; 17] = [
    "pyproject.toml",
    "Pipfile",
    "setup.cfg",
    "setup.py",
    "environment.yml",
    "environment.yaml",
    "conda.yml",
    "conda.yaml",
    "package.json",
    "Cargo.toml",
    "go.mod",
    "pom.xml",
    "build.gradle",
    "build.gradle.kts",
    "libs.versions.toml",
    "packages.config",
    "Directory.Packages.props",
];

/// Extensions of text files some detector reads (code, notebooks, Markdown, config, prose).
const TEXT_EXTENSIONS: [&str; 40] = [
    "py",
    "pyi",
    "pyw",
    "js",
    "mjs",
    "cjs",
    "jsx",
    "ts",
    "mts",
    "cts",
    "tsx",
    "go",
    "java",
    "kt",
    "kts",
    "scala",
    "rs",
    "cs",
    "ipynb",
    "md",
    "markdown",
    "yml",
    "yaml",
    "json",
    "jsonc",
    "tf",
    "hcl",
    "tfvars",
    "bicep",
    "toml",
    "ini",
    "cfg",
    "conf",
    "properties",
    "env",
    "sh",
    "bash",
    "ps1",
    "txt",
    "rst",
];

/// Extensions of model artefacts.
const ARTEFACT_EXTENSIONS: [&str; 13] = [
    "onnx",
    "pt",
    "pth",
    "safetensors",
    "gguf",
    "h5",
    "hdf5",
    "keras",
    "pkl",
    "pickle",
    "joblib",
    "tflite",
    "mlmodel",
];

/// Returns whether and why the file at `path` (`/`-separated, relative to the repository
/// root) is downloaded.
pub(crate) fn wanted(path: &str, catalogue: &Catalogue) -> Option<Wanted> {
    let name = path.rsplit('/').next().unwrap_or(path);
    if name == "secruna.yaml" || is_manifest(name) || is_workflow(path) {
        return Some(Wanted::Text);
    }
    if catalogue
        .mcp_files
        .iter()
        .any(|suffix| path == suffix || path.ends_with(&format!("/{suffix}")))
    {
        return Some(Wanted::Text);
    }
    if LOCK_FILES.contains(&name) || name.ends_with(".min.js") {
        return None;
    }
    if is_dockerfile(name) || name == ".env" || name.starts_with(".env.") {
        return Some(Wanted::Text);
    }
    let extension = name.rsplit_once('.')?.1.to_ascii_lowercase();
    if TEXT_EXTENSIONS.contains(&extension.as_str()) {
        return Some(Wanted::Text);
    }
    let pytorch_bin = extension == "bin" && name.starts_with("pytorch_model");
    (ARTEFACT_EXTENSIONS.contains(&extension.as_str()) || pytorch_bin).then_some(Wanted::Artefact)
}

/// Tells whether a file of this name makes its folder a project root, so that a manifest
/// too large to download still marks its root.
pub(crate) fn is_root_marker(name: &str) -> bool {
    name == "secruna.yaml" || is_manifest(name)
}

/// Tells whether any folder of `path` has a name in `skip_dirs`.
pub(crate) fn in_skipped_folder(path: &str, skip_dirs: &[String]) -> bool {
    let mut folders = path.split('/').rev().skip(1);
    folders.any(|folder| skip_dirs.iter().any(|skipped| skipped == folder))
}

fn is_manifest(name: &str) -> bool {
    MANIFESTS.contains(&name)
        || name.ends_with(".csproj")
        || name.ends_with(".fsproj")
        || (name.starts_with("requirements") && (name.ends_with(".txt") || name.ends_with(".in")))
}

fn is_workflow(path: &str) -> bool {
    let Some((folder, name)) = path.rsplit_once('/') else {
        return false;
    };
    (folder == ".github/workflows" || folder.ends_with("/.github/workflows"))
        && (name.ends_with(".yml") || name.ends_with(".yaml"))
}

fn is_dockerfile(name: &str) -> bool {
    name == "Dockerfile"
        || name == "Containerfile"
        || name.starts_with("Dockerfile.")
        || name.ends_with(".Dockerfile")
        || name.ends_with(".dockerfile")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detector_inputs_are_wanted() {
        let catalogue = Catalogue::embedded();
        let cases = [
            ("requirements.txt", Some(Wanted::Text)),
            ("services/api/requirements-dev.in", Some(Wanted::Text)),
            ("src/app.py", Some(Wanted::Text)),
            ("web/src/chat.tsx", Some(Wanted::Text)),
            ("deploy/Dockerfile.gpu", Some(Wanted::Text)),
            (".github/workflows/review.yml", Some(Wanted::Text)),
            (".env.local", Some(Wanted::Text)),
            ("models/classifier.onnx", Some(Wanted::Artefact)),
            ("weights/pytorch_model.bin", Some(Wanted::Artefact)),
            ("package-lock.json", None),
            ("static/app.min.js", None),
            ("docs/logo.png", None),
            ("data/blob.bin", None),
            ("LICENSE", None),
        ];
        for (path, expected) in cases {
            assert_eq!(wanted(path, catalogue), expected, "{path}");
        }
    }

    #[test]
    fn skipped_folders_match_whole_names() {
        let skip = vec!["node_modules".to_owned(), "vendor".to_owned()];
        assert!(in_skipped_folder(
            "web/node_modules/openai/package.json",
            &skip
        ));
        assert!(!in_skipped_folder("vendors/package.json", &skip));
        assert!(!in_skipped_folder("vendor", &skip));
    }
}
