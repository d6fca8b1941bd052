//! `secruna connectors apply|list` and `secruna scan --config` end to end, against a real
//! PostgreSQL given as DATABASE_URL.

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

const EXAMPLES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/examples");

/// A key for SECRUNA_SECRET_KEY: 32 bytes of 7 in base64.
const SECRET_KEY: &str = "BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc=";

fn secruna(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_secruna"));
    command
        .args(args)
        .env_remove("DATABASE_URL")
        .env_remove("DATABASE_ADMIN_URL")
        .env_remove("SECRUNA_SECRET_KEY");
    for (name, value) in env {
        command.env(name, value);
    }
    command.output().unwrap()
}

fn stdout(output: &Output) -> String {
    assert!(
        output.status.success(),
        "secruna failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn write_config(dir: &Path, text: &str) -> String {
    let path = dir.join("connectors.yaml");
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

#[tokio::test]
async fn apply_stores_connectors_without_showing_secrets() {
    let db = store::testing::TestDb::new().await;
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(
        dir.path(),
        "connectors:\n  - name: vertex\n    kind: gcp\n    config: {projects: [acme-prod]}\n    secret_env: {private_key: SECRUNA_TEST_GCP_KEY}\n",
    );
    let env = [
        ("DATABASE_URL", db.app_url.as_str()),
        ("SECRUNA_SECRET_KEY", SECRET_KEY),
        ("SECRUNA_TEST_GCP_KEY", "very-secret-key-material"),
    ];

    let first = stdout(&secruna(
        &["connectors", "apply", &config, "--tenant", "acme"],
        &env,
    ));
    let second = stdout(&secruna(
        &["connectors", "apply", &config, "--tenant", "acme"],
        &env,
    ));
    let table = stdout(&secruna(&["connectors", "list", "--tenant", "acme"], &env));
    let json = stdout(&secruna(
        &["connectors", "list", "--tenant", "acme", "--format", "json"],
        &env,
    ));

    assert_eq!(first, "created vertex\n");
    assert_eq!(second, "unchanged vertex\n");
    assert!(table.contains("vertex"), "{table}");
    assert!(!table.contains("very-secret"), "{table}");
    let listed: Value = serde_json::from_str(&json).unwrap();
    assert_eq!(listed[0]["kind"], "gcp");
    assert_eq!(listed[0]["has_secret"], true);
    assert!(!json.contains("very-secret"), "{json}");
    let admin = sqlx::PgPool::connect(&db.admin_url).await.unwrap();
    let actions: Vec<String> = sqlx::query_scalar(
        "SELECT action FROM audit_log WHERE entity_type = 'connector' ORDER BY seq",
    )
    .fetch_all(&admin)
    .await
    .unwrap();
    assert_eq!(actions, ["connector.create"]);
}

#[tokio::test]
async fn apply_without_key_rejects_secrets() {
    let db = store::testing::TestDb::new().await;
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(
        dir.path(),
        "connectors:\n  - name: gh\n    kind: github\n    secret_env: {token: SECRUNA_TEST_GH}\n",
    );
    let env = [
        ("DATABASE_URL", db.app_url.as_str()),
        ("SECRUNA_TEST_GH", "ghp_notshown"),
    ];

    let output = secruna(&["connectors", "apply", &config], &env);

    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("SECRUNA_SECRET_KEY"), "{stderr}");
    assert!(!stderr.contains("ghp_notshown"), "{stderr}");
}

#[tokio::test]
async fn scan_config_runs_its_connectors_and_reports_each_scope() {
    let db = store::testing::TestDb::new().await;
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(
        dir.path(),
        &format!(
            "connectors:\n  - name: repos\n    kind: code\n    config: {{paths: [{EXAMPLES}/loan-screening]}}\n  - name: broken\n    kind: code\n    config: {{paths: [/nonexistent/secruna-config-test]}}\n"
        ),
    );
    let env = [("DATABASE_URL", db.app_url.as_str())];

    let only_repos = secruna(
        &[
            "scan",
            "--config",
            &config,
            "--connector",
            "repos",
            "--format",
            "json",
        ],
        &env,
    );
    let both = secruna(&["scan", "--config", &config, "--format", "json"], &env);
    let table = secruna(&["scan", "--config", &config], &env);

    let report: Value = serde_json::from_str(&stdout(&only_repos)).unwrap();
    assert_eq!(report["status"], "completed");
    assert_eq!(report["scopes"][0]["connector"], "repos");
    assert_eq!(report["scopes"][0]["status"], "covered");
    assert_eq!(both.status.code(), Some(2), "a partial scan exits 2");
    let report: Value = serde_json::from_slice(&both.stdout).unwrap();
    assert_eq!(report["status"], "partial");
    assert_eq!(report["scopes"][1]["connector"], "broken");
    assert_eq!(report["scopes"][1]["status"], "failed");
    let text = String::from_utf8_lossy(&table.stdout);
    assert!(text.contains("CONNECTOR"), "{text}");
    assert!(text.contains("broken"), "{text}");
}

#[test]
fn unknown_connector_name_is_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(
        dir.path(),
        "connectors:\n  - {name: repos, kind: code, config: {paths: [/tmp]}}\n",
    );

    let output = secruna(&["scan", "--config", &config, "--connector", "nope"], &[]);

    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("`nope`"), "{stderr}");
    assert!(stderr.contains("repos"), "{stderr}");
}
