//! Scans a folder with the embedded catalogue and prints the report and the findings per kind.
//!
//! Usage: `cargo run -p agents --example scan_tree -- PATH [--list]`

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Instant;

use agents::{Catalogue, CodeScanOptions, ScanProgress, scan_tree};

fn main() {
    let mut arguments = std::env::args().skip(1);
    let Some(root) = arguments.next().map(PathBuf::from) else {
        eprintln!("usage: scan_tree PATH [--list]");
        std::process::exit(2);
    };
    let list = arguments.next().as_deref() == Some("--list");

    let started = Instant::now();
    let catalogue = Catalogue::embedded();
    let findings = Mutex::new(Vec::new());
    let sink = |finding: proto::Finding| findings.lock().expect("sink lock").push(finding);
    let report = match scan_tree(
        &root,
        catalogue,
        &CodeScanOptions::default(),
        &ScanProgress::default(),
        &sink,
    ) {
        Ok(report) => report,
        Err(error) => {
            eprintln!("{error}");
            std::process::exit(1);
        }
    };
    let elapsed = started.elapsed();

    let mut findings = findings.into_inner().expect("sink lock");
    findings.sort_by(|left, right| (&left.path, left.line).cmp(&(&right.path, right.line)));
    let mut per_kind: BTreeMap<&str, usize> = BTreeMap::new();
    for finding in &findings {
        *per_kind.entry(finding.kind.as_str()).or_default() += 1;
        if list {
            let line = finding
                .line
                .map(|line| line.to_string())
                .unwrap_or_default();
            println!(
                "{}:{}\t{}\t{}\t[{}]",
                finding.path, line, finding.kind, finding.subject, finding.project_root
            );
        }
    }
    println!(
        "files_seen={} files_scanned={} bytes_read={} skipped_too_large={} errors={} findings={} elapsed_ms={}",
        report.files_seen,
        report.files_scanned,
        report.bytes_read,
        report.skipped_too_large,
        report.errors.len(),
        findings.len(),
        elapsed.as_millis()
    );
    for (kind, count) in per_kind {
        println!("  {kind}: {count}");
    }
    for issue in report.errors.iter().take(20) {
        println!("  issue {}: {}", issue.path, issue.message);
    }
}
