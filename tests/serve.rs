//! `secruna serve` as a process: it listens, serves requests on a real socket,
//! and stops cleanly on SIGTERM.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use store::testing::TestDb;

/// Sends one HTTP/1.1 request and returns the status code and body.
fn http_get(address: &str, path: &str, token: Option<&str>) -> (u16, String) {
    let mut stream = TcpStream::connect(address).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let authorization = token
        .map(|token| format!("Authorization: Bearer {token}\r\n"))
        .unwrap_or_default();
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: localhost\r\n{authorization}Connection: close\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let status = response[9..12].parse().unwrap();
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, body)| body.to_owned())
        .unwrap_or_default();
    (status, body)
}

/// Server process that is killed when a failing test unwinds.
struct ServerProcess(Child);

impl Drop for ServerProcess {
    fn drop(&mut self) {
        if let Ok(None) = self.0.try_wait() {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

/// Starts `secruna serve` on a free loopback port and returns the process,
/// its address, and a channel with the rest of its log lines.
fn start_server(database_url: &str) -> (ServerProcess, String, mpsc::Receiver<String>) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_secruna"))
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env("DATABASE_URL", database_url)
        .env_remove("DATABASE_ADMIN_URL")
        .env("RUST_LOG", "info")
        .env("NO_COLOR", "1")
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (line_tx, line_rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if line_tx.send(line).is_err() {
                break;
            }
        }
    });
    let marker = "gateway listening on ";
    loop {
        let line = line_rx
            .recv_timeout(Duration::from_secs(60))
            .expect("server did not start listening");
        if let Some(start) = line.find(marker) {
            let rest = &line[start + marker.len()..];
            let address: String = rest
                .chars()
                .take_while(|ch| !ch.is_whitespace() && *ch != '\u{1b}')
                .collect();
            return (ServerProcess(child), address, line_rx);
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn serve_answers_and_stops_on_sigterm() {
    let db = TestDb::new().await;
    let token_output = Command::new(env!("CARGO_BIN_EXE_secruna"))
        .args(["tokens", "create", "--tenant", "acme", "--scope", "read"])
        .env("DATABASE_URL", &db.app_url)
        .env_remove("DATABASE_ADMIN_URL")
        .output()
        .unwrap();
    assert!(
        token_output.status.success(),
        "{}",
        String::from_utf8_lossy(&token_output.stderr)
    );
    let token = String::from_utf8(token_output.stdout)
        .unwrap()
        .trim()
        .to_owned();
    assert!(token.starts_with("sec_"), "{token}");

    let (mut server, address, log_lines) = start_server(&db.app_url);
    let (readyz_status, readyz_body) = http_get(&address, "/readyz", None);
    assert_eq!(readyz_status, 200);
    assert_eq!(readyz_body, "ready");
    let (status, body) = http_get(&address, "/api/v1/subscriptions", Some(&token));
    assert_eq!(status, 200, "{body}");
    let (status, _) = http_get(&address, "/api/v1/subscriptions", None);
    assert_eq!(status, 401);

    let killed = Command::new("kill")
        .args(["-TERM", &server.0.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let exit = server.0.wait().unwrap();
    assert!(exit.success(), "exit status {exit}");
    // The reader thread ends at end of file, which follows the exit.
    let rest: Vec<String> = log_lines.iter().collect();
    assert!(
        rest.iter().any(|line| line.contains("gateway stopped")),
        "{rest:?}"
    );
}
