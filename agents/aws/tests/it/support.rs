//! Test harness: moto in server mode, a fake AWS endpoint on wiremock, and a connector
//! wired to either with fast retries. Every endpoint is on 127.0.0.1 and every connector
//! gets static keys, so no call leaves the machine and the instance metadata service is
//! never asked.

use std::collections::BTreeMap;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, Once};
use std::time::{Duration, Instant};

use agents::net::{Quota, RateLimits, RetryPolicy};
use agents::{ConnectorSpec, CrawlError, CrawlReport, FindingSink, Scope, Source, SourceFactory};
use agents_aws::AwsFactory;
use proto::Finding;
use serde_json::{Value, json};

/// Venv that contains moto when `MOTO_SERVER` is not set.
const VENV: &str = "/var/tmp/secruna-py";

static ENVIRONMENT: Once = Once::new();

/// Turns off every credential source that could leave the machine before any SDK code runs.
pub(crate) fn init() {
    ENVIRONMENT.call_once(|| {
        // SAFETY: std's environment lock serialises this with every Rust reader. It runs
        // first in each test, before the test builds any SDK client or resolves a host.
        unsafe {
            std::env::set_var("AWS_EC2_METADATA_DISABLED", "true");
        }
    });
}

/// Retries fast enough for tests: 4 attempts, 1 to 4 ms of backoff.
pub(crate) fn fast_policy() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 4,
        base_delay: Duration::from_millis(1),
        max_delay: Duration::from_millis(4),
        attempt_timeout: Duration::from_secs(10),
        operation_timeout: Duration::from_secs(30),
    }
}

/// Rate limits high enough never to slow a test.
pub(crate) fn fast_limits() -> Arc<RateLimits> {
    RateLimits::new(BTreeMap::from([(
        "aws".to_owned(),
        Quota::per_second(1000),
    )]))
}

/// Builds a connector from `config` with static test keys.
pub(crate) fn source(config: Value) -> Arc<dyn Source> {
    init();
    let spec = ConnectorSpec {
        name: "test-aws".into(),
        kind: "aws".into(),
        config,
        secret: Some(json!({"access_key_id": "testing", "secret_access_key": "testing"})),
    };
    AwsFactory::new(fast_limits(), fast_policy())
        .build(&spec)
        .expect("valid test connector")
}

/// Crawls one scope and returns its report and findings, sorted by path then subject.
pub(crate) async fn crawl(
    source: &dyn Source,
    scope: &Scope,
) -> (Result<CrawlReport, CrawlError>, Vec<Finding>) {
    let found = Arc::new(Mutex::new(Vec::new()));
    let sink_found = Arc::clone(&found);
    let sink: FindingSink = Arc::new(move |finding| sink_found.lock().unwrap().push(finding));
    let report = source.crawl(scope, sink).await;
    let mut findings = std::mem::take(&mut *found.lock().unwrap());
    findings.sort_by(|a, b| (&a.path, &a.subject).cmp(&(&b.path, &b.subject)));
    (report, findings)
}

/// Returns the scope with `id` or panics listing the ids.
pub(crate) fn scope<'a>(scopes: &'a [Scope], id: &str) -> &'a Scope {
    scopes
        .iter()
        .find(|scope| scope.id == id)
        .unwrap_or_else(|| {
            let ids: Vec<&str> = scopes.iter().map(|scope| scope.id.as_str()).collect();
            panic!("no scope `{id}` among {ids:?}")
        })
}

/// Formats the attributes of a finding as `key=value` lines, for exact comparisons.
pub(crate) fn attributes(finding: &Finding) -> Vec<String> {
    finding
        .attributes
        .iter()
        .map(|(key, value)| format!("{key}={value}"))
        .collect()
}

/// A moto server on a free port of 127.0.0.1, stopped when dropped.
pub(crate) struct Moto {
    child: Child,
    /// Base URL, e.g. `http://127.0.0.1:40123`.
    pub(crate) url: String,
    bin_dir: PathBuf,
}

impl Moto {
    /// Starts moto; fails with an install hint when it is missing.
    pub(crate) fn start() -> Moto {
        init();
        let binary = moto_binary();
        let port = free_port();
        let child = Command::new(&binary)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|error| panic!("starting {} failed: {error}", binary.display()));
        let bin_dir = binary
            .parent()
            .expect("moto_server has a folder")
            .to_path_buf();
        let moto = Moto {
            child,
            url: format!("http://127.0.0.1:{port}"),
            bin_dir,
        };
        wait_for_port(port, Duration::from_secs(20));
        moto
    }

    /// Runs the setup script with the venv's Python and returns what it printed.
    pub(crate) fn run_setup(&self, script: &str) -> String {
        let python = self.bin_dir.join("python");
        let output = Command::new(&python)
            .args(["-c", script, &self.url])
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .output()
            .unwrap_or_else(|error| panic!("running {} failed: {error}", python.display()));
        assert!(
            output.status.success(),
            "moto setup failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout)
            .expect("utf-8 output")
            .trim()
            .to_owned()
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn moto_binary() -> PathBuf {
    let candidate = std::env::var_os("MOTO_SERVER")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(VENV).join("bin/moto_server"));
    assert!(
        candidate.is_file(),
        "moto_server not found at {}: run `python3 -m venv {VENV} && {VENV}/bin/pip install 'moto[server]==5.2.5'` or set MOTO_SERVER to its path",
        candidate.display()
    );
    candidate
}

fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    listener.local_addr().expect("local address").port()
}

fn wait_for_port(port: u16, within: Duration) {
    let address = SocketAddr::from(([127, 0, 0, 1], port));
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        if TcpStream::connect_timeout(&address, Duration::from_millis(200)).is_ok() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("moto did not listen on {address} within {within:?}");
}
