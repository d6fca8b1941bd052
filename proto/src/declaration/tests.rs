use std::collections::BTreeMap;

use super::*;

const FULL: &str = "\
name: cv-screener
purpose: ranks job applicants for recruiters
role: provider
annex_iii: [4a, education]
article_5: []
annex_i_product: false
art6_3_derogation: false
profiles_natural_persons: true
human_oversight: in_the_loop
override_capability: true
markets: [EU, uk]
interacts_with_people: false
generates_synthetic_content: false
emotion_recognition: false
biometric_categorisation: false
processes_personal_data: true
model_source: fine_tuned
documentation: [model_card, technical_file]
logging:
  enabled: true
  retention_days: 365
gpai_model: false
gpai_training_flops: 1.5e22
gpai_systemic_designation: false
public_body: false
public_service: false
evidence:
  - risk-register
  - {id: technical-file, document: docs/annex-iv.md}
";

fn error_of(text: &str) -> DeclarationError {
    Declaration::from_yaml(text).expect_err("the declaration should be rejected")
}

#[test]
fn full_declaration_parses_every_field() {
    let declaration = Declaration::from_yaml(FULL).unwrap();
    assert_eq!(declaration.name.as_deref(), Some("cv-screener"));
    assert_eq!(declaration.role, Some(Role::Provider));
    let annex_iii = declaration.annex_iii.as_ref().unwrap();
    let codes: Vec<String> = annex_iii.0.iter().map(|point| point.code()).collect();
    assert_eq!(codes, ["4a", "3"]);
    assert_eq!(declaration.article_5, Some(vec![]));
    assert_eq!(declaration.human_oversight, Some(HumanOversight::InTheLoop));
    let markets: Vec<&str> = declaration
        .markets
        .as_ref()
        .unwrap()
        .iter()
        .map(Market::as_str)
        .collect();
    assert_eq!(markets, ["eu", "uk"]);
    assert_eq!(declaration.model_source, Some(ModelSource::FineTuned));
    assert_eq!(
        declaration.logging,
        Some(Logging {
            enabled: Some(true),
            retention_days: Some(365)
        })
    );
    assert_eq!(declaration.gpai_training_flops, Some(1.5e22));
    let evidence = declaration.evidence.as_ref().unwrap();
    assert_eq!(
        evidence[0],
        EvidenceItem {
            id: "risk-register".into(),
            document: None
        }
    );
    assert_eq!(
        evidence[1],
        EvidenceItem {
            id: "technical-file".into(),
            document: Some("docs/annex-iv.md".into())
        }
    );
}

#[test]
fn annex_iii_accepts_slug_number_code_and_none() {
    let cases = [
        ("annex_iii: employment", vec!["4"]),
        ("annex_iii: 5", vec!["5"]),
        ("annex_iii: 5b", vec!["5b"]),
        ("annex_iii: critical-infrastructure", vec!["2"]),
        ("annex_iii: none", vec![]),
        ("annex_iii: []", vec![]),
        ("annex_iii: [1a, 1a, 6e]", vec!["1a", "6e"]),
    ];
    for (text, expected) in cases {
        let declaration = Declaration::from_yaml(text).unwrap();
        let codes: Vec<String> = declaration
            .annex_iii
            .unwrap()
            .0
            .iter()
            .map(|point| point.code())
            .collect();
        assert_eq!(codes, expected, "{text}");
    }
}

#[test]
fn article_5_slugs_map_to_fact_flags() {
    let text = "article_5: [manipulation, real-time-remote-biometric-identification]";
    let declaration = Declaration::from_yaml(text).unwrap();
    let flags: Vec<&str> = declaration
        .article_5
        .unwrap()
        .iter()
        .map(|practice| practice.fact_flag())
        .collect();
    assert_eq!(flags, ["manipulation", "realtime_rbi_law_enforcement"]);
}

#[test]
fn empty_or_comment_only_file_is_empty_declaration() {
    assert_eq!(Declaration::from_yaml("").unwrap(), Declaration::default());
    assert_eq!(
        Declaration::from_yaml("# nothing yet\n\n").unwrap(),
        Declaration::default()
    );
}

#[test]
fn bad_role_names_line_field_and_fix() {
    let error = error_of("name: x\npurpose: y\nrole: owner\n");
    assert_eq!(error.line(), Some(3));
    assert_eq!(error.field(), Some("role"));
    assert_eq!(
        error.to_string(),
        "secruna.yaml line 3: `role` is `owner`: expected provider or deployer"
    );
}

#[test]
fn unknown_field_names_line_and_field() {
    let error = error_of("name: x\nrisk: high\n");
    assert_eq!(error.line(), Some(2));
    assert_eq!(error.field(), Some("risk"));
    let message = error.to_string();
    assert!(
        message.starts_with("secruna.yaml line 2: unknown field `risk`: remove it or use one of name, purpose, role,"),
        "{message}"
    );
}

#[test]
fn unknown_nested_field_names_dotted_path() {
    let error = error_of("logging:\n  enabled: true\n  keep_days: 30\n");
    assert_eq!(error.line(), Some(3));
    assert_eq!(error.field(), Some("logging.keep_days"));
    assert_eq!(
        error.to_string(),
        "secruna.yaml line 3: unknown field `logging.keep_days`: remove it or use one of enabled or retention_days"
    );
}

#[test]
fn wrong_type_names_line_and_field() {
    let error = error_of("name: x\ninteracts_with_people: maybe\n");
    assert_eq!(error.line(), Some(2));
    assert_eq!(error.field(), Some("interacts_with_people"));
    assert_eq!(
        error.to_string(),
        "secruna.yaml line 2: `interacts_with_people` is string \"maybe\": expected a boolean"
    );
}

#[test]
fn negative_retention_names_nested_field() {
    let error = error_of("logging:\n  retention_days: -3\n");
    assert_eq!(error.line(), Some(2));
    assert_eq!(error.field(), Some("logging.retention_days"));
    assert_eq!(
        error.to_string(),
        "secruna.yaml line 2: `logging.retention_days` is integer `-3`: expected a whole number from 0 to 4294967295"
    );
}

#[test]
fn bad_article_5_entry_names_list_index() {
    let error = error_of("article_5:\n  - manipulation\n  - mind-control\n");
    assert_eq!(error.line(), Some(3));
    assert_eq!(error.field(), Some("article_5[1]"));
    let message = error.to_string();
    assert!(
        message.starts_with("secruna.yaml line 3: `article_5[1]` is `mind-control`: expected one of manipulation, exploitation-of-vulnerabilities,"),
        "{message}"
    );
}

#[test]
fn bad_annex_iii_point_names_valid_points() {
    let error = error_of("role: deployer\nannex_iii: 4c\n");
    assert_eq!(error.line(), Some(2));
    assert_eq!(error.field(), Some("annex_iii"));
    assert_eq!(
        error.to_string(),
        "secruna.yaml line 2: `annex_iii`: annex_iii entry `4c` is not a point of Annex III area 4 (employment): expected one of 4a, 4b"
    );
}

#[test]
fn bad_annex_iii_slug_lists_accepted_forms() {
    let error = error_of("annex_iii: hiring\n");
    assert_eq!(error.line(), Some(1));
    assert!(
        error
            .to_string()
            .contains("annex_iii entry `hiring` is invalid: expected an area slug")
    );
}

#[test]
fn list_document_is_rejected() {
    let error = error_of("- name: x\n");
    assert_eq!(error.line(), Some(1));
    assert_eq!(error.field(), None);
    assert_eq!(
        error.to_string(),
        "secruna.yaml line 1: the document must be a mapping of fields such as `name:` and `purpose:`"
    );
}

#[test]
fn malformed_yaml_reports_line() {
    let error = error_of("name: x\npurpose: [unclosed\n");
    assert!(error.line().is_some());
    assert!(
        error.to_string().starts_with("secruna.yaml line "),
        "{error}"
    );
}

#[test]
fn duplicate_key_is_rejected() {
    let error = error_of("role: provider\nrole: deployer\n");
    assert_eq!(error.line(), Some(2));
    assert_eq!(error.field(), Some("role"));
    assert_eq!(
        error.to_string(),
        "secruna.yaml line 2: `role` appears twice: keep one of them"
    );
}

#[test]
fn attributes_round_trip_full_declaration() {
    let declaration = Declaration::from_yaml(FULL).unwrap();
    let attributes = declaration.to_attributes();
    assert_eq!(attributes["role"], "provider");
    assert_eq!(attributes["annex_iii"], r#"["4a","education"]"#);
    assert_eq!(attributes["article_5"], "[]");
    assert_eq!(attributes["markets"], r#"["eu","uk"]"#);
    assert_eq!(attributes["logging.enabled"], "true");
    assert_eq!(attributes["logging.retention_days"], "365");
    assert_eq!(
        attributes["evidence"],
        r#"[{"id":"risk-register"},{"document":"docs/annex-iv.md","id":"technical-file"}]"#
    );
    assert_eq!(attributes.len(), 26);
    assert_eq!(
        Declaration::from_attributes(&attributes).unwrap(),
        declaration
    );
}

#[test]
fn attributes_round_trip_text_that_looks_like_json() {
    let declaration = Declaration {
        name: Some("true".into()),
        purpose: Some("[\"not a list\", 3]".into()),
        ..Declaration::default()
    };
    let attributes = declaration.to_attributes();
    assert_eq!(attributes.len(), 2);
    assert_eq!(
        Declaration::from_attributes(&attributes).unwrap(),
        declaration
    );
}

#[test]
fn attributes_of_empty_declaration_are_empty() {
    assert!(Declaration::default().to_attributes().is_empty());
    assert_eq!(
        Declaration::from_attributes(&BTreeMap::new()).unwrap(),
        Declaration::default()
    );
}

#[test]
fn from_attributes_ignores_finding_keys() {
    let attributes = BTreeMap::from([
        ("category".to_owned(), "declaration".to_owned()),
        ("role".to_owned(), "deployer".to_owned()),
    ]);
    let declaration = Declaration::from_attributes(&attributes).unwrap();
    assert_eq!(
        declaration,
        Declaration {
            role: Some(Role::Deployer),
            ..Declaration::default()
        }
    );
}

#[test]
fn from_attributes_names_invalid_key() {
    let attributes = BTreeMap::from([("logging.enabled".to_owned(), "yes".to_owned())]);
    let error = Declaration::from_attributes(&attributes).unwrap_err();
    assert_eq!(error.field(), Some("logging.enabled"));
    let attributes = BTreeMap::from([("role".to_owned(), "owner".to_owned())]);
    let error = Declaration::from_attributes(&attributes).unwrap_err();
    assert_eq!(error.field(), Some("role"));
    assert!(
        error
            .to_string()
            .starts_with("declaration attribute `role` is invalid: unknown variant `owner`")
    );
}

#[test]
fn negative_training_flops_is_rejected() {
    let error = error_of("name: x\ngpai_training_flops: -1e20\n");
    assert_eq!(error.line(), Some(2));
    assert_eq!(error.field(), Some("gpai_training_flops"));
    assert_eq!(
        error.to_string(),
        "secruna.yaml line 2: `gpai_training_flops` is -1e20: expected a non-negative number of operations such as 1e25"
    );
}

#[test]
fn nan_training_flops_is_rejected() {
    let error = error_of("gpai_training_flops: .nan\n");
    assert_eq!(error.line(), Some(1));
    assert_eq!(error.field(), Some("gpai_training_flops"));
}

#[test]
fn scalar_article_5_asks_for_list() {
    let error = error_of("article_5: manipulation\n");
    assert_eq!(
        error.to_string(),
        "secruna.yaml line 1: `article_5` is string \"manipulation\": expected a list such as [a, b]"
    );
}

#[test]
fn none_inside_annex_iii_list_is_rejected() {
    let error = error_of("annex_iii: [4a, none]\n");
    assert_eq!(error.field(), Some("annex_iii"));
    assert!(
        error
            .to_string()
            .ends_with("`none` cannot be a list entry: write `annex_iii: none` or `annex_iii: []`"),
        "{error}"
    );
}

#[test]
fn deep_flow_nesting_is_rejected_quickly() {
    let levels = 30_000;
    let text = format!("name: {}{}\n", "[".repeat(levels), "]".repeat(levels));
    let started = std::time::Instant::now();
    let error = Declaration::from_yaml(&text).expect_err("deep nesting must be rejected");
    assert!(started.elapsed() < std::time::Duration::from_secs(1));
    assert_eq!(error.line(), Some(1));
    assert!(error.to_string().contains("more than 64 levels"), "{error}");
}

#[test]
fn deep_nesting_reports_its_line() {
    let text = format!(
        "name: x\nmarkets: {}{}\n",
        "{a: ".repeat(65),
        "}".repeat(65)
    );
    let error = Declaration::from_yaml(&text).expect_err("deep nesting must be rejected");
    assert_eq!(error.line(), Some(2));
}

#[test]
fn brackets_in_strings_and_comments_do_not_count() {
    let brackets = "[".repeat(100);
    let text =
        format!("name: \"{brackets}\"\npurpose: '{brackets} it''s'\nrole: provider # {brackets}\n");
    let declaration = Declaration::from_yaml(&text).expect("brackets in strings are text");
    assert_eq!(declaration.name.as_deref(), Some(brackets.as_str()));
}

#[test]
fn quote_inside_plain_text_does_not_hide_brackets() {
    let text = format!("markets: [eu '{}{}]\n", "[".repeat(70), "]".repeat(70));
    let error = Declaration::from_yaml(&text).expect_err("deep nesting must be rejected");
    assert_eq!(error.line(), Some(1));
}

#[test]
fn nesting_at_the_limit_is_parsed() {
    let text = format!("name: {}{}\n", "[".repeat(64), "]".repeat(64));
    let error = Declaration::from_yaml(&text).expect_err("a list is not a name");
    assert_eq!(error.field(), Some("name"));
}

#[test]
fn oversized_declaration_is_rejected() {
    let text = format!("name: x\npurpose: {}\n", "a".repeat(70 * 1024));
    let error = Declaration::from_yaml(&text).expect_err("size limit");
    assert_eq!(error.line(), Some(2));
    assert!(error.to_string().contains("65536 bytes"), "{error}");
}

#[test]
fn bracket_file_over_size_limit_is_rejected_quickly() {
    let levels = 60_000;
    let text = format!("name: {}{}\n", "[".repeat(levels), "]".repeat(levels));
    let started = std::time::Instant::now();
    let error = Declaration::from_yaml(&text).expect_err("size limit");
    assert!(started.elapsed() < std::time::Duration::from_secs(1));
    assert!(error.to_string().contains("65536 bytes"), "{error}");
}
