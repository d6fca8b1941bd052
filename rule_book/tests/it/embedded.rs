//! The rule book compiled into the crate.

use std::path::Path;

use rule_book::{RuleBook, check_dir};

const EU_RULE_IDS: [&str; 19] = [
    "eu-ai-act/art-10-data-governance",
    "eu-ai-act/art-11-technical-documentation",
    "eu-ai-act/art-12-record-keeping",
    "eu-ai-act/art-13-instructions-for-use",
    "eu-ai-act/art-14-human-oversight",
    "eu-ai-act/art-15-accuracy-robustness-security",
    "eu-ai-act/art-16-17-qms-conformity",
    "eu-ai-act/art-26-deployer-duties",
    "eu-ai-act/art-27-fria",
    "eu-ai-act/art-4-ai-literacy",
    "eu-ai-act/art-49-registration",
    "eu-ai-act/art-5-prohibited-practices",
    "eu-ai-act/art-50-transparency",
    "eu-ai-act/art-53-gpai-provider",
    "eu-ai-act/art-55-gpai-systemic-risk",
    "eu-ai-act/art-6-high-risk-classification",
    "eu-ai-act/art-72-post-market-monitoring",
    "eu-ai-act/art-73-serious-incidents",
    "eu-ai-act/art-9-risk-management",
];

/// Version hash of `v1/` as committed. A change to any rule file changes it, so this test makes
/// every rule-book edit a deliberate one: update the constant together with the rules.
const EXPECTED_VERSION_HASH: &str =
    "3aae81212a1e10b8ced6e4cb7239116b6dd2967ca1a64413faaceb626226a436";

fn v1_dir() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/v1"))
}

#[test]
fn embedded_book_has_nineteen_eu_rules() {
    let book = RuleBook::embedded().unwrap();
    let eu = book.framework("eu-ai-act").unwrap();
    let ids: Vec<&str> = eu.rules.iter().map(|rule| rule.id.as_str()).collect();
    assert_eq!(ids, EU_RULE_IDS);
    assert_eq!(
        eu.verdicts,
        ["pass", "fail", "needs_evidence", "not_applicable"]
    );
    assert_eq!(eu.jurisdiction.as_deref(), Some("eu"));
}

#[test]
fn embedded_book_matches_folder_on_disk() {
    let embedded = RuleBook::embedded().unwrap();
    let on_disk = RuleBook::load_dir(v1_dir()).unwrap();
    assert_eq!(embedded.version_hash(), on_disk.version_hash());
    assert_eq!(embedded.version_hash().len(), 64);
    assert!(
        embedded
            .version_hash()
            .chars()
            .all(|c| c.is_ascii_hexdigit())
    );
}

#[test]
fn version_hash_matches_golden_value() {
    let book = RuleBook::embedded().unwrap();
    assert_eq!(
        book.version_hash(),
        EXPECTED_VERSION_HASH,
        "rule files changed; if intended, update EXPECTED_VERSION_HASH"
    );
}

#[test]
fn version_hash_is_stable_across_loads() {
    let first = RuleBook::embedded().unwrap();
    let second = RuleBook::embedded().unwrap();
    assert_eq!(first.version_hash(), second.version_hash());
}

#[test]
fn version_hash_changes_with_one_byte() {
    let copy = tempfile::tempdir().unwrap();
    let target = copy.path().join("eu-ai-act");
    std::fs::create_dir(&target).unwrap();
    for entry in std::fs::read_dir(v1_dir().join("eu-ai-act")).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(&path, target.join(path.file_name().unwrap())).unwrap();
    }
    let original = RuleBook::load_dir(copy.path())
        .unwrap()
        .version_hash()
        .to_owned();
    assert_eq!(original, RuleBook::embedded().unwrap().version_hash());

    let rule = target.join("art-4-ai-literacy.yaml");
    let mut text = std::fs::read_to_string(&rule).unwrap();
    text.push('\n');
    std::fs::write(&rule, text).unwrap();
    let changed = RuleBook::load_dir(copy.path()).unwrap();
    assert_ne!(changed.version_hash(), original);
}

#[test]
fn every_rule_cites_an_article_and_remediation() {
    let book = RuleBook::embedded().unwrap();
    for rule in &book.framework("eu-ai-act").unwrap().rules {
        assert!(
            rule.reference.starts_with("Art "),
            "{}: {}",
            rule.id,
            rule.reference
        );
        assert!(!rule.remediation.is_empty(), "{}", rule.id);
        assert!(!rule.evidence.is_empty(), "{} lists no evidence", rule.id);
    }
}

#[test]
fn check_dir_counts_rules_per_framework() {
    let report = check_dir(v1_dir()).unwrap();
    assert_eq!(report.frameworks.len(), 1);
    assert_eq!(report.frameworks[0].slug, "eu-ai-act");
    assert_eq!(report.frameworks[0].rules, 19);
    assert_eq!(report.files, 20);
    assert_eq!(
        report.version_hash,
        RuleBook::embedded().unwrap().version_hash()
    );
    assert!(report.to_string().starts_with("eu-ai-act: 19 rules ("));
}

#[test]
fn check_dir_reports_missing_folder() {
    let missing = tempfile::tempdir().unwrap().path().join("absent");
    let error = check_dir(&missing).unwrap_err();
    assert!(matches!(error, rule_book::LoadError::Io { .. }), "{error}");
    assert!(error.to_string().contains("absent"), "{error}");
}
