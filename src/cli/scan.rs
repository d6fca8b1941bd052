//! `secruna scan`: runs the whole path from code trees and connectors to stored verdicts.

use std::io::IsTerminal;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use agents::{ConnectorSpec, ScanProgress};
use anyhow::{Context, bail};
use coordinator::{Coordinator, CoordinatorConfig, ScanRequest, ScanStatus};
use indicatif::{ProgressBar, ProgressStyle};

use super::database::Database;
use super::output;
use super::{Format, ScanArgs};

/// Exit code of a scan that finished `partial`: some scopes were not fully covered.
const EXIT_PARTIAL: u8 = 2;

/// Runs a scan and prints its result; exits 0 when it completed, 2 when it is partial and
/// 1 when it failed or was cancelled.
pub(crate) async fn run(args: ScanArgs) -> anyhow::Result<ExitCode> {
    let connectors = selected_connectors(&args)?;
    let rule_book = Arc::new(rule_book::RuleBook::embedded().context("loading the rule book")?);
    let database = Database::open(args.data_dir.data_dir.clone()).await?;
    let result = scan(&database, rule_book, args, connectors).await;
    database.close().await;
    result
}

/// Returns the connectors of `--config`, narrowed to the `--connector` names.
fn selected_connectors(args: &ScanArgs) -> anyhow::Result<Vec<ConnectorSpec>> {
    let Some(path) = &args.config else {
        return Ok(Vec::new());
    };
    let specs = super::connectors::file::load(path)?;
    if args.connectors.is_empty() {
        return Ok(specs);
    }
    for name in &args.connectors {
        if !specs.iter().any(|spec| &spec.name == name) {
            let known: Vec<&str> = specs.iter().map(|spec| spec.name.as_str()).collect();
            bail!(
                "--connector `{name}` is not in `{}`; it lists {}",
                path.display(),
                known.join(", ")
            );
        }
    }
    Ok(specs
        .into_iter()
        .filter(|spec| args.connectors.contains(&spec.name))
        .collect())
}

async fn scan(
    database: &Database,
    rule_book: Arc<rule_book::RuleBook>,
    args: ScanArgs,
    connectors: Vec<ConnectorSpec>,
) -> anyhow::Result<ExitCode> {
    let sources = super::connectors::source_registry();
    let mut config = CoordinatorConfig::new(database.store.clone(), rule_book, sources);
    if let Some(max_file_size) = args.max_file_size {
        config.code_options.max_file_size = max_file_size;
    }
    let coordinator = Coordinator::spawn(config).await?;

    let progress = Arc::new(ScanProgress::default());
    let request = ScanRequest {
        tenant: args.tenant.clone(),
        targets: args.paths,
        connectors,
        frameworks: args.frameworks,
        requested_by: cli_actor(),
        progress: progress.clone(),
    };
    let bar = progress_bar(progress);
    let outcome = run_until_signal(&coordinator, request).await;
    if let Some((bar, ticker)) = bar {
        ticker.abort();
        bar.finish_and_clear();
    }
    let outcome = match outcome {
        Ok(Finished::Outcome(outcome)) => outcome,
        Ok(Finished::Interrupted { scan_id, signal }) => {
            let closed = cancel(&coordinator, &database.store, &args.tenant, scan_id, signal).await;
            coordinator.shutdown().await;
            closed?;
            eprintln!("scan {scan_id} interrupted by {signal}; recorded as cancelled");
            return Ok(ExitCode::from(130));
        }
        Err(error) => {
            coordinator.shutdown().await;
            return Err(error);
        }
    };
    coordinator.shutdown().await;

    let report = output::load_report(&database.store, &args.tenant, &outcome).await?;
    let text = match args.format {
        Format::Json => serde_json::to_string_pretty(&report)? + "\n",
        Format::Table => output::render_table(&report, &outcome),
    };
    output::write_stdout(&text)?;
    Ok(match outcome.status {
        ScanStatus::Completed => ExitCode::SUCCESS,
        ScanStatus::Partial => ExitCode::from(EXIT_PARTIAL),
        ScanStatus::Failed | ScanStatus::Cancelled => ExitCode::FAILURE,
    })
}

fn cli_actor() -> String {
    format!(
        "cli:{}",
        std::env::var("USER").unwrap_or_else(|_| "unknown".to_owned())
    )
}

/// End of a scan run.
enum Finished {
    /// The scan finished, successfully or not.
    Outcome(coordinator::ScanOutcome),
    /// A signal arrived first.
    Interrupted {
        /// The scan that was running.
        scan_id: uuid::Uuid,
        /// `SIGINT` or `SIGTERM`.
        signal: &'static str,
    },
}

/// Runs the scan until it finishes or SIGINT or SIGTERM arrives.
async fn run_until_signal(
    coordinator: &Coordinator,
    request: ScanRequest,
) -> anyhow::Result<Finished> {
    let handle = coordinator.start_scan(request).await?;
    let scan_id = handle.scan_id();
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .context("installing the SIGTERM handler")?;
    tokio::select! {
        outcome = handle.outcome() => Ok(Finished::Outcome(outcome?)),
        _ = tokio::signal::ctrl_c() => Ok(Finished::Interrupted { scan_id, signal: "SIGINT" }),
        _ = terminate.recv() => Ok(Finished::Interrupted { scan_id, signal: "SIGTERM" }),
    }
}

/// Cancels an interrupted scan through the coordinator, which stops its crawls, closes it
/// `cancelled` and audits the cancel for the CLI user. A scan the coordinator no longer
/// runs is closed as failed here, with its own audit row, unless it finished meanwhile.
async fn cancel(
    coordinator: &Coordinator,
    store: &store::Store,
    tenant: &str,
    scan_id: uuid::Uuid,
    signal: &str,
) -> anyhow::Result<()> {
    let ctx = store::TenantContext::new(store::TenantPath::from_slug_path(tenant)?);
    if coordinator
        .cancel_scan_audited(&ctx, scan_id, &cli_actor())
        .await?
    {
        return Ok(());
    }
    let mut tx = store.begin(&ctx).await?;
    let running = store::scans::get(&mut tx, scan_id)
        .await?
        .is_some_and(|scan| scan.status == "running");
    if running {
        let error = format!("interrupted by {signal} before it finished");
        let summary = serde_json::json!({ "interrupted_by": signal });
        store::scans::finish(&mut tx, scan_id, "failed", summary.clone(), Some(&error)).await?;
        let entry = store::audit::AuditEntry {
            actor_type: "cli".to_owned(),
            actor_id: std::env::var("USER").unwrap_or_else(|_| "unknown".to_owned()),
            entity_type: "scan".to_owned(),
            entity_id: scan_id.to_string(),
            action: "scan.interrupted".to_owned(),
            diff: summary,
            ip: None,
            user_agent: None,
            request_id: None,
        };
        store::audit::append(&mut tx, entry).await?;
    }
    tx.commit().await?;
    Ok(())
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
