use super::{Catalogue, CatalogueError, Ecosystem, Language};

#[test]
fn embedded_catalogue_compiles() {
    let catalogue =
        Catalogue::from_yaml(super::EMBEDDED_YAML).expect("embedded catalogue is valid");
    assert!(catalogue.subjects().any(|subject| subject == "openai"));
    assert!(
        catalogue.secrets.len() <= 64,
        "secret formats must fit the 64-bit prefilter mask"
    );
}

#[test]
fn package_lookup_is_exact_per_ecosystem() {
    let catalogue = Catalogue::embedded();
    let subject = |ecosystem, name| {
        catalogue
            .package(ecosystem, name)
            .map(|index| catalogue.detectors[index].subject.as_str())
    };
    assert_eq!(subject(Ecosystem::Pypi, "openai"), Some("openai"));
    assert_eq!(subject(Ecosystem::Pypi, "OpenAI"), Some("openai"));
    assert_eq!(subject(Ecosystem::Pypi, "openapi-types"), None);
    assert_eq!(subject(Ecosystem::Pypi, "openai-whisper"), None);
    assert_eq!(
        subject(Ecosystem::Pypi, "Google.Generativeai"),
        Some("google-gemini")
    );
    assert_eq!(
        subject(Ecosystem::Pypi, "scikit_learn"),
        Some("scikit-learn")
    );
    assert_eq!(
        subject(Ecosystem::Npm, "@anthropic-ai/sdk"),
        Some("anthropic")
    );
    assert_eq!(subject(Ecosystem::Npm, "@Anthropic-AI/sdk"), None);
    assert_eq!(subject(Ecosystem::Npm, "openapi-types"), None);
    assert_eq!(
        subject(Ecosystem::Nuget, "azure.ai.openai"),
        Some("azure-openai")
    );
    assert_eq!(
        subject(Ecosystem::Go, "github.com/sashabaranov/go-openai"),
        Some("openai")
    );
    assert_eq!(
        subject(Ecosystem::Go, "github.com/sashabaranov/go-openai-extra"),
        None
    );
    assert_eq!(
        subject(Ecosystem::Maven, "com.openai:openai-java"),
        Some("openai")
    );
    assert_eq!(subject(Ecosystem::Cargo, "async-openai"), Some("openai"));
    assert_eq!(subject(Ecosystem::Cargo, "async_openai"), None);
    assert_eq!(subject(Ecosystem::Conda, "pytorch"), Some("pytorch"));
    assert_eq!(
        subject(Ecosystem::Conda, "transformers"),
        Some("transformers")
    );
}

#[test]
fn import_lookup_matches_module_and_submodules() {
    let catalogue = Catalogue::embedded();
    let subject = |language, module| {
        catalogue
            .import(language, module)
            .map(|index| catalogue.detectors[index].subject.as_str())
    };
    assert_eq!(
        subject(Language::Python, "google.generativeai.types"),
        Some("google-gemini")
    );
    assert_eq!(subject(Language::Python, "google.cloud.storage"), None);
    assert_eq!(
        subject(Language::Javascript, "openai/resources/chat"),
        Some("openai")
    );
    assert_eq!(
        subject(Language::Javascript, "@anthropic-ai/sdk"),
        Some("anthropic")
    );
    assert_eq!(subject(Language::Javascript, "openapi-types"), None);
    assert_eq!(
        subject(Language::Java, "com.openai.client.OpenAIClient"),
        Some("openai")
    );
    assert_eq!(
        subject(Language::Csharp, "Azure.AI.OpenAI"),
        Some("azure-openai")
    );
}

#[test]
fn invalid_yaml_names_the_line() {
    let error =
        Catalogue::from_yaml("version: 1\ndetectors:\n  - subject: x\n    category: nonsense\n")
            .expect_err("unknown category is rejected");
    assert!(
        matches!(error, CatalogueError::Yaml { line: Some(4), .. }),
        "{error}"
    );
}

#[test]
fn unknown_field_is_rejected() {
    let error = Catalogue::from_yaml(
        "version: 1\ndetectors:\n  - subject: x\n    category: ml_library\n    pakages: {}\n",
    )
    .expect_err("misspelt field is rejected");
    assert!(error.to_string().contains("pakages"), "{error}");
}

#[test]
fn invalid_model_regex_names_the_entry() {
    let text = "version: 1\ndetectors: []\nmodels:\n  - provider: acme\n    category: hosted_api\n    keywords: [x]\n    patterns: ['(']\n";
    let error = Catalogue::from_yaml(text).expect_err("bad regex is rejected");
    assert!(
        matches!(&error, CatalogueError::Entry { entry, .. } if entry == "acme"),
        "{error}"
    );
}

#[test]
fn unsupported_version_is_rejected() {
    let error =
        Catalogue::from_yaml("version: 2\ndetectors: []\n").expect_err("version 2 is rejected");
    assert!(matches!(error, CatalogueError::Version(2)));
}
