//! Every invalid rule book names file, line and field, and nothing is loaded.

use std::path::Path;
use std::time::{Duration, Instant};

use rule_book::{ALIAS_EXPANSION_LIMIT, LoadError, RuleBook};

const FRAMEWORK: &str = "\
slug: demo
title: Demo
version: '1'
description: Framework for loader tests.
source: {title: Demo text, url: 'https://example.invalid/demo'}
verdicts:
  - {id: pass, description: passes}
  - {id: fail, description: fails}
  - {id: needs_evidence, description: lacks facts}
  - {id: not_applicable, description: does not apply}
outcomes: {pass: pass, fail: fail, needs_evidence: needs_evidence, not_applicable: not_applicable}
";

/// A valid rule; tests edit one line of it.
const RULE: &str = "\
id: demo/logging
framework: demo
title: Logs are kept
reference: Art 1
severity: high
effective_from: 2025-01-01
applies_when: {fact: system.role, equals: provider}
checks:
  - id: on
    description: logging is on
    require: {fact: system.logging_enabled, is_true: true}
evidence:
  - {id: log-schema, description: Log schema.}
remediation: Turn logging on.
";

/// Writes `demo/framework.yaml` plus `files` under a new folder and loads it.
fn load(files: &[(&str, &str)]) -> Result<RuleBook, LoadError> {
    let root = tempfile::tempdir().unwrap();
    write(root.path(), "demo/framework.yaml", FRAMEWORK);
    for (path, text) in files {
        write(root.path(), path, text);
    }
    RuleBook::load_dir(root.path())
}

fn write(root: &Path, path: &str, text: &str) {
    let full = root.join(path);
    std::fs::create_dir_all(full.parent().unwrap()).unwrap();
    std::fs::write(full, text).unwrap();
}

fn load_error(files: &[(&str, &str)]) -> LoadError {
    match load(files) {
        Ok(_) => panic!("expected the load to fail"),
        Err(error) => error,
    }
}

fn assert_names(error: &LoadError, file: &str, line: usize, field: &str) {
    assert_eq!(error.file(), Some(file), "{error}");
    assert_eq!(error.line(), Some(line), "{error}");
    assert_eq!(error.field(), Some(field), "{error}");
    let text = error.to_string();
    assert!(text.starts_with(&format!("{file}:{line}: ")), "{text}");
}

#[test]
fn valid_fixture_loads() {
    let book = load(&[("demo/logging.yaml", RULE)]).unwrap();
    assert_eq!(book.framework("demo").unwrap().rules.len(), 1);
}

#[test]
fn unknown_field_names_the_key() {
    let text = RULE.replace("reference: Art 1\n", "reference: Art 1\nseverity_note: x\n");
    let error = load_error(&[("demo/logging.yaml", &text)]);
    assert_names(&error, "demo/logging.yaml", 5, "severity_note");
    assert!(
        error.to_string().contains("unknown field `severity_note`"),
        "{error}"
    );
}

#[test]
fn unknown_field_in_nested_check() {
    let text = RULE.replace(
        "    description: logging is on\n",
        "    description: logging is on\n    weight: 3\n",
    );
    let error = load_error(&[("demo/logging.yaml", &text)]);
    assert_names(&error, "demo/logging.yaml", 11, "checks.0.weight");
}

#[test]
fn wrong_type_names_the_field() {
    let text = RULE.replace(
        "  - {id: log-schema, description: Log schema.}",
        "  - {id: log-schema, description: [a, b]}",
    );
    let error = load_error(&[("demo/logging.yaml", &text)]);
    assert_names(&error, "demo/logging.yaml", 13, "evidence.0.description");
}

#[test]
fn wrong_operator_value_type_names_the_operator() {
    let text = RULE.replace("is_true: true}", "is_true: yes}");
    let error = load_error(&[("demo/logging.yaml", &text)]);
    assert_names(&error, "demo/logging.yaml", 11, "checks.0.require.is_true");
}

#[test]
fn missing_required_field_names_it() {
    let text = RULE.replace("remediation: Turn logging on.\n", "");
    let error = load_error(&[("demo/logging.yaml", &text)]);
    assert_names(&error, "demo/logging.yaml", 1, "remediation");
    assert!(
        error
            .to_string()
            .contains("missing required field `remediation`"),
        "{error}"
    );
}

#[test]
fn missing_check_field_names_item() {
    let text = RULE.replace("    description: logging is on\n", "");
    let error = load_error(&[("demo/logging.yaml", &text)]);
    assert_names(&error, "demo/logging.yaml", 9, "checks.0.description");
}

#[test]
fn duplicate_top_level_key_is_rejected() {
    let text = format!("{RULE}title: Another title\n");
    let error = load_error(&[("demo/logging.yaml", &text)]);
    assert!(matches!(error, LoadError::DuplicateKey { .. }), "{error}");
    assert_names(&error, "demo/logging.yaml", 15, "title");
}

#[test]
fn duplicate_key_inside_flow_mapping_is_rejected() {
    // serde would keep the last `equals` without complaint.
    let text = RULE.replace(
        "{fact: system.role, equals: provider}",
        "{fact: system.role, equals: provider, equals: deployer}",
    );
    let error = load_error(&[("demo/logging.yaml", &text)]);
    assert!(matches!(error, LoadError::DuplicateKey { .. }), "{error}");
    assert_names(&error, "demo/logging.yaml", 7, "applies_when.equals");
}

#[test]
fn duplicate_key_in_framework_metadata_is_rejected() {
    let root = tempfile::tempdir().unwrap();
    write(
        root.path(),
        "demo/framework.yaml",
        &format!("{FRAMEWORK}title: Again\n"),
    );
    let error = RuleBook::load_dir(root.path()).unwrap_err();
    assert_names(&error, "demo/framework.yaml", 12, "title");
}

#[test]
fn duplicate_rule_id_across_files_is_rejected() {
    let error = load_error(&[("demo/a.yaml", RULE), ("demo/b.yaml", RULE)]);
    assert_names(&error, "demo/b.yaml", 1, "id");
    assert!(
        error.to_string().contains("already defined in demo/a.yaml"),
        "{error}"
    );
}

#[test]
fn duplicate_rule_id_within_a_list_is_rejected() {
    let indented: String = RULE.lines().map(|line| format!("  {line}\n")).collect();
    let item = indented.replacen("  id:", "- id:", 1);
    let text = format!("{item}{item}");
    let error = load_error(&[("demo/list.yaml", &text)]);
    assert_names(&error, "demo/list.yaml", 15, "1.id");
}

#[test]
fn list_file_loads_each_rule() {
    let indented: String = RULE.lines().map(|line| format!("  {line}\n")).collect();
    let first = indented.replacen("  id:", "- id:", 1);
    let second = first.replace("demo/logging", "demo/logging-two");
    let book = load(&[("demo/list.yaml", &format!("{first}{second}"))]).unwrap();
    let ids: Vec<&str> = book
        .framework("demo")
        .unwrap()
        .rules
        .iter()
        .map(|r| r.id.as_str())
        .collect();
    assert_eq!(ids, ["demo/logging", "demo/logging-two"]);
}

#[test]
fn id_not_matching_folder_is_rejected() {
    let text = RULE.replace("id: demo/logging", "id: other/logging");
    let error = load_error(&[("demo/logging.yaml", &text)]);
    assert_names(&error, "demo/logging.yaml", 1, "id");
    assert!(
        error.to_string().contains("must start with `demo/`"),
        "{error}"
    );
}

#[test]
fn framework_field_not_matching_folder_is_rejected() {
    let text = RULE.replace("framework: demo", "framework: other");
    let error = load_error(&[("demo/logging.yaml", &text)]);
    assert_names(&error, "demo/logging.yaml", 2, "framework");
}

#[test]
fn invalid_calendar_date_is_rejected() {
    let text = RULE.replace("2025-01-01", "2025-02-30");
    let error = load_error(&[("demo/logging.yaml", &text)]);
    assert_names(&error, "demo/logging.yaml", 6, "effective_from");
}

#[test]
fn unknown_fact_name_is_rejected() {
    let text = RULE.replace("system.logging_enabled", "system.loging_enabled");
    let error = load_error(&[("demo/logging.yaml", &text)]);
    assert_names(&error, "demo/logging.yaml", 11, "checks.0.require.fact");
    assert!(
        error
            .to_string()
            .contains("unknown fact `system.loging_enabled`"),
        "{error}"
    );
}

#[test]
fn impossible_fact_value_is_rejected() {
    let text = RULE.replace("equals: provider", "equals: provder");
    let error = load_error(&[("demo/logging.yaml", &text)]);
    assert_names(&error, "demo/logging.yaml", 7, "applies_when.equals");
}

#[test]
fn operator_of_wrong_type_is_rejected() {
    let text = RULE.replace(
        "{fact: system.role, equals: provider}",
        "{fact: system.role, gte: 3}",
    );
    let error = load_error(&[("demo/logging.yaml", &text)]);
    assert_names(&error, "demo/logging.yaml", 7, "applies_when.gte");
}

#[test]
fn predicate_with_two_operators_is_rejected() {
    let text = RULE.replace("is_true: true}", "is_true: true, is_false: true}");
    let error = load_error(&[("demo/logging.yaml", &text)]);
    assert_names(&error, "demo/logging.yaml", 11, "checks.0.require");
}

#[test]
fn framework_declared_fact_is_accepted() {
    let root = tempfile::tempdir().unwrap();
    let framework = format!(
        "{FRAMEWORK}facts:\n  - {{name: contract.level, type: number, description: Risk level.}}\n"
    );
    write(root.path(), "demo/framework.yaml", &framework);
    write(
        root.path(),
        "demo/r.yaml",
        &RULE.replace(
            "{fact: system.role, equals: provider}",
            "{fact: contract.level, gte: 2}",
        ),
    );
    let book = RuleBook::load_dir(root.path()).unwrap();
    assert_eq!(book.framework("demo").unwrap().rules.len(), 1);
}

#[test]
fn alias_bomb_is_rejected_quickly() {
    let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for level in 1..=9 {
        let previous = format!("*a{}", level - 1);
        let items = [previous.as_str(); 10].join(", ");
        text.push_str(&format!("a{level}: &a{level} [{items}]\n"));
    }
    let started = Instant::now();
    let error = load_error(&[("demo/bomb.yaml", &text)]);
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "took {:?}",
        started.elapsed()
    );
    assert!(
        matches!(
            error,
            LoadError::AliasLimit {
                limit: ALIAS_EXPANSION_LIMIT,
                ..
            }
        ),
        "{error}"
    );
    assert_eq!(error.file(), Some("demo/bomb.yaml"));
    assert_eq!(error.line(), Some(4));
    assert_eq!(error.field(), Some("a3.7"));
    assert!(
        error
            .to_string()
            .contains("aliases expand to more than 10000 nodes"),
        "{error}"
    );
}

#[test]
fn syntax_error_names_line() {
    let text = RULE.replace("severity: high", "severity: [high");
    let error = load_error(&[("demo/logging.yaml", &text)]);
    assert!(matches!(error, LoadError::Syntax { .. }), "{error}");
    assert_eq!(error.file(), Some("demo/logging.yaml"));
    assert!(error.line().unwrap() >= 5, "{error}");
}

#[test]
fn missing_framework_metadata_is_rejected() {
    let root = tempfile::tempdir().unwrap();
    write(root.path(), "demo/logging.yaml", RULE);
    let error = RuleBook::load_dir(root.path()).unwrap_err();
    assert_eq!(error.file(), Some("demo/framework.yaml"));
}

#[test]
fn empty_folder_is_rejected() {
    let root = tempfile::tempdir().unwrap();
    let error = RuleBook::load_dir(root.path()).unwrap_err();
    assert!(matches!(error, LoadError::Empty { .. }), "{error}");
}

#[test]
fn nested_rule_folder_is_rejected() {
    let error = load_error(&[("demo/sub/logging.yaml", RULE)]);
    assert_eq!(error.file(), Some("demo/sub/logging.yaml"));
}

#[test]
fn verdict_word_outside_vocabulary_is_rejected() {
    let text = format!("{RULE}outcomes: {{fail: broken}}\n");
    let error = load_error(&[("demo/logging.yaml", &text)]);
    assert_names(&error, "demo/logging.yaml", 15, "outcomes.fail");
}

#[test]
fn deeply_nested_document_is_rejected() {
    let depth = 50_000;
    let text = format!("{}x{}", "[".repeat(depth), "]".repeat(depth));
    let error = load_error(&[("demo/deep.yaml", &text)]);
    assert_eq!(error.file(), Some("demo/deep.yaml"));
    assert!(
        error.to_string().contains("recursion limit exceeded"),
        "{error}"
    );
}

#[test]
fn non_utf8_file_is_rejected() {
    let root = tempfile::tempdir().unwrap();
    write(root.path(), "demo/framework.yaml", FRAMEWORK);
    std::fs::write(root.path().join("demo/latin1.yaml"), b"title: caf\xe9\n").unwrap();
    let error = RuleBook::load_dir(root.path()).unwrap_err();
    assert_eq!(error.file(), Some("demo/latin1.yaml"));
    assert!(error.to_string().contains("not valid UTF-8"), "{error}");
}

#[test]
fn invalid_override_date_is_rejected() {
    let overrides = "effective_overrides:\n  - when: {fact: system.annex_i_product, is_true: true}\n    from: 2028-13-01\n";
    let text = RULE.replace("applies_when:", &format!("{overrides}applies_when:"));
    let error = load_error(&[("demo/logging.yaml", &text)]);
    assert_names(&error, "demo/logging.yaml", 9, "effective_overrides.0.from");
}

#[test]
fn framework_vocabulary_names_verdicts() {
    let root = tempfile::tempdir().unwrap();
    let framework = FRAMEWORK
        .replace(
            "{id: pass, description: passes}",
            "{id: compliant, description: passes}",
        )
        .replace(
            "{id: fail, description: fails}",
            "{id: breach, description: fails}",
        )
        .replace(
            "outcomes: {pass: pass, fail: fail,",
            "outcomes: {pass: compliant, fail: breach,",
        );
    write(root.path(), "demo/framework.yaml", &framework);
    let rule = format!("{RULE}outcomes: {{needs_evidence: breach}}\n");
    write(root.path(), "demo/logging.yaml", &rule);
    let book = RuleBook::load_dir(root.path()).unwrap();

    let on = chrono::NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
    let mut facts = rule_book::Facts::new();
    facts.set("system.role", "provider");
    facts.set("system.logging_enabled", true);
    facts.set("system.evidence", ["log-schema"]);
    assert_eq!(
        book.evaluate("demo", &facts, on).unwrap()[0].status,
        "compliant"
    );

    facts.set("system.logging_enabled", false);
    assert_eq!(
        book.evaluate("demo", &facts, on).unwrap()[0].status,
        "breach"
    );

    facts.remove("system.logging_enabled");
    assert_eq!(
        book.evaluate("demo", &facts, on).unwrap()[0].status,
        "breach"
    );

    facts.set("system.role", "deployer");
    assert_eq!(
        book.evaluate("demo", &facts, on).unwrap()[0].status,
        "not_applicable"
    );
}
