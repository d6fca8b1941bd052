use proto::{AnnexIiiArea, Article5Practice};

use super::*;

/// Returns the ids of the rules that fire on a text.
fn fired(text: &str) -> Vec<&'static str> {
    let reading = PurposeTable::embedded().read(text);
    reading
        .matches
        .iter()
        .map(|found| found.rule.id.as_str())
        .collect()
}

/// Returns the Annex III codes the rules that fire on a text suggest.
fn codes(text: &str) -> Vec<String> {
    let reading = PurposeTable::embedded().read(text);
    reading
        .matches
        .iter()
        .filter_map(|found| found.rule.annex_iii)
        .map(|point| point.code())
        .collect()
}

#[test]
fn embedded_table_covers_every_area() {
    let table = PurposeTable::embedded();
    for area in AnnexIiiArea::ALL {
        let covered = table
            .rules()
            .iter()
            .any(|rule| rule.annex_iii.is_some_and(|p| p.area == area));
        assert!(
            covered,
            "no purpose rule for Annex III area {}",
            area.slug()
        );
    }
}

#[test]
fn embedded_table_covers_every_article_5_practice() {
    let table = PurposeTable::embedded();
    for practice in Article5Practice::ALL {
        let covered = table
            .rules()
            .iter()
            .any(|rule| rule.article_5.contains(&practice));
        assert!(covered, "no purpose rule for Article 5 practice {practice}");
    }
}

#[test]
fn purposes_map_to_annex_iii_points() {
    let cases = [
        ("Scores the creditworthiness of loan applicants", vec!["5b"]),
        ("Ranks job applicants for our recruiters", vec!["4a"]),
        ("Screens CVs before the first interview", vec!["4a"]),
        ("Exam proctoring for remote students", vec!["3d"]),
        ("Grades student essays", vec!["3b"]),
        ("Decides university admissions", vec!["3a"]),
        ("Facial recognition at building entrances", vec!["1a"]),
        ("Face recognition to verify identity at login", vec![]),
        ("Balances load on the electricity grid", vec!["2"]),
        ("Sets premiums for life insurance policies", vec!["5c"]),
        (
            "Triages emergency calls for the ambulance service",
            vec!["5d"],
        ),
        ("Assesses eligibility for housing benefits", vec!["5a"]),
        (
            "Estimates the risk of reoffending for parole boards",
            vec!["6d"],
        ),
        ("Polygraph analysis for police interviews", vec!["6b"]),
        (
            "Lie detection for visa applicants at the border",
            vec!["7a", "7c"],
        ),
        ("Examines asylum applications", vec!["7c"]),
        ("Helps judges research case law", vec!["8a"]),
        ("Targets voters to influence the election", vec!["8b"]),
        ("Monitors employee performance in the warehouse", vec!["4b"]),
        ("Detects fraud in loan applications", vec![]),
        ("Forecasts demand for spare parts", vec![]),
    ];
    for (text, expected) in cases {
        assert_eq!(codes(text), expected, "{text}");
    }
}

#[test]
fn purposes_map_to_article_5_rules() {
    let cases = [
        (
            "Detects the emotions of employees during video calls",
            "emotion-recognition-work-education",
        ),
        (
            "Builds a face database by scraping faces from social media",
            "untargeted-face-scraping",
        ),
        (
            "Computes a social score for every resident",
            "social-scoring",
        ),
        (
            "Predicts whether a person will commit a crime",
            "crime-prediction-by-profiling",
        ),
        ("Uses subliminal cues in ads", "manipulation"),
        (
            "Exploits the vulnerabilities of elderly customers",
            "exploitation-of-vulnerabilities",
        ),
        (
            "Infers sexual orientation from faces",
            "biometric-categorisation-sensitive",
        ),
        (
            "Live facial recognition of crowds for the police",
            "real-time-remote-biometric-identification",
        ),
        ("Nudify app", "intimate-imagery-csam"),
    ];
    for (text, rule) in cases {
        assert!(
            fired(text).contains(&rule),
            "{text}: fired {:?}",
            fired(text)
        );
    }
}

/// Software descriptions that share words with the table's phrases ("worker", "candidate",
/// "exploit", "CV", "grad") but describe no Annex III or Article 5 use.
#[test]
fn software_descriptions_suggest_nothing() {
    let texts = [
        "Gradient boosting examples for tabular data",
        "Monitors Kubernetes worker nodes",
        "Celery task allocation across workers",
        "Exploits known vulnerabilities for penetration testing",
        "Exploits vulnerabilities of web applications used by customers",
        "Data manipulation utilities for users",
        "Image filters for CV pipelines",
        "Two-tower model that ranks candidate items",
        "Identifies people entering the facility",
        "Payment dispute resolution service",
        "Detects where the bottleneck lies",
        "Leader election for distributed workers",
        "Identifies suspect transactions",
        "Market examples and marketing templates",
    ];
    for text in texts {
        let reading = PurposeTable::embedded().read(text);
        let suggesting: Vec<&str> = reading
            .matches
            .iter()
            .filter(|found| found.rule.annex_iii.is_some() || !found.rule.article_5.is_empty())
            .map(|found| found.rule.id.as_str())
            .collect();
        assert!(suggesting.is_empty(), "{text}: fired {suggesting:?}");
    }
}

#[test]
fn negated_purpose_does_not_fire() {
    let reading = PurposeTable::embedded().read("This service does not rank job applicants.");
    assert!(reading.matches.is_empty(), "{:?}", reading.matches);
    assert_eq!(reading.negated, ["rank job applicants"]);
}

#[test]
fn negation_ends_at_sentence() {
    assert_eq!(
        codes("No data leaves the EU. It ranks job applicants."),
        ["4a"]
    );
}

#[test]
fn chatbot_purpose_sets_interaction_signal() {
    let reading = PurposeTable::embedded().read("A chatbot that answers customer questions");
    let signals: Vec<Signal> = reading
        .matches
        .iter()
        .flat_map(|found| found.rule.signals.iter().copied())
        .collect();
    assert_eq!(signals, [Signal::InteractsWithPeople]);
}

#[test]
fn table_rejects_duplicate_rule_ids() {
    let text = "rules:\n  - {id: a, annex_iii: 4a, phrases: [x]}\n  - {id: a, annex_iii: 4b, phrases: [y]}\n";
    let error = PurposeTable::from_yaml(text).unwrap_err();
    assert_eq!(error, "purpose rule `a` appears twice: rename one");
}

#[test]
fn table_rejects_bad_phrase() {
    let text = "rules:\n  - {id: a, annex_iii: 4a, phrases: [Credit-Score]}\n";
    let error = PurposeTable::from_yaml(text).unwrap_err();
    assert!(
        error.starts_with("purpose rule `a`: phrase `Credit-Score` has an invalid term"),
        "{error}"
    );
}

#[test]
fn table_rejects_rule_without_outcome() {
    let text = "rules:\n  - {id: a, phrases: [x]}\n";
    let error = PurposeTable::from_yaml(text).unwrap_err();
    assert_eq!(
        error,
        "purpose rule `a` suggests nothing: set annex_iii, article_5 or signals"
    );
}
