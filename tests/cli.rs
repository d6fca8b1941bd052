//! The `secruna` binary end to end: the embedded default and an external database.

use std::os::unix::fs::PermissionsExt;
use std::process::{Command, Output};

use serde_json::Value;

const EXAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/loan-screening");

/// Creates a data folder the `postgres` OS user can enter when the tests run as root.
fn data_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    dir
}

/// Runs `secruna ARGS` with the given environment and no inherited database variables.
fn secruna(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_secruna"));
    command
        .args(args)
        .env_remove("DATABASE_URL")
        .env_remove("DATABASE_ADMIN_URL");
    for (name, value) in env {
        command.env(name, value);
    }
    command.output().unwrap()
}

fn json_of(output: &Output) -> Value {
    assert!(
        output.status.success(),
        "secruna failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

fn system<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["systems"]
        .as_array()
        .unwrap()
        .iter()
        .find(|system| system["name"] == name)
        .unwrap_or_else(|| panic!("no system named {name} in {report}"))
}

/// Returns the sorted `(path, line, kind, subject)` of a system's findings.
fn findings(system: &Value) -> Vec<(String, Option<i64>, String, String)> {
    let mut rows: Vec<_> = system["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|finding| {
            (
                finding["path"].as_str().unwrap().to_owned(),
                finding["line"].as_i64(),
                finding["kind"].as_str().unwrap().to_owned(),
                finding["subject"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    rows.sort();
    rows
}

fn check_example_report(report: &Value) {
    assert_eq!(report["status"], "completed");
    assert_eq!(report["tenant"], "default");
    assert_eq!(report["systems"].as_array().unwrap().len(), 2);

    let lending = system(report, "Loan screening");
    assert_eq!(lending["risk_class"], "high");
    assert_eq!(lending["annex_iii_area"], "essential-services");
    assert_eq!(lending["gpai"], true);
    let subjects: Vec<String> = findings(lending).into_iter().map(|row| row.3).collect();
    for expected in [
        "openai",
        "scikit-learn",
        "gpt-4o-mini",
        "joblib",
        "secruna.yaml",
    ] {
        assert!(
            subjects.iter().any(|subject| subject == expected),
            "{expected} missing: {subjects:?}"
        );
    }
    let evaluations = lending["evaluations"].as_array().unwrap();
    assert_eq!(evaluations.len(), 19);
    assert!(evaluations.iter().all(|evaluation| {
        evaluation["rule_id"]
            .as_str()
            .unwrap()
            .starts_with("eu-ai-act/")
    }));

    let chat = system(report, "support-chat");
    let chat_subjects: Vec<String> = findings(chat).into_iter().map(|row| row.3).collect();
    assert!(
        chat_subjects.contains(&"anthropic".to_owned()),
        "{chat_subjects:?}"
    );
    assert!(
        chat_subjects.contains(&"claude-3-5-sonnet".to_owned()),
        "{chat_subjects:?}"
    );
    assert_ne!(chat["risk_class"], "high");
}

#[test]
fn scan_on_embedded_default_reuses_its_cluster() {
    let dir = data_dir();
    let data = dir.path().join("data");
    let env = [("SECRUNA_DATA_DIR", data.to_str().unwrap())];

    let first = json_of(&secruna(&["scan", EXAMPLE, "--format", "json"], &env));
    let second = json_of(&secruna(&["scan", EXAMPLE, "--format", "json"], &env));

    check_example_report(&first);
    check_example_report(&second);
    assert_ne!(first["scan_id"], second["scan_id"]);
    // The second run found the same systems in the same cluster.
    assert_eq!(
        system(&first, "Loan screening")["id"],
        system(&second, "Loan screening")["id"]
    );
    let verify = secruna(&["audit", "verify"], &env);
    assert!(
        verify.status.success(),
        "{}",
        String::from_utf8_lossy(&verify.stdout)
    );
}

#[tokio::test]
async fn scan_against_external_database_url() {
    let db = store::testing::TestDb::new().await;

    let output = secruna(
        &["scan", EXAMPLE, "--format", "json"],
        &[("DATABASE_URL", &db.app_url)],
    );

    check_example_report(&json_of(&output));
}

#[tokio::test]
async fn superuser_database_url_is_refused() {
    let db = store::testing::TestDb::new().await;

    let output = secruna(&["scan", EXAMPLE], &[("DATABASE_URL", &db.admin_url)]);

    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("superuser"), "stderr: {stderr}");
}

#[test]
fn missing_path_exits_non_zero() {
    let dir = data_dir();
    let data = dir.path().join("data");

    let output = secruna(
        &["scan", "/nonexistent/secruna-cli-test", "--format", "json"],
        &[("SECRUNA_DATA_DIR", data.to_str().unwrap())],
    );

    assert_eq!(output.status.code(), Some(1));
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["status"], "failed");
}

#[test]
fn invalid_tenant_names_the_fix() {
    let output = secruna(&["scan", EXAMPLE, "--tenant", "bad slug"], &[]);

    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("bad slug"), "stderr: {stderr}");
    assert!(stderr.contains("whitespace"), "stderr: {stderr}");
}

#[test]
fn rules_check_counts_the_eu_pack() {
    let output = secruna(&["rules", "check"], &[]);

    assert!(output.status.success());
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("eu-ai-act: 19 rules"), "stdout: {stdout}");
}

#[test]
fn catalogue_patterns_lists_keywords_once_each() {
    let output = secruna(&["catalogue", "patterns"], &[]);

    assert!(output.status.success());
    let stdout = String::from_utf8_lossy(&output.stdout);
    let patterns: Vec<&str> = stdout.lines().collect();
    for expected in ["openai", "anthropic", "transformers"] {
        assert!(
            patterns.contains(&expected),
            "{expected} missing: {patterns:?}"
        );
    }
    let mut unique = patterns.clone();
    unique.dedup();
    assert_eq!(unique.len(), patterns.len());
}

#[test]
fn table_escapes_control_characters_from_the_tree() {
    let dir = data_dir();
    let tree = dir.path().join("tree");
    std::fs::create_dir_all(&tree).unwrap();
    std::fs::write(tree.join("requirements.txt"), "openai==1.30.0\n").unwrap();
    std::fs::write(
        tree.join("secruna.yaml"),
        "name: \"Legit\\u001b[2J\\nscan 000 fake\"\n",
    )
    .unwrap();
    let data = dir.path().join("data");

    let output = secruna(
        &["scan", tree.to_str().unwrap()],
        &[("SECRUNA_DATA_DIR", data.to_str().unwrap())],
    );

    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(!stdout.contains('\u{1b}'), "stdout: {stdout}");
    assert!(
        stdout.contains("Legit\\u{1b}[2J\\nscan 000 fake"),
        "stdout: {stdout}"
    );
}

/// A process killed mid-scan leaves its scan `running`; the next process that has the
/// embedded cluster to itself records that scan as failed.
#[tokio::test]
async fn next_run_fails_scans_left_running() {
    let dir = data_dir();
    let data = dir.path().join("data");
    let env = [("SECRUNA_DATA_DIR", data.to_str().unwrap())];
    let first = json_of(&secruna(&["scan", EXAMPLE, "--format", "json"], &env));
    let scan_id = first["scan_id"].as_str().unwrap().to_owned();

    // Put the scan back into the state a killed process leaves behind.
    let cluster = store::embedded::start(&data).await.unwrap();
    let admin = sqlx::PgPool::connect(&cluster.admin_url).await.unwrap();
    sqlx::query("UPDATE scans SET status = 'running', finished_at = NULL WHERE id = $1::uuid")
        .bind(&scan_id)
        .execute(&admin)
        .await
        .unwrap();
    admin.close().await;
    cluster.stop().await.unwrap();

    json_of(&secruna(&["scan", EXAMPLE, "--format", "json"], &env));

    let cluster = store::embedded::start(&data).await.unwrap();
    let admin = sqlx::PgPool::connect(&cluster.admin_url).await.unwrap();
    let (status, error): (String, Option<String>) =
        sqlx::query_as("SELECT status, error FROM scans WHERE id = $1::uuid")
            .bind(&scan_id)
            .fetch_one(&admin)
            .await
            .unwrap();
    admin.close().await;
    cluster.stop().await.unwrap();
    assert_eq!(status, "failed");
    assert_eq!(
        error.as_deref(),
        Some(store::embedded::INTERRUPTED_SCAN_ERROR)
    );
}

#[test]
fn audit_verify_rejects_unknown_tenant() {
    let dir = data_dir();
    let data = dir.path().join("data");

    let output = secruna(
        &["audit", "verify", "--tenant", "nosuch"],
        &[("SECRUNA_DATA_DIR", data.to_str().unwrap())],
    );

    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("tenant `nosuch` not found"),
        "stderr: {stderr}"
    );
}
