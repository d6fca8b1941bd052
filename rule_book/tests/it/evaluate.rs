//! Truth tables of the EU AI Act pack.

use chrono::NaiveDate;
use rule_book::{EvalError, Facts, RuleBook, Verdict};

fn date(text: &str) -> NaiveDate {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
}

/// Returns a day on which every rule of the pack is in force.
fn in_force() -> NaiveDate {
    date("2028-09-01")
}

fn evaluate(facts: &Facts) -> Vec<Verdict> {
    RuleBook::embedded()
        .unwrap()
        .evaluate("eu-ai-act", facts, in_force())
        .unwrap()
}

fn verdict<'a>(verdicts: &'a [Verdict], name: &str) -> &'a Verdict {
    let id = format!("eu-ai-act/{name}");
    verdicts
        .iter()
        .find(|verdict| verdict.rule_id == id)
        .unwrap_or_else(|| panic!("no verdict for {id}"))
}

fn status<'a>(verdicts: &'a [Verdict], name: &str) -> &'a str {
    &verdict(verdicts, name).status
}

/// Builds facts for a high-risk employment system (Annex III point 4a) with no derogation.
fn high_risk(role: &str) -> Facts {
    let mut facts = Facts::new();
    facts.set("system.role", role);
    facts.set("system.markets", ["eu"]);
    facts.set("system.annex_iii", ["4a"]);
    facts.set("system.annex_iii_area", "employment");
    facts.set("system.annex_i_product", false);
    facts.set("system.art6_3_derogation", false);
    facts.set("system.prohibited_practice_flags", Vec::<String>::new());
    facts.set("system.is_gpai_model", false);
    facts
}

/// Builds facts for a chatbot that is not high-risk.
fn minimal_chatbot() -> Facts {
    let mut facts = Facts::new();
    facts.set("system.role", "provider");
    facts.set("system.markets", ["eu"]);
    facts.set("system.annex_iii", Vec::<String>::new());
    facts.set("system.annex_i_product", false);
    facts.set("system.prohibited_practice_flags", Vec::<String>::new());
    facts.set("system.is_gpai_model", false);
    facts.set("system.interacts_with_people", true);
    facts.set("system.generates_synthetic_content", false);
    facts
}

const PROVIDER_HIGH_RISK_RULES: [&str; 10] = [
    "art-9-risk-management",
    "art-10-data-governance",
    "art-11-technical-documentation",
    "art-12-record-keeping",
    "art-13-instructions-for-use",
    "art-14-human-oversight",
    "art-15-accuracy-robustness-security",
    "art-16-17-qms-conformity",
    "art-72-post-market-monitoring",
    "art-73-serious-incidents",
];

#[test]
fn one_verdict_per_rule_in_id_order() {
    let verdicts = evaluate(&Facts::new());
    assert_eq!(verdicts.len(), 19);
    let ids: Vec<&str> = verdicts.iter().map(|v| v.rule_id.as_str()).collect();
    let mut sorted = ids.clone();
    sorted.sort_unstable();
    assert_eq!(ids, sorted);
}

#[test]
fn no_facts_gives_no_pass() {
    for verdict in evaluate(&Facts::new()) {
        assert_ne!(verdict.status, "pass", "{}", verdict.rule_id);
        assert_ne!(verdict.status, "fail", "{}", verdict.rule_id);
    }
}

#[test]
fn high_risk_provider_without_evidence_needs_evidence() {
    let verdicts = evaluate(&high_risk("provider"));
    for name in PROVIDER_HIGH_RISK_RULES {
        assert_eq!(status(&verdicts, name), "needs_evidence", "{name}");
    }
    let art9 = verdict(&verdicts, "art-9-risk-management");
    assert_eq!(
        art9.evidence_required,
        ["risk-management-plan", "risk-register", "risk-test-results"]
    );
    assert_eq!(
        art9.reasons,
        ["evidence not yet provided: risk-management-plan, risk-register, risk-test-results"]
    );
    assert_eq!(art9.severity, "high");
    assert_eq!(art9.reference, "Art 9");
    assert_eq!(art9.effective_from, date("2027-12-02"));
    assert!(!art9.needs_review);
}

#[test]
fn provider_skips_deployer_duties() {
    let verdicts = evaluate(&high_risk("provider"));
    assert_eq!(
        status(&verdicts, "art-26-deployer-duties"),
        "not_applicable"
    );
    assert_eq!(status(&verdicts, "art-27-fria"), "not_applicable");
    assert_eq!(status(&verdicts, "art-49-registration"), "needs_evidence");
}

#[test]
fn high_risk_deployer_gets_deployer_duties_only() {
    let verdicts = evaluate(&high_risk("deployer"));
    assert_eq!(
        status(&verdicts, "art-26-deployer-duties"),
        "needs_evidence"
    );
    assert_eq!(
        status(&verdicts, "art-73-serious-incidents"),
        "needs_evidence"
    );
    for name in &PROVIDER_HIGH_RISK_RULES[..9] {
        assert_eq!(status(&verdicts, name), "not_applicable", "{name}");
    }
    // Employment systems need a notice to workers' representatives.
    let art26 = verdict(&verdicts, "art-26-deployer-duties");
    assert!(
        art26
            .evidence_required
            .contains(&"worker-information".to_owned())
    );
    // Public-body status is unknown, so the impact-assessment duty cannot be ruled out.
    let art27 = verdict(&verdicts, "art-27-fria");
    assert_eq!(art27.status, "needs_evidence");
    assert!(
        art27
            .reasons
            .iter()
            .any(|reason| reason == "fact tenant.public_body is unknown"),
        "{:?}",
        art27.reasons
    );
}

#[test]
fn fria_applies_to_public_body_deployers() {
    let mut facts = high_risk("deployer");
    facts.set("tenant.public_body", true);
    let verdicts = evaluate(&facts);
    let art27 = verdict(&verdicts, "art-27-fria");
    assert_eq!(art27.status, "needs_evidence");
    assert_eq!(art27.evidence_required, ["fria", "fria-authority-notice"]);
    assert_eq!(status(&verdicts, "art-49-registration"), "needs_evidence");

    facts.set("system.annex_iii", ["2"]);
    let verdicts = evaluate(&facts);
    assert_eq!(status(&verdicts, "art-27-fria"), "not_applicable");
}

#[test]
fn fria_does_not_apply_to_private_employment_deployer() {
    let mut facts = high_risk("deployer");
    facts.set("tenant.public_body", false);
    facts.set("tenant.public_service", false);
    assert_eq!(status(&evaluate(&facts), "art-27-fria"), "not_applicable");
}

#[test]
fn minimal_chatbot_gets_transparency_duty() {
    let verdicts = evaluate(&minimal_chatbot());
    let art50 = verdict(&verdicts, "art-50-transparency");
    assert_eq!(art50.status, "needs_evidence");
    assert_eq!(art50.evidence_required, ["ai-interaction-notice"]);
    assert_eq!(art50.severity, "medium");
    for name in PROVIDER_HIGH_RISK_RULES {
        assert_eq!(status(&verdicts, name), "not_applicable", "{name}");
    }
    assert_eq!(
        status(&verdicts, "art-6-high-risk-classification"),
        "not_applicable"
    );
    assert_eq!(status(&verdicts, "art-53-gpai-provider"), "not_applicable");
}

#[test]
fn minimal_chatbot_with_notice_passes_transparency() {
    let mut facts = minimal_chatbot();
    facts.set("system.evidence", ["ai-interaction-notice"]);
    let art50 = verdict(&evaluate(&facts), "art-50-transparency").clone();
    assert_eq!(art50.status, "pass");
    assert!(art50.evidence_required.is_empty());
}

#[test]
fn prohibited_flag_fails_article_5() {
    let mut facts = minimal_chatbot();
    facts.set("system.prohibited_practice_flags", ["social_scoring"]);
    facts.set("system.evidence", ["prohibited-practice-attestation"]);
    let art5 = verdict(&evaluate(&facts), "art-5-prohibited-practices").clone();
    assert_eq!(art5.status, "fail");
    assert_eq!(art5.severity, "critical");
    assert!(
        art5.reasons[0].starts_with("check no-prohibited-practice failed"),
        "{:?}",
        art5.reasons
    );
    assert!(art5.needs_review);
}

#[test]
fn no_prohibited_flag_with_attestation_passes_article_5() {
    let mut facts = minimal_chatbot();
    facts.set("system.evidence", ["prohibited-practice-attestation"]);
    assert_eq!(
        status(&evaluate(&facts), "art-5-prohibited-practices"),
        "pass"
    );
}

#[test]
fn unknown_prohibited_flags_need_evidence() {
    let mut facts = minimal_chatbot();
    facts.remove("system.prohibited_practice_flags");
    facts.set("system.evidence", ["prohibited-practice-attestation"]);
    let art5 = verdict(&evaluate(&facts), "art-5-prohibited-practices").clone();
    assert_eq!(art5.status, "needs_evidence");
    assert_eq!(
        art5.reasons,
        [
            "check no-prohibited-practice cannot run: fact system.prohibited_practice_flags is unknown"
        ]
    );
}

/// Builds facts for a high-risk system that meets every Art 12 duty.
fn compliant_logging(role: Option<&str>) -> Facts {
    let mut facts = high_risk("provider");
    match role {
        Some(role) => facts.set("system.role", role),
        None => {
            facts.remove("system.role");
        }
    }
    facts.set("system.logging_enabled", true);
    facts.set("system.log_retention_days", 200);
    facts.set("system.evidence", ["log-schema"]);
    facts
}

#[test]
fn unknown_role_needs_evidence_not_pass() {
    let verdicts = evaluate(&compliant_logging(None));
    let art12 = verdict(&verdicts, "art-12-record-keeping");
    assert_eq!(art12.status, "needs_evidence");
    assert_eq!(
        art12.reasons,
        [
            "applicability cannot be decided until these facts are known",
            "fact system.role is unknown"
        ]
    );
    assert_eq!(art12.evidence_required, Vec::<String>::new());
    assert_eq!(
        status(&verdicts, "art-26-deployer-duties"),
        "needs_evidence"
    );
    assert_eq!(status(&verdicts, "art-4-ai-literacy"), "needs_evidence");
}

#[test]
fn logging_checks_pass_on_enough_retention() {
    let art12 = verdict(
        &evaluate(&compliant_logging(Some("provider"))),
        "art-12-record-keeping",
    )
    .clone();
    assert_eq!(art12.status, "pass");
    assert_eq!(
        art12.reasons,
        ["all checks pass and the required evidence is provided"]
    );
}

#[test]
fn logging_checks_on_numbers() {
    let cases: [(Option<bool>, Option<i64>, &str); 7] = [
        (Some(true), Some(183), "pass"),
        (Some(true), Some(365), "pass"),
        (Some(true), Some(182), "fail"),
        (Some(true), Some(90), "fail"),
        (Some(false), Some(365), "fail"),
        (Some(true), None, "needs_evidence"),
        (None, Some(365), "needs_evidence"),
    ];
    for (enabled, days, expected) in cases {
        let mut facts = compliant_logging(Some("provider"));
        facts.remove("system.logging_enabled");
        facts.remove("system.log_retention_days");
        if let Some(enabled) = enabled {
            facts.set("system.logging_enabled", enabled);
        }
        if let Some(days) = days {
            facts.set("system.log_retention_days", days);
        }
        let art12 = verdict(&evaluate(&facts), "art-12-record-keeping").clone();
        assert_eq!(
            art12.status, expected,
            "logging {enabled:?}, retention {days:?}: {:?}",
            art12.reasons
        );
    }
}

#[test]
fn short_retention_names_the_failed_check() {
    let mut facts = compliant_logging(Some("provider"));
    facts.set("system.log_retention_days", 30);
    let art12 = verdict(&evaluate(&facts), "art-12-record-keeping").clone();
    assert_eq!(
        art12.reasons,
        ["check log-retention failed: Logs are kept for at least 183 days."]
    );
}

#[test]
fn failing_check_outranks_missing_evidence() {
    let mut facts = compliant_logging(Some("provider"));
    facts.set("system.logging_enabled", false);
    facts.remove("system.evidence");
    let art12 = verdict(&evaluate(&facts), "art-12-record-keeping").clone();
    assert_eq!(art12.status, "fail");
    assert_eq!(art12.evidence_required, ["log-schema"]);
}

#[test]
fn deployer_log_retention_is_checked() {
    let mut facts = high_risk("deployer");
    facts.set("system.logging_enabled", true);
    facts.set("system.log_retention_days", 100);
    let art26 = verdict(&evaluate(&facts), "art-26-deployer-duties").clone();
    assert_eq!(art26.status, "fail");
}

#[test]
fn mistyped_fact_is_treated_as_unknown() {
    let mut facts = compliant_logging(Some("provider"));
    facts.set("system.log_retention_days", "200");
    let art12 = verdict(&evaluate(&facts), "art-12-record-keeping").clone();
    assert_eq!(art12.status, "needs_evidence");
    assert_eq!(
        art12.reasons,
        [
            "check log-retention cannot run: fact system.log_retention_days has a text value, which this rule cannot test"
        ]
    );
}

#[test]
fn unknown_derogation_leaves_high_risk_open() {
    let mut facts = high_risk("provider");
    facts.remove("system.art6_3_derogation");
    let art9 = verdict(&evaluate(&facts), "art-9-risk-management").clone();
    assert_eq!(art9.status, "needs_evidence");
    assert!(
        art9.reasons
            .contains(&"fact system.art6_3_derogation is unknown".to_owned()),
        "{:?}",
        art9.reasons
    );
    assert_eq!(art9.evidence_required.len(), 3);
}

#[test]
fn valid_derogation_removes_high_risk_duties() {
    let mut facts = high_risk("provider");
    facts.set("system.art6_3_derogation", true);
    facts.set("system.profiles_natural_persons", false);
    let verdicts = evaluate(&facts);
    assert_eq!(status(&verdicts, "art-9-risk-management"), "not_applicable");
    assert_eq!(
        status(&verdicts, "art-6-high-risk-classification"),
        "needs_evidence"
    );
    let art49 = verdict(&verdicts, "art-49-registration");
    assert_eq!(art49.status, "needs_evidence");
    assert_eq!(art49.evidence_required, ["eu-database-registration"]);
}

#[test]
fn derogation_with_profiling_fails_classification() {
    let mut facts = high_risk("provider");
    facts.set("system.art6_3_derogation", true);
    facts.set("system.profiles_natural_persons", true);
    let verdicts = evaluate(&facts);
    let art6 = verdict(&verdicts, "art-6-high-risk-classification");
    assert_eq!(art6.status, "fail");
    assert!(art6.needs_review);
    assert_eq!(status(&verdicts, "art-9-risk-management"), "needs_evidence");
}

#[test]
fn oversight_checks_read_mode_and_override() {
    let mut facts = high_risk("provider");
    facts.set(
        "system.evidence",
        ["oversight-design", "override-test-record"],
    );
    facts.set("system.human_oversight", "on_the_loop");
    facts.set("system.override_capability", true);
    assert_eq!(status(&evaluate(&facts), "art-14-human-oversight"), "pass");
    facts.set("system.human_oversight", "none");
    assert_eq!(status(&evaluate(&facts), "art-14-human-oversight"), "fail");
}

#[test]
fn systemic_risk_needs_more_than_threshold_flops() {
    let mut facts = minimal_chatbot();
    facts.set("system.is_gpai_model", true);
    facts.set("system.gpai_systemic_designation", false);
    facts.set("system.gpai_training_flops", 1.0e25);
    let verdicts = evaluate(&facts);
    assert_eq!(
        status(&verdicts, "art-55-gpai-systemic-risk"),
        "not_applicable"
    );
    assert_eq!(status(&verdicts, "art-53-gpai-provider"), "needs_evidence");

    facts.set("system.gpai_training_flops", 3.0e25);
    assert_eq!(
        status(&evaluate(&facts), "art-55-gpai-systemic-risk"),
        "needs_evidence"
    );
}

#[test]
fn low_confidence_marks_review() {
    let mut facts = compliant_logging(Some("provider"));
    facts.set("classification.confidence", 0.4);
    let verdicts = evaluate(&facts);
    assert!(verdict(&verdicts, "art-12-record-keeping").needs_review);
    // Art 5 applies to every system, so its applicability rests on no classification fact.
    facts.set("system.prohibited_practice_flags", Vec::<String>::new());
    facts.set("classification.confidence", 0.9);
    assert!(!verdict(&evaluate(&facts), "art-12-record-keeping").needs_review);
}

#[test]
fn obligation_not_yet_in_force_says_so() {
    let book = RuleBook::embedded().unwrap();
    let verdicts = book
        .evaluate(
            "eu-ai-act",
            &compliant_logging(Some("provider")),
            date("2026-12-04"),
        )
        .unwrap();
    let art12 = verdict(&verdicts, "art-12-record-keeping");
    assert_eq!(art12.status, "pass");
    assert_eq!(art12.effective_from, date("2027-12-02"));
    assert_eq!(
        art12.reasons.last().unwrap(),
        "the obligation applies from 2027-12-02"
    );
}

#[test]
fn unknown_framework_is_an_error() {
    let book = RuleBook::embedded().unwrap();
    let error = book
        .evaluate("eu-ai-actt", &Facts::new(), in_force())
        .unwrap_err();
    assert!(matches!(error, EvalError::UnknownFramework { .. }));
    assert_eq!(
        error.to_string(),
        "unknown framework `eu-ai-actt`; known frameworks: eu-ai-act"
    );
}

#[test]
fn verdict_serialises_with_interface_field_names() {
    let verdicts = evaluate(&minimal_chatbot());
    let json = serde_json::to_value(verdict(&verdicts, "art-50-transparency")).unwrap();
    let keys: Vec<&str> = json
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "effective_from",
            "evidence_required",
            "framework",
            "needs_review",
            "reasons",
            "reference",
            "rule_id",
            "severity",
            "status",
            "title"
        ]
    );
}

#[test]
fn annex_i_only_product_applies_later() {
    let mut facts = high_risk("provider");
    facts.set("system.annex_iii", Vec::<String>::new());
    facts.set("system.annex_i_product", true);
    let art9 = verdict(&evaluate(&facts), "art-9-risk-management").clone();
    assert_eq!(art9.status, "needs_evidence");
    assert_eq!(art9.effective_from, date("2028-08-02"));

    facts.set("system.annex_iii", ["4a"]);
    let art9 = verdict(&evaluate(&facts), "art-9-risk-management").clone();
    assert_eq!(art9.effective_from, date("2027-12-02"));
}

#[test]
fn credit_scoring_deployer_needs_fria() {
    let mut facts = high_risk("deployer");
    facts.set("system.annex_iii", ["5b"]);
    facts.set("tenant.public_body", false);
    facts.set("tenant.public_service", false);
    assert_eq!(status(&evaluate(&facts), "art-27-fria"), "needs_evidence");
}

#[test]
fn minimal_risk_class_rules_out_high_risk() {
    let mut facts = Facts::new();
    facts.set("system.role", "provider");
    facts.set("system.risk_class", "minimal");
    facts.set("system.interacts_with_people", true);
    let verdicts = evaluate(&facts);
    for name in PROVIDER_HIGH_RISK_RULES {
        assert_eq!(status(&verdicts, name), "not_applicable", "{name}");
    }
    assert_eq!(
        status(&verdicts, "art-6-high-risk-classification"),
        "not_applicable"
    );
    assert_eq!(
        status(&verdicts, "art-26-deployer-duties"),
        "not_applicable"
    );
    assert_eq!(status(&verdicts, "art-50-transparency"), "needs_evidence");
}

#[test]
fn minimal_chatbot_needs_no_registration() {
    assert_eq!(
        status(&evaluate(&minimal_chatbot()), "art-49-registration"),
        "not_applicable"
    );
}

#[test]
fn high_risk_class_alone_leaves_annex_open() {
    let mut facts = Facts::new();
    facts.set("system.role", "provider");
    facts.set("system.risk_class", "high");
    let art9 = verdict(&evaluate(&facts), "art-9-risk-management").clone();
    assert_eq!(art9.status, "needs_evidence");
    assert!(
        art9.reasons
            .contains(&"fact system.annex_iii is unknown".to_owned()),
        "{:?}",
        art9.reasons
    );
}
