//! `secruna agent`: runs the connectors of a config file on this machine and streams
//! their findings to a remote coordinator over gRPC.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use agents::remote::{Backoff, CrawlOutcome, RemoteConfig, UploadProgress, UploadReport, Uploader};
use agents::{CodeScanOptions, Source};
use anyhow::{Context, bail};
use coordinator::{CODE_KIND, CodeSourceFactory};
use indicatif::{ProgressBar, ProgressStyle};

/// Findings buffered between the crawls and the uploader.
const FINDING_CHANNEL_CAPACITY: usize = 4096;

/// Exit code when the upload finished but some scopes failed or findings were rejected.
const EXIT_PARTIAL: u8 = 2;

/// Arguments of `secruna agent`.
#[derive(Debug, clap::Args)]
pub(crate) struct AgentArgs {
    /// Coordinator gRPC address, e.g. http://secruna.example.internal:50051.
    #[arg(long, env = "SECRUNA_COORDINATOR", value_name = "URL")]
    coordinator: String,
    /// API token with write access. Prefer the SECRUNA_TOKEN variable, which keeps the
    /// token out of process listings.
    #[arg(
        long,
        env = "SECRUNA_TOKEN",
        value_name = "TOKEN",
        hide_env_values = true
    )]
    token: String,
    /// Connectors config file (YAML), the format `secruna scan --config` reads.
    #[arg(long, value_name = "FILE")]
    config: PathBuf,
    /// Runs only this connector of the config file; repeatable. Default: all of them.
    #[arg(long = "connector", value_name = "NAME")]
    connectors: Vec<String>,
    /// Findings per batch, from 1 to 1000.
    #[arg(long, default_value_t = agents::remote::DEFAULT_BATCH_SIZE, value_name = "N")]
    batch_size: usize,
    /// Batches sent but not yet acknowledged before reading pauses.
    #[arg(long, default_value_t = agents::remote::DEFAULT_MAX_UNACKED_BATCHES, value_name = "N")]
    max_unacked_batches: usize,
    /// Upper bound of the delay between reconnection attempts, in seconds.
    #[arg(long, default_value_t = 30.0, value_name = "SECONDS")]
    max_backoff: f64,
    /// Files larger than this many bytes are skipped by code connectors, except model
    /// artefacts, which are hashed.
    #[arg(long, value_name = "BYTES")]
    max_file_size: Option<u64>,
}

/// Runs the agent; exits 0 when everything was stored, 2 when some scopes failed or
/// findings were rejected, and 1 when the coordinator rejected the stream.
pub(crate) async fn run(args: AgentArgs) -> anyhow::Result<ExitCode> {
    let sources = build_sources(&args)?;
    let mut config = RemoteConfig::new(args.coordinator.clone(), args.token.clone());
    config.batch_size = args.batch_size;
    config.max_unacked_batches = args.max_unacked_batches;
    if !(args.max_backoff.is_finite() && args.max_backoff > 0.0) {
        bail!(
            "--max-backoff {} is invalid: give a positive number of seconds",
            args.max_backoff
        );
    }
    let max = Duration::from_secs_f64(args.max_backoff);
    config.backoff = Backoff {
        initial: Backoff::default().initial.min(max),
        max,
    };
    let uploader = Uploader::new(config)?;
    let bar = progress_bar(uploader.progress());

    let (sink, findings) = agents::remote::finding_channel(FINDING_CHANNEL_CAPACITY);
    let crawl = tokio::spawn(async move { agents::remote::crawl_sources(&sources, sink).await });
    // The upload ends after the crawls have ended and dropped the sink, which closes its
    // input, or earlier when the coordinator rejects the stream.
    let report = uploader.run(findings).await;
    if let Some((bar, ticker)) = bar {
        ticker.abort();
        bar.finish_and_clear();
    }
    let report = match report {
        Ok(report) => report,
        Err(error) => {
            crawl.abort();
            return Err(error)
                .with_context(|| format!("streaming to {} stopped", args.coordinator));
        }
    };
    let outcomes = crawl.await.context("the crawl task failed")?;
    print_summary(&outcomes, &report);
    let failed_scopes = outcomes.iter().any(|outcome| outcome.result.is_err());
    Ok(if failed_scopes || report.findings_rejected > 0 {
        ExitCode::from(EXIT_PARTIAL)
    } else {
        ExitCode::SUCCESS
    })
}

/// Loads the config file and builds a source per selected connector, with the registry
/// of `secruna scan` plus the code connector.
fn build_sources(args: &AgentArgs) -> anyhow::Result<Vec<(String, Arc<dyn Source>)>> {
    let mut specs = super::connectors::file::load(&args.config)?;
    for name in &args.connectors {
        if !specs.iter().any(|spec| &spec.name == name) {
            bail!(
                "--connector `{name}` is not in `{}`; check the names in the file",
                args.config.display()
            );
        }
    }
    if !args.connectors.is_empty() {
        specs.retain(|spec| args.connectors.contains(&spec.name));
    }
    let mut options = CodeScanOptions::default();
    if let Some(max_file_size) = args.max_file_size {
        options.max_file_size = max_file_size;
    }
    let mut registry = super::connectors::source_registry();
    registry.register(CODE_KIND, Arc::new(CodeSourceFactory { options }));
    specs
        .iter()
        .map(|spec| {
            let source = registry
                .build(spec)
                .map_err(|error| anyhow::anyhow!("connector `{}`: {error}", spec.name))?;
            Ok((spec.name.clone(), source))
        })
        .collect()
}

/// Prints failed scopes, rejected findings and the totals on stderr.
fn print_summary(outcomes: &[CrawlOutcome], report: &UploadReport) {
    for outcome in outcomes {
        if let Err(error) = &outcome.result {
            eprintln!(
                "connector {} scope {}: failed: {error}",
                outcome.connector, outcome.scope
            );
        }
    }
    for rejection in &report.rejections {
        eprintln!(
            "rejected {} {}: {}",
            rejection.idempotency_key, rejection.field, rejection.message
        );
    }
    let listed = report.rejections.len() as u64;
    if report.findings_rejected > listed {
        eprintln!(
            "... and {} more rejected findings",
            report.findings_rejected - listed
        );
    }
    eprintln!(
        "{} scopes crawled, {} batches ({} sends), {} findings sent, {} acknowledged, {} \
         rejected, {} repeats skipped, {} reconnects",
        outcomes.len(),
        report.batches,
        report.batch_sends,
        report.findings_sent,
        report.findings_acknowledged,
        report.findings_rejected,
        report.duplicates_skipped,
        report.reconnects
    );
}

/// Shows a spinner with the upload counters when stderr is a terminal.
fn progress_bar(
    progress: Arc<UploadProgress>,
) -> Option<(ProgressBar, tokio::task::JoinHandle<()>)> {
    if !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = ProgressBar::new_spinner();
    bar.set_style(ProgressStyle::with_template("{spinner} {elapsed} {msg}").ok()?);
    let ticking = bar.clone();
    let ticker = tokio::spawn(async move {
        loop {
            ticking.set_message(format!(
                "{} findings sent, {} acknowledged, {} rejected, {} batch sends, {} reconnects",
                progress.findings_sent.load(Ordering::Relaxed),
                progress.findings_acknowledged.load(Ordering::Relaxed),
                progress.findings_rejected.load(Ordering::Relaxed),
                progress.batches_sent.load(Ordering::Relaxed),
                progress.reconnects.load(Ordering::Relaxed),
            ));
            ticking.tick();
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    });
    Some((bar, ticker))
}
