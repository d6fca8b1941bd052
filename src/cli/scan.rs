//! `secruna scan`: runs the whole path from a code tree to stored verdicts.

use std::io::IsTerminal;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use agents::{CodeScanOptions, ScanProgress};
use anyhow::Context;
use coordinator::{CodeCrawler, Coordinator, CoordinatorConfig, ScanRequest, ScanStatus};
use indicatif::{ProgressBar, ProgressStyle};

use super::database::Database;
use super::output;
use super::{Format, ScanArgs};

/// Runs a scan and prints its result; exits non-zero only when the scan failed.
pub(crate) async fn run(args: ScanArgs) -> anyhow::Result<ExitCode> {
    let rule_book = Arc::new(rule_book::RuleBook::embedded().context("loading the rule book")?);
    let database = Database::open(args.data_dir.data_dir.clone()).await?;
    let result = scan(&database, rule_book, args).await;
    database.close().await;
    result
}

async fn scan(
    database: &Database,
    rule_book: Arc<rule_book::RuleBook>,
    args: ScanArgs,
) -> anyhow::Result<ExitCode> {
    let mut options = CodeScanOptions::default();
    if let Some(max_file_size) = args.max_file_size {
        options.max_file_size = max_file_size;
    }
    let crawler = Arc::new(CodeCrawler::new(options));
    let config = CoordinatorConfig::new(database.store.clone(), rule_book, crawler);
    let coordinator = Coordinator::spawn(config).await?;

    let progress = Arc::new(ScanProgress::default());
    let request = ScanRequest {
        tenant: args.tenant.clone(),
        targets: args.paths,
        frameworks: args.frameworks,
        requested_by: format!("cli:{}", std::env::var("USER").unwrap_or_else(|_| "unknown".to_owned())),
        progress: progress.clone(),
    };
    let bar = progress_bar(progress);
    let outcome = coordinator.scan(request).await;
    if let Some((bar, ticker)) = bar {
        ticker.abort();
        bar.finish_and_clear();
    }
    coordinator.shutdown().await;
    let outcome = outcome?;

    let report = output::load_report(&database.store, &args.tenant, &outcome).await?;
    match args.format {
        Format::Json => println!("{}", serde_json::to_string_pretty(&report)?),
        Format::Table => output::print_table(&report, &outcome),
    }
    Ok(match outcome.status {
        ScanStatus::Failed => ExitCode::FAILURE,
        ScanStatus::Completed | ScanStatus::Partial => ExitCode::SUCCESS,
    })
}

/// Shows a spinner with walk counters when stderr is a terminal.
fn progress_bar(progress: Arc<ScanProgress>) -> Option<(ProgressBar, tokio::task::JoinHandle<()>)> {
    if !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = ProgressBar::new_spinner();
    bar.set_style(ProgressStyle::with_template("{spinner} {elapsed} {msg}").ok()?);
    let ticking = bar.clone();
    let ticker = tokio::spawn(async move {
        loop {
            ticking.set_message(format!(
                "{} files seen, {} scanned, {} MiB read, {} findings",
                progress.files_seen.load(Ordering::Relaxed),
                progress.files_scanned.load(Ordering::Relaxed),
                progress.bytes_read.load(Ordering::Relaxed) / (1024 * 1024),
                progress.findings.load(Ordering::Relaxed),
            ));
            ticking.tick();
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    });
    Some((bar, ticker))
}
