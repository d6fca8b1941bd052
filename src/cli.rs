//! Subcommands and their arguments.

mod agent;
mod connectors;
mod database;
mod output;
mod pack;
mod scan;
mod serve;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

/// Finds the AI systems in code and checks them against the frameworks a tenant subscribes to.
#[derive(Debug, Parser)]
#[command(name = "secruna", version, about)]
pub(crate) struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Scans folders or local git repositories and the connectors of a config file,
    /// classifies the AI systems found and evaluates them; stores everything in Postgres.
    Scan(ScanArgs),
    /// Stores and lists the connectors of a tenant (cloud accounts, code hosts, inventories).
    Connectors {
        #[command(subcommand)]
        command: connectors::ConnectorsCommand,
    },
    /// Applies the database migrations as the owner (`DATABASE_ADMIN_URL`), or creates and
    /// migrates the embedded cluster when no database URL is set.
    Migrate(DataDirArg),
    /// Checks evidence packs offline.
    Pack {
        #[command(subcommand)]
        command: pack::PackCommand,
    },
    /// Works with the rule book.
    Rules {
        #[command(subcommand)]
        command: RulesCommand,
    },
    /// Works with the audit trail.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Inspects the detector catalogue.
    Catalogue {
        #[command(subcommand)]
        command: CatalogueCommand,
    },
    /// Serves the REST API and runs scans until SIGINT or SIGTERM.
    Serve(serve::ServeArgs),
    /// Runs the connectors of a config file here and streams their findings to a remote
    /// coordinator over gRPC, resending what was not acknowledged after a disconnect.
    Agent(agent::AgentArgs),
    /// Creates API tokens (the first one bootstraps access to the API).
    Tokens {
        #[command(subcommand)]
        command: TokensCommand,
    },
    /// Creates users who sign in to the API.
    Users {
        #[command(subcommand)]
        command: UsersCommand,
    },
}

#[derive(Debug, Subcommand)]
enum CatalogueCommand {
    /// Prints the literal keywords the code detectors search for, one per line.
    Patterns,
    /// Prints the canonical subjects of the catalogue's entries, one per line.
    Subjects,
}

#[derive(Debug, Subcommand)]
enum TokensCommand {
    /// Creates an API token and prints its secret once on stdout.
    Create(serve::TokenCreateArgs),
}

#[derive(Debug, Subcommand)]
enum UsersCommand {
    /// Creates a user; the password comes from SECRUNA_PASSWORD or the first line of stdin.
    Create(serve::UserCreateArgs),
}

#[derive(Debug, Subcommand)]
enum RulesCommand {
    /// Loads and validates every rule pack, printing the rule count per framework.
    Check {
        /// Rule book folder holding one sub-folder per framework; the embedded book when unset.
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
enum AuditCommand {
    /// Recomputes a tenant's audit hash chain and names the first bad row.
    Verify {
        /// Tenant slug path.
        #[arg(long, default_value = "default")]
        tenant: String,
        #[command(flatten)]
        data_dir: DataDirArg,
    },
}

/// Data folder option of the embedded Postgres.
#[derive(Debug, clap::Args)]
pub(crate) struct DataDirArg {
    /// Data folder of the embedded Postgres, used when neither DATABASE_URL nor
    /// DATABASE_ADMIN_URL is set [default: /var/lib/secruna as root, else
    /// $XDG_DATA_HOME/secruna or ~/.local/share/secruna].
    #[arg(long, env = "SECRUNA_DATA_DIR", value_name = "DIR")]
    pub(crate) data_dir: Option<PathBuf>,
}

/// Output format of `secruna scan`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Format {
    /// Human-readable tables.
    Table,
    /// One JSON document on stdout.
    Json,
}

/// Arguments of `secruna scan`.
#[derive(Debug, clap::Args)]
pub(crate) struct ScanArgs {
    /// Folders or local git repositories to scan; each is one scope. Optional with --config.
    #[arg(value_name = "PATH", required_unless_present = "config")]
    pub(crate) paths: Vec<PathBuf>,
    /// Connectors config file (YAML) whose connectors are scanned with the paths.
    #[arg(long, value_name = "FILE")]
    pub(crate) config: Option<PathBuf>,
    /// Scans only this connector of the config file; repeatable. Default: all of them.
    #[arg(long = "connector", value_name = "NAME", requires = "config")]
    pub(crate) connectors: Vec<String>,
    /// Tenant slug path (`acme`, or `acme/emea` for a subsidiary); created when missing.
    #[arg(long, default_value = "default")]
    pub(crate) tenant: String,
    /// Framework to evaluate, repeatable; added to the tenant's subscription. Without it the
    /// current subscription is used (the EU AI Act for a new tenant).
    #[arg(long = "framework", value_name = "SLUG")]
    pub(crate) frameworks: Vec<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub(crate) format: Format,
    /// Files larger than this many bytes are skipped, except model artefacts, which are hashed.
    #[arg(long, value_name = "BYTES")]
    pub(crate) max_file_size: Option<u64>,
    #[command(flatten)]
    pub(crate) data_dir: DataDirArg,
}

/// Runs the parsed command and returns the process exit code.
pub(crate) async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Scan(args) => scan::run(args).await,
        Command::Connectors { command } => connectors::run(command).await,
        Command::Migrate(data_dir) => database::migrate(data_dir)
            .await
            .map(|()| ExitCode::SUCCESS),
        Command::Rules {
            command: RulesCommand::Check { dir },
        } => rules_check(dir),
        Command::Audit {
            command: AuditCommand::Verify { tenant, data_dir },
        } => database::audit_verify(&tenant, data_dir).await,
        Command::Catalogue { command } => {
            let catalogue = agents::Catalogue::embedded();
            let lines: Vec<&str> = match command {
                CatalogueCommand::Patterns => catalogue.search_patterns(),
                CatalogueCommand::Subjects => catalogue.subjects().collect(),
            };
            let text: String = lines.into_iter().map(|line| format!("{line}\n")).collect();
            output::write_stdout(&text)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Pack { command } => pack::run(command),
        Command::Serve(args) => serve::run(args).await,
        Command::Agent(args) => agent::run(args).await,
        Command::Tokens {
            command: TokensCommand::Create(args),
        } => serve::create_token(args).await,
        Command::Users {
            command: UsersCommand::Create(args),
        } => serve::create_user(args).await,
    }
}

/// Validates a rule book and prints what it holds.
fn rules_check(dir: Option<PathBuf>) -> anyhow::Result<ExitCode> {
    let book = match &dir {
        Some(dir) => rule_book::RuleBook::load_dir(dir)?,
        None => rule_book::RuleBook::embedded()?,
    };
    for framework in book.frameworks() {
        println!("{}: {} rules", framework.slug, framework.rules.len());
    }
    println!("rule book version {}", book.version_hash());
    Ok(ExitCode::SUCCESS)
}
