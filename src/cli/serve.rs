//! `secruna serve`: the REST gateway and the actor tree in one process, and
//! the bootstrap commands that create the first users and API tokens.

use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use coordinator::{Coordinator, CoordinatorConfig};
use gateway::{AppState, GatewayConfig};

use super::DataDirArg;
use super::database::Database;

/// Arguments of `secruna serve`.
#[derive(Debug, clap::Args)]
pub(crate) struct ServeArgs {
    /// Address and port to listen on.
    #[arg(
        long,
        env = "SECRUNA_LISTEN",
        default_value = "127.0.0.1:8080",
        value_name = "ADDR:PORT"
    )]
    listen: SocketAddr,
    /// Address and port the gRPC API listens on.
    #[arg(
        long,
        env = "SECRUNA_GRPC_ADDR",
        default_value = coordinator::grpc::DEFAULT_GRPC_ADDR,
        value_name = "ADDR:PORT"
    )]
    grpc_addr: SocketAddr,
    /// Folder under which POST /api/v1/scans may scan; scanning through the API is off without it.
    #[arg(long, env = "SECRUNA_SCAN_ROOT", value_name = "DIR")]
    scan_root: Option<PathBuf>,
    /// Sustained API requests per second allowed per tenant.
    #[arg(long, env = "SECRUNA_RATE_PER_SECOND", default_value_t = gateway::DEFAULT_RATE_PER_SECOND)]
    rate_per_second: u32,
    /// Requests a tenant may send in a burst above the sustained rate.
    #[arg(long, env = "SECRUNA_RATE_BURST", default_value_t = gateway::DEFAULT_RATE_BURST)]
    rate_burst: u32,
    /// Lifetime of a session token, in minutes.
    #[arg(long, env = "SECRUNA_SESSION_MINUTES", default_value_t = 720)]
    session_minutes: u64,
    /// Bearer token that scrapes of GET /metrics must send; without it /metrics is open to
    /// anyone who can reach the listen address.
    #[arg(
        long,
        env = "SECRUNA_METRICS_TOKEN",
        value_name = "TOKEN",
        hide_env_values = true
    )]
    metrics_token: Option<String>,
    /// Key that encrypts connector secrets at rest: 32 random bytes in base64
    /// (`openssl rand -base64 32`). Without it the API stores no secrets.
    #[arg(
        long,
        env = "SECRUNA_SECRET_KEY",
        value_name = "BASE64",
        hide_env_values = true
    )]
    secret_key: Option<String>,
    /// Private, loopback or link-local network (CIDR) that webhooks may reach; repeatable.
    /// Without it, destinations resolving to such addresses are rejected.
    #[arg(long = "webhook-allow", value_name = "CIDR")]
    webhook_allow: Vec<gateway::AllowedNetwork>,
    #[command(flatten)]
    data_dir: DataDirArg,
}

/// Arguments of `secruna tokens create`.
#[derive(Debug, clap::Args)]
pub(crate) struct TokenCreateArgs {
    /// Tenant slug path the token acts for; created when missing.
    #[arg(long)]
    tenant: String,
    /// read, write or admin.
    #[arg(long)]
    scope: String,
    /// Label of the token.
    #[arg(long, default_value = "cli")]
    name: String,
    /// Days until the token expires; without it the token does not expire.
    #[arg(long, value_name = "DAYS")]
    expires_in_days: Option<u32>,
    #[command(flatten)]
    data_dir: DataDirArg,
}

/// Arguments of `secruna users create`.
#[derive(Debug, clap::Args)]
pub(crate) struct UserCreateArgs {
    /// Tenant slug path of the user; created when missing.
    #[arg(long)]
    tenant: String,
    /// E-mail address used to sign in.
    #[arg(long)]
    email: String,
    /// admin, member or auditor.
    #[arg(long, default_value = "member")]
    role: String,
    #[command(flatten)]
    data_dir: DataDirArg,
}

/// Runs the gateway and the actor tree until SIGINT or SIGTERM.
pub(crate) async fn run(args: ServeArgs) -> anyhow::Result<ExitCode> {
    let mut config = gateway_config(&args)?;
    config.metrics = Some(gateway::install_metrics_recorder()?);
    let rule_book = Arc::new(rule_book::RuleBook::embedded().context("loading the rule book")?);
    let database = Database::open(args.data_dir.data_dir.clone()).await?;
    let grpc = grpc_listen(&args, &config);
    let result = serve(&database, rule_book, config, args.listen, grpc).await;
    database.close().await;
    result.map(|()| ExitCode::SUCCESS)
}

fn gateway_config(args: &ServeArgs) -> anyhow::Result<GatewayConfig> {
    let scan_root = args
        .scan_root
        .as_ref()
        .map(|root| {
            std::fs::canonicalize(root)
                .with_context(|| format!("--scan-root `{}` cannot be resolved", root.display()))
        })
        .transpose()?;
    let secret_key = args
        .secret_key
        .as_deref()
        .filter(|key| !key.is_empty())
        .map(gateway::SecretKey::from_base64)
        .transpose()?;
    if secret_key.is_none() {
        tracing::warn!("SECRUNA_SECRET_KEY is not set; the API rejects connectors with secrets");
    }
    let rate_per_second =
        NonZeroU32::new(args.rate_per_second).context("--rate-per-second must be at least 1")?;
    let rate_burst = NonZeroU32::new(args.rate_burst).context("--rate-burst must be at least 1")?;
    Ok(GatewayConfig {
        scan_root,
        session_ttl: std::time::Duration::from_secs(args.session_minutes.max(1) * 60),
        rate_per_second,
        rate_burst,
        metrics_token: args.metrics_token.clone().filter(|token| !token.is_empty()),
        secret_key,
        webhook_allow: args.webhook_allow.clone(),
        ..GatewayConfig::default()
    })
}

async fn serve(
    database: &Database,
    rule_book: Arc<rule_book::RuleBook>,
    config: GatewayConfig,
    listen: SocketAddr,
    grpc: GrpcListen,
) -> anyhow::Result<()> {
    let sources = super::connectors::source_registry();
    let coordinator_config =
        CoordinatorConfig::new(database.store.clone(), rule_book.clone(), sources);
    let coordinator = Arc::new(Coordinator::spawn(coordinator_config).await?);
    let grpc_state = coordinator::grpc::GrpcState::new(
        database.store.clone(),
        coordinator.clone(),
        rule_book.clone(),
        grpc.config,
    );
    let state = AppState::new(
        database.store.clone(),
        coordinator.clone(),
        rule_book,
        config,
    );
    let grpc_listener = tokio::net::TcpListener::bind(grpc.address)
        .await
        .with_context(|| {
            format!(
                "listening on {} failed; pick a free port with --grpc-addr",
                grpc.address
            )
        })?;

    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("listening on {listen} failed; pick a free port with --listen"))?;
    let address = listener.local_addr()?;
    tracing::info!(listen.address = %address, "gateway listening on {address}");
    // One signal stops both servers: the gateway's shutdown future tells the gRPC server.
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(());
    let grpc_task = tokio::spawn(coordinator::grpc::serve(
        grpc_listener,
        grpc_state,
        wait_for_stop(stop_rx),
    ));
    let gateway_shutdown = async move {
        shutdown_signal().await;
        let _ = stop_tx.send(());
    };
    let served = gateway::serve(listener, state, gateway_shutdown).await;
    tracing::info!(listen.address = %address, "gateway stopped; in-flight requests finished");
    let grpc_served = grpc_task.await;

    match Arc::try_unwrap(coordinator) {
        Ok(coordinator) => coordinator.shutdown().await,
        Err(_) => {
            tracing::warn!("actor tree still referenced at shutdown; it stops with the process")
        }
    }
    served.context("serving HTTP failed")?;
    grpc_served
        .context("the gRPC server task failed")?
        .context("serving gRPC failed")
}

/// Listen address and settings of the gRPC API.
struct GrpcListen {
    address: SocketAddr,
    config: coordinator::grpc::GrpcConfig,
}

/// Builds the gRPC settings; the API shares the REST rate limits and scan root.
fn grpc_listen(args: &ServeArgs, gateway: &GatewayConfig) -> GrpcListen {
    GrpcListen {
        address: args.grpc_addr,
        config: coordinator::grpc::GrpcConfig {
            rate_per_second: gateway.rate_per_second,
            rate_burst: gateway.rate_burst,
            scan_root: gateway.scan_root.clone(),
            ..coordinator::grpc::GrpcConfig::default()
        },
    }
}

/// Completes when the sender signals or is dropped.
async fn wait_for_stop(mut stop_rx: tokio::sync::watch::Receiver<()>) {
    let _ = stop_rx.changed().await;
}

/// Completes on the first SIGINT or SIGTERM.
async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::warn!(%error, "cannot listen for SIGTERM; stop with SIGINT");
                std::future::pending::<()>().await;
            }
        }
    };
    tokio::select! {
        _ = interrupt => {}
        () = terminate => {}
    }
}

/// Runs `secruna tokens create` and prints the secret once on stdout.
pub(crate) async fn create_token(args: TokenCreateArgs) -> anyhow::Result<ExitCode> {
    let database = Database::open(args.data_dir.data_dir).await?;
    let created = gateway::create_api_token(
        &database.store,
        &args.tenant,
        &args.name,
        &args.scope,
        args.expires_in_days,
        &cli_actor(),
    )
    .await;
    database.close().await;
    let created = created?;
    eprintln!(
        "created {} token {} for tenant `{}`; it is shown only now",
        created.row.scope, created.row.id, args.tenant
    );
    println!("{}", created.token);
    Ok(ExitCode::SUCCESS)
}

/// Runs `secruna users create`, reading the password from SECRUNA_PASSWORD or
/// the first line of stdin.
pub(crate) async fn create_user(args: UserCreateArgs) -> anyhow::Result<ExitCode> {
    let password = match std::env::var("SECRUNA_PASSWORD") {
        Ok(password) if !password.is_empty() => password,
        _ => {
            eprintln!(
                "password (at least {} characters):",
                gateway::MIN_PASSWORD_LEN
            );
            let mut line = String::new();
            std::io::stdin()
                .read_line(&mut line)
                .context("reading the password from stdin")?;
            line.trim_end_matches(['\r', '\n']).to_owned()
        }
    };
    let database = Database::open(args.data_dir.data_dir).await?;
    let created = gateway::create_user(
        &database.store,
        &args.tenant,
        &args.email,
        &password,
        &args.role,
        &cli_actor(),
    )
    .await;
    database.close().await;
    let user = created?;
    println!(
        "created {} {} ({}) in tenant `{}`",
        user.role, user.email, user.id, args.tenant
    );
    Ok(ExitCode::SUCCESS)
}

fn cli_actor() -> String {
    format!(
        "cli:{}",
        std::env::var("USER").unwrap_or_else(|_| "unknown".to_owned())
    )
}
