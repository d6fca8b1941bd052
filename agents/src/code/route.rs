//! Routes a file by its name and path to the detectors that apply to it.

use crate::catalogue::{Catalogue, Language};

/// Dependency manifest formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Manifest {
    Requirements,
    Pyproject,
    Pipfile,
    SetupCfg,
    SetupPy,
    CondaEnvironment,
    PackageJson,
    CargoToml,
    GoMod,
    Pom,
    Gradle,
    GradleVersionCatalog,
    Csproj,
}

/// Configuration formats searched for hosts, model ids, images, IaC and secrets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Config {
    Yaml,
    Json,
    Terraform,
    Bicep,
    Other,
}

/// Model artefact formats, recognised by extension and confirmed by magic bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ArtefactFormat {
    Onnx,
    Pytorch,
    Safetensors,
    Gguf,
    Keras,
    Pickle,
    Joblib,
    Tflite,
    Coreml,
}

impl ArtefactFormat {
    /// Returns the `format` attribute value, also the finding subject.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            ArtefactFormat::Onnx => "onnx",
            ArtefactFormat::Pytorch => "pytorch",
            ArtefactFormat::Safetensors => "safetensors",
            ArtefactFormat::Gguf => "gguf",
            ArtefactFormat::Keras => "keras",
            ArtefactFormat::Pickle => "pickle",
            ArtefactFormat::Joblib => "joblib",
            ArtefactFormat::Tflite => "tflite",
            ArtefactFormat::Coreml => "coreml",
        }
    }
}

/// Detector group that a file is routed to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Route {
    Declaration,
    Mcp,
    Workflow,
    Manifest(Manifest),
    Code(Language),
    Notebook,
    Markdown,
    Dockerfile,
    Config(Config),
    /// Plain text such as `.env`: searched for secrets only.
    Prose,
    Artefact(ArtefactFormat),
}

/// Lock files: generated, large, and listing transitive packages the project did not choose.
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

/// Returns the route of a file, or `None` when no detector applies.
///
/// `relative` is the `/`-separated path below the scan root and `name` its last component.
pub(crate) fn route(relative: &str, name: &str, catalogue: &Catalogue) -> Option<Route> {
    if name == "secruna.yaml" {
        return Some(Route::Declaration);
    }
    if catalogue
        .mcp_files
        .iter()
        .any(|suffix| path_ends_with(relative, suffix))
    {
        return Some(Route::Mcp);
    }
    if is_workflow(relative) {
        return Some(Route::Workflow);
    }
    if let Some(manifest) = manifest_kind(relative, name) {
        return Some(Route::Manifest(manifest));
    }
    if LOCK_FILES.contains(&name) || name.ends_with(".min.js") {
        return None;
    }
    if is_dockerfile(name) {
        return Some(Route::Dockerfile);
    }
    let extension = name.rsplit_once('.').map(|(_, extension)| extension)?;
    route_extension(name, &extension.to_ascii_lowercase())
}

/// Kind of input a detector reads from a file it applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DetectorInput {
    /// A text file, read up to the maximum file size.
    Text,
    /// A model artefact, checked by magic bytes and hashed.
    Artefact,
}

/// Returns how the detectors read the file at `relative` (`/`-separated, below the scan
/// root), or `None` when no detector applies. Connectors that download files before a scan
/// use it to fetch exactly the files [`route`] sends to a detector.
pub(crate) fn detector_input(relative: &str, catalogue: &Catalogue) -> Option<DetectorInput> {
    let name = relative.rsplit('/').next().unwrap_or(relative);
    match route(relative, name, catalogue)? {
        Route::Artefact(_) => Some(DetectorInput::Artefact),
        _ => Some(DetectorInput::Text),
    }
}

/// Tells whether a folder holding a file of this name is a project root.
pub(crate) fn is_root_marker(name: &str) -> bool {
    name == ".git" || name == "secruna.yaml" || manifest_kind(name, name).is_some()
}

fn path_ends_with(relative: &str, suffix: &str) -> bool {
    relative == suffix
        || relative
            .strip_suffix(suffix)
            .is_some_and(|head| head.ends_with('/'))
}

fn is_workflow(relative: &str) -> bool {
    let Some((folder, name)) = relative.rsplit_once('/') else {
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

fn manifest_kind(relative: &str, name: &str) -> Option<Manifest> {
    let manifest = match name {
        "pyproject.toml" => Manifest::Pyproject,
        "Pipfile" => Manifest::Pipfile,
        "setup.cfg" => Manifest::SetupCfg,
        "setup.py" => Manifest::SetupPy,
        "environment.yml" | "environment.yaml" | "conda.yml" | "conda.yaml" => {
            Manifest::CondaEnvironment
        }
        "package.json" => Manifest::PackageJson,
        "Cargo.toml" => Manifest::CargoToml,
        "go.mod" => Manifest::GoMod,
        "pom.xml" => Manifest::Pom,
        "build.gradle" | "build.gradle.kts" => Manifest::Gradle,
        "libs.versions.toml" => Manifest::GradleVersionCatalog,
        "packages.config" | "Directory.Packages.props" => Manifest::Csproj,
        _ if name.ends_with(".csproj") || name.ends_with(".fsproj") => Manifest::Csproj,
        _ if is_requirements(relative, name) => Manifest::Requirements,
        _ => return None,
    };
    Some(manifest)
}

/// `requirements*.txt`, `requirements*.in`, and any `.txt` inside a `requirements/` folder.
fn is_requirements(relative: &str, name: &str) -> bool {
    let text_like = name.ends_with(".txt") || name.ends_with(".in");
    let in_folder = relative.rsplit('/').nth(1) == Some("requirements");
    text_like && (name.starts_with("requirements") || (in_folder && name.ends_with(".txt")))
}

fn route_extension(name: &str, extension: &str) -> Option<Route> {
    let route = match extension {
        "py" | "pyi" | "pyw" => Route::Code(Language::Python),
        "js" | "mjs" | "cjs" | "jsx" | "ts" | "mts" | "cts" | "tsx" => {
            Route::Code(Language::Javascript)
        }
        "go" => Route::Code(Language::Go),
        "java" | "kt" | "kts" | "scala" => Route::Code(Language::Java),
        "rs" => Route::Code(Language::Rust),
        "cs" => Route::Code(Language::Csharp),
        "ipynb" => Route::Notebook,
        "md" | "markdown" => Route::Markdown,
        "yml" | "yaml" => Route::Config(Config::Yaml),
        "json" | "jsonc" => Route::Config(Config::Json),
        "tf" | "hcl" | "tfvars" => Route::Config(Config::Terraform),
        "bicep" => Route::Config(Config::Bicep),
        "toml" | "ini" | "cfg" | "conf" | "properties" | "env" | "sh" | "bash" | "ps1" => {
            Route::Config(Config::Other)
        }
        "txt" | "rst" => Route::Prose,
        _ => {
            return route_artefact(name, extension)
                .map(Route::Artefact)
                .or_else(|| dotenv(name));
        }
    };
    Some(route)
}

/// `.env`, `.env.local` and similar files, whose extension is not `env`.
fn dotenv(name: &str) -> Option<Route> {
    (name == ".env" || name.starts_with(".env.")).then_some(Route::Config(Config::Other))
}

fn route_artefact(name: &str, extension: &str) -> Option<ArtefactFormat> {
    let format = match extension {
        "onnx" => ArtefactFormat::Onnx,
        "pt" | "pth" => ArtefactFormat::Pytorch,
        "bin" if name.starts_with("pytorch_model") => ArtefactFormat::Pytorch,
        "safetensors" => ArtefactFormat::Safetensors,
        "gguf" => ArtefactFormat::Gguf,
        "h5" | "hdf5" | "keras" => ArtefactFormat::Keras,
        "pkl" | "pickle" => ArtefactFormat::Pickle,
        "joblib" => ArtefactFormat::Joblib,
        "tflite" => ArtefactFormat::Tflite,
        "mlmodel" => ArtefactFormat::Coreml,
        _ => return None,
    };
    Some(format)
}
