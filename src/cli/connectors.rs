//! `secruna connectors`: stores the connectors of a config file in the tenant's
//! `connectors` table and lists them. Secrets are encrypted as the API encrypts them.
//! The module also builds the source registry every scan of this binary uses.

pub(crate) mod file;

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use agents::net::{HttpClient, RateLimits, RetryPolicy};
use agents::{ConnectorSpec, SourceRegistry};
use anyhow::{Context, bail};
use gateway::SecretKey;
use serde_json::json;
use store::connectors::{ConnectorRow, ConnectorUpdate, NewConnector};
use store::{TenantContext, TenantPath, TenantTx};
use uuid::Uuid;

use super::database::Database;
use super::{DataDirArg, Format, output};

/// Subcommands of `secruna connectors`.
#[derive(Debug, clap::Subcommand)]
pub(crate) enum ConnectorsCommand {
    /// Creates or updates the connectors of a config file in the tenant. Secrets are read
    /// from the variables and files it names and stored encrypted with SECRUNA_SECRET_KEY.
    Apply(ApplyArgs),
    /// Lists the tenant's connectors without their secrets.
    List(ListArgs),
}

/// Arguments of `secruna connectors apply`.
#[derive(Debug, clap::Args)]
pub(crate) struct ApplyArgs {
    /// Connectors config file (YAML).
    #[arg(value_name = "FILE")]
    file: PathBuf,
    /// Tenant slug path; created when missing.
    #[arg(long, default_value = "default")]
    tenant: String,
    /// Key that encrypts connector secrets: 32 random bytes in base64, the same key the
    /// server runs with. Needed only when a connector has a secret.
    #[arg(
        long,
        env = "SECRUNA_SECRET_KEY",
        value_name = "BASE64",
        hide_env_values = true
    )]
    secret_key: Option<String>,
    #[command(flatten)]
    data_dir: DataDirArg,
}

/// Arguments of `secruna connectors list`.
#[derive(Debug, clap::Args)]
pub(crate) struct ListArgs {
    /// Tenant slug path.
    #[arg(long, default_value = "default")]
    tenant: String,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
    #[command(flatten)]
    data_dir: DataDirArg,
}

/// Returns the factories of every connector kind this binary can crawl. The built-in code
/// source serves kind `code` without a registration.
pub(crate) fn source_registry() -> SourceRegistry {
    // One set of limiters for every connector, so two connectors on the same account,
    // subscription, project or token share that scope's quota.
    let limits = RateLimits::with_provider_defaults();
    let http = Arc::new(HttpClient::new(limits.clone(), RetryPolicy::default()));
    let mut sources = SourceRegistry::new();
    sources.register(
        "aws",
        Arc::new(agents_aws::AwsFactory::new(limits, RetryPolicy::default())),
    );
    sources.register("inventory", Arc::new(agents::inventory::InventoryFactory));
    sources.register(
        "azure",
        Arc::new(agents::azure::AzureFactory::new(http.clone())),
    );
    sources.register("gcp", Arc::new(agents::gcp::GcpFactory::new(http.clone())));
    sources.register(
        "github",
        Arc::new(agents::github::GitHubFactory::new(HttpClient::clone(&http))),
    );
    sources
}

/// Runs a `secruna connectors` subcommand.
pub(crate) async fn run(command: ConnectorsCommand) -> anyhow::Result<ExitCode> {
    match command {
        ConnectorsCommand::Apply(args) => apply(args).await,
        ConnectorsCommand::List(args) => list(args).await,
    }
}

fn context(tenant: &str) -> anyhow::Result<TenantContext> {
    Ok(TenantContext::new(TenantPath::from_slug_path(tenant)?))
}

fn cli_actor() -> String {
    format!(
        "cli:{}",
        std::env::var("USER").unwrap_or_else(|_| "unknown".to_owned())
    )
}

/// Connector kinds `connectors apply` stores. The API accepts `git` instead of `code`.
const STORABLE_KINDS: [&str; 6] = ["aws", "azure", "code", "gcp", "github", "inventory"];

async fn apply(args: ApplyArgs) -> anyhow::Result<ExitCode> {
    let specs = file::load(&args.file)?;
    if let Some(spec) = specs
        .iter()
        .find(|spec| !STORABLE_KINDS.contains(&spec.kind.as_str()))
    {
        bail!(
            "connector `{}` has unknown kind `{}`; use one of {}",
            spec.name,
            spec.kind,
            STORABLE_KINDS.join(", ")
        );
    }
    let key = args
        .secret_key
        .as_deref()
        .filter(|key| !key.is_empty())
        .map(SecretKey::from_base64)
        .transpose()?;
    if key.is_none()
        && let Some(spec) = specs.iter().find(|spec| spec.secret.is_some())
    {
        bail!(
            "connector `{}` has a secret but SECRUNA_SECRET_KEY is not set; set it to the key \
             the server runs with (32 random bytes in base64)",
            spec.name
        );
    }
    let ctx = context(&args.tenant)?;
    let database = Database::open(args.data_dir.data_dir.clone()).await?;
    let applied = apply_all(&database, &ctx, &args.tenant, &specs, key.as_ref()).await;
    database.close().await;
    let mut text = String::new();
    for (name, change) in applied? {
        text.push_str(&format!("{change} {name}\n"));
    }
    output::write_stdout(&text)?;
    Ok(ExitCode::SUCCESS)
}

/// Applies every spec in one transaction and returns `(name, change)` pairs.
async fn apply_all(
    database: &Database,
    ctx: &TenantContext,
    tenant: &str,
    specs: &[ConnectorSpec],
    key: Option<&SecretKey>,
) -> anyhow::Result<Vec<(String, &'static str)>> {
    let mut tx = database.store.begin(ctx).await?;
    store::tenants::ensure(&mut tx, tenant).await?;
    let existing = store::connectors::list(&mut tx).await?;
    let mut applied = Vec::with_capacity(specs.len());
    for spec in specs {
        let current = existing.iter().find(|row| row.name == spec.name);
        let change = match current {
            Some(row) => update_one(&mut tx, row, spec, key).await?,
            None => create_one(&mut tx, spec, key).await?,
        };
        applied.push((spec.name.clone(), change));
    }
    tx.commit().await?;
    Ok(applied)
}

/// Encrypts a secret for connector `id`, as the API does.
fn seal(
    key: Option<&SecretKey>,
    id: Uuid,
    secret: &serde_json::Value,
) -> anyhow::Result<store::connectors::SealedSecret> {
    let key = key.context("a connector secret needs SECRUNA_SECRET_KEY")?;
    Ok(key.seal(id, &serde_json::to_vec(secret)?)?)
}

fn audit_entry(action: &str, id: Uuid, diff: serde_json::Value) -> store::audit::AuditEntry {
    let actor = cli_actor();
    let (actor_type, actor_id) = actor.split_once(':').unwrap_or(("cli", "unknown"));
    store::audit::AuditEntry {
        actor_type: actor_type.to_owned(),
        actor_id: actor_id.to_owned(),
        entity_type: "connector".to_owned(),
        entity_id: id.to_string(),
        action: action.to_owned(),
        diff,
        ip: None,
        user_agent: None,
        request_id: None,
    }
}

async fn create_one(
    tx: &mut TenantTx,
    spec: &ConnectorSpec,
    key: Option<&SecretKey>,
) -> anyhow::Result<&'static str> {
    let id = Uuid::new_v4();
    let secret = match &spec.secret {
        Some(secret) => Some(seal(key, id, secret)?),
        None => None,
    };
    let new_connector = NewConnector {
        id,
        kind: spec.kind.clone(),
        name: spec.name.clone(),
        config: spec.config.clone(),
        secret,
    };
    let row = store::connectors::create(tx, &new_connector)
        .await
        .with_context(|| format!("storing connector `{}` failed", spec.name))?;
    let diff = json!({
        "kind": row.kind, "name": row.name, "config": row.config,
        "secret": row.has_secret.then_some("set"),
    });
    store::audit::append(tx, audit_entry("connector.create", id, diff)).await?;
    Ok("created")
}

/// Updates a stored connector to match `spec`. A secret is replaced only when its
/// plaintext differs from the stored one, so applying the same file twice changes nothing.
async fn update_one(
    tx: &mut TenantTx,
    row: &ConnectorRow,
    spec: &ConnectorSpec,
    key: Option<&SecretKey>,
) -> anyhow::Result<&'static str> {
    if row.kind != spec.kind {
        bail!(
            "connector `{}` is stored with kind `{}`, not `{}`; rename it in the file or delete \
             the stored one through the API",
            spec.name,
            row.kind,
            spec.kind
        );
    }

    let stored = store::connectors::secret(tx, row.id).await?;
    let stored_plain = match (&stored, key) {
        (Some(sealed), Some(key)) => key.open(row.id, sealed).ok(),
        _ => None,
    };
    let requested_plain = spec.secret.as_ref().map(serde_json::to_vec).transpose()?;
    let secret = match (&spec.secret, stored.is_some()) {
        (None, false) => None,
        (None, true) => Some(None),
        (Some(_), _) if stored_plain == requested_plain => None,
        (Some(secret), _) => Some(Some(seal(key, row.id, secret)?)),
    };

    let config_changed = row.config != spec.config;
    if !config_changed && secret.is_none() {
        return Ok("unchanged");
    }
    let secret_change = match &secret {
        Some(Some(_)) => Some("replaced"),
        Some(None) => Some("removed"),
        None => None,
    };
    let update = ConnectorUpdate {
        name: None,
        config: config_changed.then(|| spec.config.clone()),
        secret,
    };
    store::connectors::update(tx, row.id, &update).await?;
    let diff = json!({
        "config": config_changed.then(|| json!({"from": row.config, "to": spec.config})),
        "secret": secret_change,
    });
    store::audit::append(tx, audit_entry("connector.update", row.id, diff)).await?;
    Ok("updated")
}

async fn list(args: ListArgs) -> anyhow::Result<ExitCode> {
    let ctx = context(&args.tenant)?;
    let database = Database::open(args.data_dir.data_dir.clone()).await?;
    let rows = async {
        let mut tx = database.store.begin(&ctx).await?;
        let rows = store::connectors::list(&mut tx).await?;
        tx.commit().await?;
        Ok::<_, store::Error>(rows)
    }
    .await;
    database.close().await;
    let rows = rows?;
    let text = match args.format {
        Format::Json => {
            let items: Vec<serde_json::Value> = rows
                .iter()
                .map(|row| {
                    json!({
                        "id": row.id, "name": row.name, "kind": row.kind, "config": row.config,
                        "has_secret": row.has_secret, "updated_at": row.updated_at,
                    })
                })
                .collect();
            serde_json::to_string_pretty(&items)? + "\n"
        }
        Format::Table => output::render_connectors(&rows),
    };
    output::write_stdout(&text)?;
    Ok(ExitCode::SUCCESS)
}
