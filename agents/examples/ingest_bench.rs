//! Load generator of `load-tests/ingest-bench.sh`: opens N concurrent
//! `Ingest.StreamFindings` streams through [`agents::remote::Uploader`] and pushes
//! generated findings as fast as the server acknowledges them.
//!
//! ```text
//! SECRUNA_TOKEN=sec_... cargo run --release -p agents --example ingest_bench -- \
//!     http://127.0.0.1:50051 STREAMS FINDINGS_PER_STREAM [BATCH_SIZE [MAX_UNACKED]]
//! ```
//!
//! Prints `key: value` lines on stdout: findings acknowledged, elapsed seconds, findings
//! per second and the p50, p99 and maximum acknowledgement latency in milliseconds.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use agents::remote::{RemoteConfig, UploadReport, Uploader};
use proto::{Finding, FindingKind};

/// Consecutive findings of a stream that share a project root, so one AI system on the
/// server. A code walk sends a project's findings close together in the same way.
const FINDINGS_PER_SYSTEM: usize = 200;

/// Libraries the generated dependency findings name.
const LIBRARIES: [(&str, &str); 4] = [
    ("openai", "hosted_api"),
    ("torch", "ml_library"),
    ("transformers", "ml_library"),
    ("langchain", "ml_library"),
];

fn usage() -> ! {
    eprintln!(
        "usage: ingest_bench ENDPOINT STREAMS FINDINGS_PER_STREAM [BATCH_SIZE [MAX_UNACKED]]; \
         the token comes from SECRUNA_TOKEN"
    );
    std::process::exit(2);
}

/// Returns finding `index` of stream `stream`; every one has its own external id.
fn generated_finding(stream: usize, index: usize) -> Finding {
    let scope = format!("bench/stream-{stream}");
    let root = format!("service-{}", index / FINDINGS_PER_SYSTEM);
    let path = format!(
        "{root}/module-{}/requirements.txt",
        index % FINDINGS_PER_SYSTEM
    );
    let (library, category) = LIBRARIES[index % LIBRARIES.len()];
    let attributes = BTreeMap::from([
        ("category".to_owned(), category.to_owned()),
        ("ecosystem".to_owned(), "pypi".to_owned()),
    ]);
    Finding {
        source: "bench".to_owned(),
        external_id: Finding::stable_id(&scope, &path, FindingKind::Dependency, library),
        scope,
        kind: FindingKind::Dependency,
        subject: library.to_owned(),
        path,
        line: Some(1),
        confidence: 0.9,
        project_root: root,
        attributes,
        evidence: Some(format!("{library}==1.0.{index}")),
    }
}

async fn run_stream(
    endpoint: String,
    token: String,
    stream: usize,
    count: usize,
    batch_size: usize,
    max_unacked: usize,
) -> UploadReport {
    let mut config = RemoteConfig::new(endpoint, token);
    config.batch_size = batch_size;
    config.max_unacked_batches = max_unacked;
    config.linger = Duration::from_millis(20);
    let uploader = Uploader::new(config).expect("valid uploader config");
    let (sender, receiver) = tokio::sync::mpsc::channel(4 * batch_size);
    tokio::spawn(async move {
        for index in 0..count {
            if sender.send(generated_finding(stream, index)).await.is_err() {
                return;
            }
        }
    });
    uploader.run(receiver).await.unwrap_or_else(|error| {
        eprintln!("stream {stream} failed: {error}");
        std::process::exit(1);
    })
}

fn percentile(sorted: &[Duration], fraction: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((sorted.len() as f64 * fraction).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1].as_secs_f64() * 1000.0
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() < 3 {
        usage();
    }
    let endpoint = args[0].clone();
    let streams: usize = args[1].parse().unwrap_or_else(|_| usage());
    let per_stream: usize = args[2].parse().unwrap_or_else(|_| usage());
    let batch_size: usize = args
        .get(3)
        .map_or(Ok(500), |size| size.parse())
        .unwrap_or_else(|_| usage());
    let max_unacked: usize = args
        .get(4)
        .map_or(Ok(2), |size| size.parse())
        .unwrap_or_else(|_| usage());
    let Ok(token) = std::env::var("SECRUNA_TOKEN") else {
        usage();
    };

    let started = Instant::now();
    let tasks: Vec<_> = (0..streams)
        .map(|stream| {
            tokio::spawn(run_stream(
                endpoint.clone(),
                token.clone(),
                stream,
                per_stream,
                batch_size,
                max_unacked,
            ))
        })
        .collect();
    let mut acknowledged = 0;
    let mut rejected = 0;
    let mut reconnects = 0;
    let mut latencies = Vec::new();
    for task in tasks {
        let report = task.await.expect("stream task panicked");
        acknowledged += report.findings_acknowledged;
        rejected += report.findings_rejected;
        reconnects += report.reconnects;
        latencies.extend(report.ack_latencies);
    }
    let elapsed = started.elapsed().as_secs_f64();
    latencies.sort();

    println!("streams: {streams}");
    println!("batch size: {batch_size}");
    println!("max unacknowledged batches per stream: {max_unacked}");
    println!("findings acknowledged: {acknowledged}");
    println!("findings rejected: {rejected}");
    println!("reconnects: {reconnects}");
    println!("elapsed s: {elapsed:.3}");
    println!("ingest findings/s: {:.0}", acknowledged as f64 / elapsed);
    println!("ack latency p50 ms: {:.1}", percentile(&latencies, 0.50));
    println!("ack latency p99 ms: {:.1}", percentile(&latencies, 0.99));
    println!(
        "ack latency max ms: {:.1}",
        latencies
            .last()
            .map_or(0.0, |max| max.as_secs_f64() * 1000.0)
    );
}
