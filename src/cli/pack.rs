//! `secruna pack`: offline checks of evidence packs.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;

/// Subcommands of `secruna pack`.
#[derive(Debug, clap::Subcommand)]
pub(crate) enum PackCommand {
    /// Checks an evidence pack offline: every file against the SHA-256 in its manifest,
    /// and no file left out of the manifest. Exits 1 when the pack was changed.
    Verify {
        /// The evidence pack ZIP.
        file: PathBuf,
    },
}

/// Runs a `secruna pack` subcommand.
pub(crate) fn run(command: PackCommand) -> anyhow::Result<ExitCode> {
    match command {
        PackCommand::Verify { file } => verify(&file),
    }
}

fn verify(file: &PathBuf) -> anyhow::Result<ExitCode> {
    let bytes = std::fs::read(file)
        .with_context(|| format!("reading evidence pack `{}` failed", file.display()))?;
    match coordinator::evidence::verify(&bytes) {
        Ok(report) => {
            let manifest = &report.manifest;
            let head = manifest
                .audit_chain_head
                .as_ref()
                .map(|head| format!("row {} ({})", head.seq, head.row_hash))
                .unwrap_or_else(|| "empty".to_owned());
            println!(
                "{}: verified, {} files match the manifest\ntenant {}, framework {} {}, generated {} by {}\nrule book {}\naudit chain head {head}",
                file.display(),
                report.num_files_checked,
                manifest.tenant,
                manifest.framework,
                manifest.framework_version,
                manifest.generated_at,
                manifest.generated_by,
                manifest.rule_book_version_hash,
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(error) => {
            eprintln!("{}: verification failed: {error}", file.display());
            Ok(ExitCode::FAILURE)
        }
    }
}
