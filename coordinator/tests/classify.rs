//! Classification of systems built from hand-written findings and declarations.

use std::collections::BTreeMap;

use coordinator::classify::{RiskClass, classify, system_name};
use proto::{Declaration, Finding, FindingKind};
use rule_book::FactValue;

const SCOPE: &str = "/srv/repos/acme";

fn finding(
    kind: FindingKind,
    subject: &str,
    path: &str,
    line: Option<u32>,
    attributes: &[(&str, &str)],
) -> Finding {
    Finding {
        source: "code".to_owned(),
        scope: SCOPE.to_owned(),
        external_id: Finding::stable_id(SCOPE, path, kind, subject),
        kind,
        subject: subject.to_owned(),
        path: path.to_owned(),
        line,
        confidence: 0.9,
        project_root: ".".to_owned(),
        attributes: attributes
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
        evidence: None,
    }
}

fn openai_import() -> Finding {
    finding(
        FindingKind::Import,
        "openai",
        "src/app.py",
        Some(3),
        &[
            ("category", "hosted_api"),
            ("provider", "openai"),
            ("language", "python"),
            ("gpai", "true"),
        ],
    )
}

fn declaration_finding(declaration: &Declaration) -> Finding {
    let mut finding = finding(
        FindingKind::Declaration,
        "secruna.yaml",
        "secruna.yaml",
        None,
        &[],
    );
    finding.attributes = declaration.to_attributes();
    finding
        .attributes
        .insert("category".to_owned(), "declaration".to_owned());
    finding
}

fn declared(text: &str) -> Declaration {
    Declaration::from_yaml(text).expect("test declaration is valid")
}

fn text_fact<'a>(facts: &'a rule_book::Facts, name: &str) -> Option<&'a str> {
    match facts.get(name) {
        Some(FactValue::Text(text)) => Some(text),
        _ => None,
    }
}

fn list_fact(facts: &rule_book::Facts, name: &str) -> Option<Vec<String>> {
    match facts.get(name) {
        Some(FactValue::List(items)) => Some(items.clone()),
        _ => None,
    }
}

#[test]
fn declared_employment_is_high() {
    let declaration = declared("name: cv-ranker\nrole: provider\nannex_iii: employment\n");
    let findings = vec![openai_import(), declaration_finding(&declaration)];
    let result = classify(".", &findings, Some(&declaration));

    assert_eq!(result.risk_class, RiskClass::High);
    assert_eq!(result.annex_iii_area.as_deref(), Some("employment"));
    assert!(result.confidence >= 0.9, "confidence {}", result.confidence);
    assert_eq!(result.name, "cv-ranker");
    assert!(
        result
            .reasons
            .contains(&"declares annex_iii employment in secruna.yaml".to_owned()),
        "{:?}",
        result.reasons
    );
    assert_eq!(text_fact(&result.facts, "system.role"), Some("provider"));
    assert_eq!(text_fact(&result.facts, "system.risk_class"), Some("high"));
    assert_eq!(
        text_fact(&result.facts, "system.annex_iii_area"),
        Some("employment")
    );
    assert_eq!(
        list_fact(&result.facts, "system.annex_iii"),
        Some(vec!["4".to_owned()])
    );
}

#[test]
fn undeclared_credit_scoring_is_high_with_lower_confidence() {
    let manifest = finding(
        FindingKind::Dependency,
        "scikit-learn",
        "pyproject.toml",
        Some(12),
        &[
            ("category", "ml_library"),
            ("ecosystem", "pypi"),
            (
                "project_description",
                "Scores the creditworthiness of loan applicants",
            ),
        ],
    );
    let result = classify(".", &[manifest], None);

    assert_eq!(result.risk_class, RiskClass::High);
    assert_eq!(result.annex_iii_area.as_deref(), Some("essential-services"));
    assert!(result.confidence < 0.9, "confidence {}", result.confidence);
    assert!(result.confidence >= 0.5, "confidence {}", result.confidence);
    assert!(
        result.reasons.contains(
            &"description in pyproject.toml mentions \"creditworthiness\": suggests annex_iii 5b (essential-services)".to_owned()
        ),
        "{:?}",
        result.reasons
    );
    assert_eq!(
        list_fact(&result.facts, "system.annex_iii"),
        Some(vec!["5b".to_owned()])
    );
    assert_eq!(
        result.facts.get("system.profiles_natural_persons"),
        Some(&FactValue::Bool(true))
    );
    assert_eq!(result.facts.get("system.role"), None);
}

#[test]
fn declared_article_5_is_prohibited() {
    let declaration = declared("annex_iii: none\narticle_5: [social-scoring]\n");
    let result = classify(".", &[openai_import()], Some(&declaration));

    assert_eq!(result.risk_class, RiskClass::Prohibited);
    assert_eq!(result.annex_iii_area, None);
    assert!(result.confidence >= 0.9);
    assert_eq!(
        list_fact(&result.facts, "system.prohibited_practice_flags"),
        Some(vec!["social_scoring".to_owned()])
    );
    assert!(
        result
            .reasons
            .contains(&"declares article_5 social-scoring in secruna.yaml".to_owned())
    );
}

#[test]
fn hosted_llm_without_purpose_is_unknown() {
    let result = classify(".", &[openai_import()], None);

    assert_eq!(result.risk_class, RiskClass::Unknown);
    assert!(result.gpai);
    assert_eq!(result.kinds, ["calls_hosted_model_api"]);
    assert!(result.confidence < 0.5);
    assert_eq!(
        result.reasons,
        [
            "calls a hosted model API: imports openai (src/app.py:3)",
            "builds on a general-purpose AI model: imports openai (src/app.py:3)",
            "no purpose is known: declare `purpose` or `annex_iii` in secruna.yaml to settle the risk class",
        ]
    );
    assert_eq!(result.facts.get("system.risk_class"), None);
    assert_eq!(result.facts.get("system.annex_iii"), None);
    assert_eq!(result.facts.get("system.interacts_with_people"), None);
    assert_eq!(
        result.facts.get("system.builds_on_gpai"),
        Some(&FactValue::Bool(true))
    );
    assert_eq!(
        text_fact(&result.facts, "system.model_source"),
        Some("vendor_api")
    );
}

#[test]
fn sklearn_and_artefacts_give_two_kinds() {
    let findings = [
        finding(
            FindingKind::Artefact,
            "joblib",
            "models/churn.joblib",
            None,
            &[("category", "artefact"), ("format", "joblib")],
        ),
        finding(
            FindingKind::Import,
            "scikit-learn",
            "train.py",
            Some(1),
            &[("category", "ml_library"), ("language", "python")],
        ),
        finding(
            FindingKind::Dependency,
            "scikit-learn",
            "requirements.txt",
            Some(4),
            &[("category", "ml_library"), ("ecosystem", "pypi")],
        ),
    ];
    let result = classify(".", &findings, None);

    assert_eq!(result.kinds, ["ships_model_artefacts", "uses_ml_libraries"]);
    assert!(!result.gpai);
    assert_eq!(result.risk_class, RiskClass::Unknown);
    assert_eq!(
        result.reasons[0],
        "ships model artefacts: ships a joblib model file (models/churn.joblib)"
    );
    assert_eq!(
        result.reasons[1],
        "uses ML libraries: depends on scikit-learn (requirements.txt:4) and 1 more finding"
    );
    assert_eq!(
        result.facts.get("system.builds_on_gpai"),
        Some(&FactValue::Bool(false))
    );
}

#[test]
fn negated_purpose_does_not_map_to_employment() {
    let declaration =
        declared("purpose: Summarises meeting notes. It does not rank job applicants.\n");
    let result = classify(".", &[openai_import()], Some(&declaration));

    assert_ne!(result.annex_iii_area.as_deref(), Some("employment"));
    assert_eq!(result.risk_class, RiskClass::Limited);
    assert_eq!(list_fact(&result.facts, "system.annex_iii"), Some(vec![]));
    assert!(
        result.reasons.contains(
            &"purpose in secruna.yaml negates \"rank job applicants\": not counted".to_owned()
        ),
        "{:?}",
        result.reasons
    );
}

#[test]
fn declared_purpose_ranking_applicants_is_employment() {
    let declaration = declared("purpose: Ranks job applicants for recruiters\n");
    let result = classify(".", &[openai_import()], Some(&declaration));

    assert_eq!(result.risk_class, RiskClass::High);
    assert_eq!(result.annex_iii_area.as_deref(), Some("employment"));
    assert!(
        (result.confidence - 0.7).abs() < 1e-6,
        "confidence {}",
        result.confidence
    );
}

#[test]
fn inferred_emotion_recognition_of_employees_is_prohibited() {
    let manifest = finding(
        FindingKind::Dependency,
        "transformers",
        "package.json",
        Some(9),
        &[
            ("category", "ml_library"),
            (
                "project_description",
                "Detects the emotions of employees during video calls",
            ),
        ],
    );
    let result = classify(".", &[manifest], None);

    assert_eq!(result.risk_class, RiskClass::Prohibited);
    assert_eq!(
        list_fact(&result.facts, "system.prohibited_practice_flags"),
        Some(vec!["emotion_workplace_education".to_owned()])
    );
    assert!(result.confidence < 0.9);
}

#[test]
fn declared_none_overrides_inferred_area() {
    let declaration = declared(
        "purpose: screens CVs\nannex_iii: none\narticle_5: []\ninteracts_with_people: false\ngenerates_synthetic_content: false\n",
    );
    let result = classify(".", &[], Some(&declaration));

    assert_eq!(result.risk_class, RiskClass::Minimal);
    assert!(result.confidence >= 0.9);
    assert!(
        result.reasons.contains(
            &"purpose in secruna.yaml mentions \"screens cvs\": suggests annex_iii 4a (employment), but the declaration takes precedence".to_owned()
        ),
        "{:?}",
        result.reasons
    );
}

#[test]
fn declared_chatbot_is_limited() {
    let declaration = declared("annex_iii: none\narticle_5: []\ninteracts_with_people: true\n");
    let result = classify(".", &[openai_import()], Some(&declaration));

    assert_eq!(result.risk_class, RiskClass::Limited);
    assert!(result.confidence >= 0.9);
    assert_eq!(
        result.facts.get("system.interacts_with_people"),
        Some(&FactValue::Bool(true))
    );
}

#[test]
fn derogation_with_profiling_stays_high() {
    let valid = declared(
        "annex_iii: 4a\narticle_5: []\nart6_3_derogation: true\nprofiles_natural_persons: false\n",
    );
    let result = classify(".", &[], Some(&valid));
    assert_eq!(result.risk_class, RiskClass::Minimal);
    assert_eq!(result.annex_iii_area, None);

    let invalid =
        declared("annex_iii: 4a\nart6_3_derogation: true\nprofiles_natural_persons: true\n");
    let result = classify(".", &[], Some(&invalid));
    assert_eq!(result.risk_class, RiskClass::High);
    assert_eq!(result.annex_iii_area.as_deref(), Some("employment"));
}

#[test]
fn declared_facts_fill_rule_book_facts() {
    let declaration = declared(
        "role: deployer\nannex_iii: [5b]\nhuman_oversight: on_the_loop\noverride_capability: true\nmarkets: [eu]\nlogging: {enabled: true, retention_days: 200}\nevidence: [fria, {id: dpia, document: docs/dpia.pdf}]\ngpai_model: false\n",
    );
    let result = classify("services/loans", &[], Some(&declaration));
    let facts = &result.facts;

    assert_eq!(text_fact(facts, "system.role"), Some("deployer"));
    assert_eq!(
        text_fact(facts, "system.human_oversight"),
        Some("on_the_loop")
    );
    assert_eq!(
        facts.get("system.override_capability"),
        Some(&FactValue::Bool(true))
    );
    assert_eq!(
        list_fact(facts, "system.markets"),
        Some(vec!["eu".to_owned()])
    );
    assert_eq!(
        facts.get("system.logging_enabled"),
        Some(&FactValue::Bool(true))
    );
    assert_eq!(
        facts.get("system.log_retention_days"),
        Some(&FactValue::Number(200.0))
    );
    assert_eq!(
        list_fact(facts, "system.evidence"),
        Some(vec!["fria".to_owned(), "dpia".to_owned()])
    );
    assert_eq!(
        facts.get("system.is_gpai_model"),
        Some(&FactValue::Bool(false))
    );
    assert_eq!(facts.get("system.builds_on_gpai"), None);
    assert_eq!(
        facts.get("classification.confidence"),
        Some(&FactValue::Number(0.95))
    );
    assert!(
        result
            .reasons
            .contains(&"declares annex_iii 5b in services/loans/secruna.yaml".to_owned())
    );
}

#[test]
fn finding_order_does_not_change_result() {
    let findings = vec![
        openai_import(),
        finding(
            FindingKind::ModelId,
            "gpt-4o",
            "src/app.py",
            Some(10),
            &[("category", "hosted_api"), ("gpai", "true")],
        ),
        finding(
            FindingKind::Artefact,
            "onnx",
            "model.onnx",
            None,
            &[("category", "artefact")],
        ),
    ];
    let mut reversed = findings.clone();
    reversed.reverse();
    assert_eq!(
        classify(".", &findings, None),
        classify(".", &reversed, None)
    );
}

#[test]
fn system_name_prefers_declaration_then_package_then_folder() {
    let declaration = declared("name: loan-scorer\n");
    let package = finding(
        FindingKind::Dependency,
        "torch",
        "pyproject.toml",
        Some(3),
        &[("package_name", "scoring-service")],
    );

    assert_eq!(
        system_name(
            "services/x",
            Some(&declaration),
            std::slice::from_ref(&package)
        ),
        "loan-scorer"
    );
    assert_eq!(
        system_name("services/x", None, std::slice::from_ref(&package)),
        "scoring-service"
    );
    assert_eq!(system_name("services/x", None, &[openai_import()]), "x");
    assert_eq!(system_name(".", None, &[openai_import()]), "acme");
    assert_eq!(system_name(".", None, &[]), ".");
}

#[test]
fn empty_attributes_map_is_not_a_declaration() {
    let attributes = BTreeMap::new();
    let declaration = Declaration::from_attributes(&attributes).unwrap();
    let result = classify(".", &[], Some(&declaration));
    assert_eq!(result.risk_class, RiskClass::Unknown);
    assert!(result.kinds.is_empty());
}

#[test]
fn lettered_point_replaces_its_whole_area() {
    let declaration = declared("purpose: Helps law enforcement agencies profile suspects\n");
    let result = classify(".", &[], Some(&declaration));

    assert_eq!(result.risk_class, RiskClass::High);
    assert_eq!(result.annex_iii_area.as_deref(), Some("law-enforcement"));
    assert_eq!(
        list_fact(&result.facts, "system.annex_iii"),
        Some(vec!["6e".to_owned()])
    );
}

#[test]
fn descriptions_from_several_manifests_are_all_read() {
    let findings = [
        finding(
            FindingKind::Dependency,
            "openai",
            "package.json",
            Some(7),
            &[
                ("category", "hosted_api"),
                ("project_description", "Internal tooling"),
            ],
        ),
        finding(
            FindingKind::Dependency,
            "torch",
            "worker/pyproject.toml",
            Some(5),
            &[
                ("category", "ml_library"),
                ("project_description", "Grades student essays"),
            ],
        ),
    ];
    let result = classify(".", &findings, None);

    assert_eq!(result.risk_class, RiskClass::High);
    assert_eq!(result.annex_iii_area.as_deref(), Some("education"));
    assert_eq!(
        result.kinds,
        ["calls_hosted_model_api", "uses_ml_libraries"]
    );
}

/// Every fact the classifier sets must be in the rule book's vocabulary, with the expected type
/// and words, because a misspelt name would silently read as unknown in every rule.
#[test]
fn facts_fit_rule_book_vocabulary() {
    let vocabulary = rule_book::built_in_facts();
    let declaration = declared(
        "role: provider\nannex_iii: [4a]\narticle_5: [manipulation]\nannex_i_product: false\nart6_3_derogation: false\nprofiles_natural_persons: true\nhuman_oversight: none\noverride_capability: false\nmarkets: [eu]\ninteracts_with_people: true\ngenerates_synthetic_content: true\nemotion_recognition: false\nbiometric_categorisation: false\nprocesses_personal_data: true\nmodel_source: vendor_api\ndocumentation: [datasheet]\nlogging: {enabled: false, retention_days: 30}\ngpai_model: true\ngpai_training_flops: 1e24\ngpai_systemic_designation: false\npublic_body: true\npublic_service: false\nevidence: [risk-register]\n",
    );
    let card = finding(
        FindingKind::ModelCard,
        "acme/model",
        "README.md",
        None,
        &[("category", "model_card")],
    );
    let result = classify(".", &[openai_import(), card], Some(&declaration));

    assert_eq!(result.facts.iter().count(), 28);
    for (name, value) in result.facts.iter() {
        let spec = vocabulary
            .get(name)
            .unwrap_or_else(|| panic!("fact `{name}` is not in the rule book"));
        assert_eq!(value.type_name(), spec.kind.as_str(), "type of `{name}`");
        let words: Vec<&str> = match value {
            FactValue::Text(text) => vec![text.as_str()],
            FactValue::List(items) => items.iter().map(String::as_str).collect(),
            _ => vec![],
        };
        for word in words {
            let allowed = spec.values.is_empty() || spec.values.iter().any(|value| value == word);
            assert!(allowed, "`{word}` is not an allowed word of `{name}`");
        }
    }
}

#[test]
fn absolute_root_gives_relative_declaration_path() {
    let mut import = openai_import();
    import.path = "services/chat/app.py".to_owned();
    import.project_root = "services/chat".to_owned();
    let result = classify("/srv/repos/acme/services/chat", &[import], None);

    assert_eq!(result.name, "chat");
    assert_eq!(
        result.reasons.last().map(String::as_str),
        Some(
            "no purpose is known: declare `purpose` or `annex_iii` in services/chat/secruna.yaml to settle the risk class"
        )
    );
}
