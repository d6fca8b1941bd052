//! `secruna agent` against a `secruna serve` process that is killed with SIGKILL in the
//! middle of the stream and restarted: the coordinator must end up with exactly the
//! findings a local `secruna scan` of the same tree stores.

use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use store::testing::TestDb;

/// Files in the generated tree; each contains two imports, so two findings.
const NUM_FILES: usize = 600;

/// Findings per batch the agent sends, small so the stream has many batches.
const BATCH_SIZE: &str = "5";

/// A child process that is killed when a failing test unwinds.
struct Process(Child);

impl Drop for Process {
    fn drop(&mut self) {
        if let Ok(None) = self.0.try_wait() {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

/// Writes a tree of Python files that import two AI libraries each.
fn write_tree(root: &Path) {
    for index in 0..NUM_FILES {
        let folder = root.join(format!("service{}", index / 50));
        std::fs::create_dir_all(&folder).unwrap();
        let text = "import openai\nimport torch\n\nclient = None\n";
        std::fs::write(folder.join(format!("handler{index}.py")), text).unwrap();
    }
}

fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

fn secruna() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_secruna"));
    command
        .env_remove("DATABASE_ADMIN_URL")
        .env("NO_COLOR", "1");
    command
}

/// Starts `secruna serve` with its gRPC server on `grpc_port` and waits until it listens.
fn start_server(database_url: &str, grpc_port: u16) -> Process {
    let child = secruna()
        .args(["serve", "--listen", "127.0.0.1:0", "--grpc-addr"])
        .arg(format!("127.0.0.1:{grpc_port}"))
        .env("DATABASE_URL", database_url)
        .env("RUST_LOG", "info")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut process = Process(child);
    let stderr = process.0.stderr.take().unwrap();
    let (line_tx, line_rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = line_tx.send(line);
        }
    });
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let line = line_rx
            .recv_timeout(left)
            .expect("the server did not start its gRPC listener within 60 s");
        if line.contains("gRPC server listening on") {
            return process;
        }
    }
}

fn create_token(database_url: &str) -> String {
    let output = secruna()
        .args(["tokens", "create", "--tenant", "acme", "--scope", "write"])
        .env("DATABASE_URL", database_url)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap().trim().to_owned()
}

/// Returns every stored finding's external id, sorted, repeats kept.
async fn stored_external_ids(db: &TestDb) -> Vec<String> {
    let pool = db.admin_pool().await;
    let ids: Vec<(String,)> =
        sqlx::query_as("SELECT external_id FROM findings ORDER BY external_id")
            .fetch_all(&pool)
            .await
            .unwrap();
    ids.into_iter().map(|(id,)| id).collect()
}

async fn count_findings(db: &TestDb) -> i64 {
    let pool = db.admin_pool().await;
    let (count,): (i64,) = sqlx::query_as("SELECT count(*) FROM findings")
        .fetch_one(&pool)
        .await
        .unwrap();
    count
}

#[tokio::test(flavor = "multi_thread")]
async fn agent_survives_coordinator_kill() {
    let tree = tempfile::tempdir().unwrap();
    write_tree(tree.path());
    let config_dir = tempfile::tempdir().unwrap();
    let config = config_dir.path().join("connectors.yaml");
    let config_text = format!(
        "connectors:\n  - name: services\n    kind: code\n    config:\n      paths: [\"{}\"]\n",
        tree.path().display()
    );
    std::fs::write(&config, config_text).unwrap();

    // The reference: a local scan of the same connectors file into its own database.
    let local_db = TestDb::new().await;
    let local = secruna()
        .args(["scan", "--config"])
        .arg(&config)
        .env("DATABASE_URL", &local_db.app_url)
        .output()
        .unwrap();
    assert!(
        local.status.code() == Some(0) || local.status.code() == Some(2),
        "{}",
        String::from_utf8_lossy(&local.stderr)
    );
    let expected = stored_external_ids(&local_db).await;
    assert!(expected.len() >= NUM_FILES, "{} findings", expected.len());

    let remote_db = TestDb::new().await;
    let token = create_token(&remote_db.app_url);
    let port = free_port();
    let mut server = start_server(&remote_db.app_url, port);
    let agent = secruna()
        .args(["agent", "--coordinator"])
        .arg(format!("http://127.0.0.1:{port}"))
        .arg("--config")
        .arg(&config)
        .args(["--batch-size", BATCH_SIZE, "--max-backoff", "0.5"])
        .env("SECRUNA_TOKEN", &token)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut agent = Process(agent);
    let agent_stderr = agent.0.stderr.take().unwrap();
    let stderr_reader = std::thread::spawn(move || {
        let mut text = String::new();
        BufReader::new(agent_stderr)
            .read_to_string(&mut text)
            .unwrap();
        text
    });

    // Kill the server once some, but not all, findings are stored.
    let deadline = Instant::now() + Duration::from_secs(120);
    let stored_at_kill = loop {
        let stored = count_findings(&remote_db).await;
        if stored > 0 {
            break stored;
        }
        assert!(Instant::now() < deadline, "no finding was stored in 120 s");
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    server.0.kill().unwrap();
    server.0.wait().unwrap();
    assert!(
        (stored_at_kill as usize) < expected.len(),
        "all {stored_at_kill} findings were stored before the kill"
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    let _server = start_server(&remote_db.app_url, port);

    let deadline = Instant::now() + Duration::from_secs(300);
    let status = loop {
        if let Some(status) = agent.0.try_wait().unwrap() {
            break status;
        }
        assert!(
            Instant::now() < deadline,
            "the agent did not finish in 300 s"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let stderr = stderr_reader.join().unwrap();
    assert!(status.success(), "agent failed with {status}: {stderr}");
    assert!(!stderr.contains(" 0 reconnects"), "{stderr}");
    assert!(stderr.contains(" 0 rejected"), "{stderr}");

    let stored = stored_external_ids(&remote_db).await;
    assert_eq!(stored.len(), expected.len(), "{stderr}");
    assert_eq!(stored, expected);
}

#[tokio::test(flavor = "multi_thread")]
async fn agent_stops_on_unknown_token() {
    let tree = tempfile::tempdir().unwrap();
    std::fs::write(tree.path().join("app.py"), "import openai\n").unwrap();
    let config = tree.path().join("connectors.yaml");
    let config_text = format!(
        "connectors:\n  - {{name: app, kind: code, config: {{paths: [\"{}\"]}}}}\n",
        tree.path().display()
    );
    std::fs::write(&config, config_text).unwrap();
    let db = TestDb::new().await;
    let port = free_port();
    let _server = start_server(&db.app_url, port);

    let started = Instant::now();
    let output = secruna()
        .args(["agent", "--coordinator"])
        .arg(format!("http://127.0.0.1:{port}"))
        .arg("--config")
        .arg(&config)
        .env("SECRUNA_TOKEN", "sec_not_a_real_token")
        .output()
        .unwrap();

    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("Unauthenticated"), "{stderr}");
    assert!(!stderr.contains("reconnecting"), "{stderr}");
    assert!(started.elapsed() < Duration::from_secs(30), "{stderr}");
}
