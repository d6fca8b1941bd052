//! `secruna scan --config` with an AWS connector, end to end: the binary's registry builds
//! the AWS source, which crawls moto (started here on 127.0.0.1) and stores what it finds
//! in a real PostgreSQL given as DATABASE_URL.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// Virtual environment that contains moto when `MOTO_SERVER` is not set (see `.ci/run`).
const VENV: &str = "/var/tmp/secruna-py";

/// Creates a SageMaker model and an endpoint serving it in moto's default account.
const SEED: &str = r#"
import sys, boto3
client = boto3.client("sagemaker", endpoint_url=sys.argv[1], region_name="eu-west-1",
                      aws_access_key_id="testing", aws_secret_access_key="testing")
client.create_model(ModelName="credit-scorer",
    ExecutionRoleArn="arn:aws:iam::123456789012:role/sagemaker",
    PrimaryContainer={"Image": "123456789012.dkr.ecr.eu-west-1.amazonaws.com/scorer:1"})
client.create_endpoint_config(EndpointConfigName="credit-scorer-config",
    ProductionVariants=[{"VariantName": "main", "ModelName": "credit-scorer",
                         "InstanceType": "ml.m5.large", "InitialInstanceCount": 1}])
client.create_endpoint(EndpointName="credit-scorer-live",
    EndpointConfigName="credit-scorer-config")
"#;

struct Moto {
    child: Child,
    url: String,
    python: PathBuf,
}

impl Moto {
    fn start() -> Moto {
        let binary = std::env::var_os("MOTO_SERVER")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(VENV).join("bin/moto_server"));
        assert!(
            binary.exists(),
            "moto_server not found at {}: run `python3 -m venv {VENV} && {VENV}/bin/pip install 'moto[server]==5.2.5'` or set MOTO_SERVER",
            binary.display()
        );
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new(&binary)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "moto did not start on port {port}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        Moto {
            child,
            url: format!("http://127.0.0.1:{port}"),
            python: binary.parent().unwrap().join("python"),
        }
    }

    fn seed(&self) {
        let output = Command::new(&self.python)
            .args(["-c", SEED, &self.url])
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "seeding moto failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test]
async fn aws_config_scan_stores_endpoint_system() {
    let moto = Moto::start();
    moto.seed();
    let db = store::testing::TestDb::new().await;
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("connectors.yaml");
    std::fs::write(
        &config,
        format!(
            "connectors:\n  - name: prod-aws\n    kind: aws\n    config:\n      accounts: ['123456789012']\n      regions: [eu-west-1]\n      endpoint_url: {}\n    secret_env:\n      access_key_id: SECRUNA_TEST_AWS_KEY_ID\n      secret_access_key: SECRUNA_TEST_AWS_SECRET\n",
            moto.url
        ),
    )
    .unwrap();

    let output = Command::new(env!("CARGO_BIN_EXE_secruna"))
        .args(["scan", "--config"])
        .arg(&config)
        .args(["--tenant", "acme", "--format", "json"])
        .env("DATABASE_URL", &db.app_url)
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("SECRUNA_TEST_AWS_KEY_ID", "testing")
        .env("SECRUNA_TEST_AWS_SECRET", "testing-secret-value")
        .env_remove("DATABASE_ADMIN_URL")
        .output()
        .unwrap();

    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stdout.contains("testing-secret-value"), "{stdout}");
    assert!(!stderr.contains("testing-secret-value"), "{stderr}");
    let report: Value =
        serde_json::from_str(&stdout).unwrap_or_else(|error| panic!("{error}: {stdout}\n{stderr}"));
    let scope = &report["scopes"][0];
    assert_eq!(scope["connector"], "prod-aws", "{report:#}");
    assert_eq!(scope["scope"], "aws:123456789012:eu-west-1", "{report:#}");
    // moto responds to Bedrock's guardrail and provisioned-throughput listings with HTTP
    // 500, so the scope reports them as incomplete and the scan ends partial.
    assert_eq!(scope["status"], "partial", "{report:#}");
    assert_eq!(report["status"], "partial");
    assert_eq!(output.status.code(), Some(2));
    let incomplete = scope["incomplete"].to_string();
    assert!(
        incomplete.contains("bedrock:ListGuardrails"),
        "{incomplete}"
    );
    assert_eq!(scope["gaps"], serde_json::json!([]));

    let admin = sqlx::PgPool::connect(&db.admin_url).await.unwrap();
    let subjects: Vec<(String, String)> = sqlx::query_as(
        "SELECT subject, path FROM findings WHERE source = 'aws' AND subject LIKE 'sagemaker-%' \
         ORDER BY subject, path",
    )
    .fetch_all(&admin)
    .await
    .unwrap();
    let names: Vec<&str> = subjects
        .iter()
        .map(|(subject, _)| subject.as_str())
        .collect();
    assert!(names.contains(&"sagemaker-endpoint"), "{subjects:?}");
    assert!(names.contains(&"sagemaker-model"), "{subjects:?}");
    let systems: Vec<String> =
        sqlx::query_scalar("SELECT name FROM ai_systems WHERE source = 'aws' ORDER BY name")
            .fetch_all(&admin)
            .await
            .unwrap();
    assert_eq!(
        systems.len(),
        1,
        "endpoint, config and model form one system: {systems:?}"
    );
    admin.close().await;
}
