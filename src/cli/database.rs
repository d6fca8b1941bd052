//! Chooses the database: `DATABASE_URL`, or the embedded cluster when no URL is set.

use std::process::ExitCode;

use anyhow::{Context, bail};
use store::embedded::EmbeddedPostgres;
use store::{Store, TenantContext, TenantPath};

use super::DataDirArg;

/// Application login to the database, and the embedded server when this process started it.
pub(crate) struct Database {
    /// Application login.
    pub(crate) store: Store,
    /// Embedded server to stop at exit; `None` with an external database.
    embedded: Option<EmbeddedPostgres>,
}

impl Database {
    /// Connects with `DATABASE_URL`, or starts the embedded cluster when neither
    /// `DATABASE_URL` nor `DATABASE_ADMIN_URL` is set.
    pub(crate) async fn open(data_dir: Option<std::path::PathBuf>) -> anyhow::Result<Database> {
        let app_url = non_empty_env("DATABASE_URL");
        let admin_url = non_empty_env("DATABASE_ADMIN_URL");
        match (app_url, admin_url) {
            (Some(app_url), _) => {
                let store = Store::connect(&app_url)
                    .await
                    .context("connecting with DATABASE_URL")?;
                Ok(Database {
                    store,
                    embedded: None,
                })
            }
            (None, Some(_)) => bail!(
                "DATABASE_ADMIN_URL is set but DATABASE_URL is not: set DATABASE_URL to the \
                 application login (the admin URL is used only by `secruna migrate`)"
            ),
            (None, None) => {
                let embedded = start_embedded(data_dir).await?;
                // Scans left running by a process that died (kill -9, power loss) would
                // otherwise claim to run forever. This does nothing while others use the cluster.
                let num_interrupted = embedded
                    .fail_interrupted_scans()
                    .await
                    .context("closing scans left running by an earlier process")?;
                if num_interrupted > 0 {
                    tracing::warn!(
                        num_scans = num_interrupted,
                        "marked scans of exited processes as failed"
                    );
                }
                let store = Store::connect(&embedded.app_url)
                    .await
                    .context("connecting to the embedded Postgres")?;
                Ok(Database {
                    store,
                    embedded: Some(embedded),
                })
            }
        }
    }

    /// Closes the pool and stops the embedded server if this process started it.
    pub(crate) async fn close(self) {
        self.store.close().await;
        if let Some(embedded) = self.embedded {
            if let Err(error) = embedded.stop().await {
                tracing::warn!(%error, "stopping the embedded Postgres failed");
            }
        }
    }
}

/// Starts (creating on first use) the embedded cluster under the data folder.
async fn start_embedded(data_dir: Option<std::path::PathBuf>) -> anyhow::Result<EmbeddedPostgres> {
    let dir = data_dir.unwrap_or_else(store::embedded::default_data_dir);
    store::embedded::start(&dir)
        .await
        .with_context(|| format!("starting the embedded Postgres under `{}`", dir.display()))
}

/// Runs `secruna migrate`.
pub(crate) async fn migrate(data_dir: DataDirArg) -> anyhow::Result<()> {
    if let Some(admin_url) = non_empty_env("DATABASE_ADMIN_URL") {
        store::migrate(&admin_url)
            .await
            .context("migrating with DATABASE_ADMIN_URL")?;
        println!("migrations applied");
        return Ok(());
    }
    if non_empty_env("DATABASE_URL").is_some() {
        bail!(
            "`secruna migrate` runs as the schema owner: set DATABASE_ADMIN_URL (DATABASE_URL is \
             the application login and cannot own tables)"
        );
    }
    let embedded = start_embedded(data_dir.data_dir).await?;
    println!("embedded Postgres migrated");
    embedded.stop().await?;
    Ok(())
}

/// Runs `secruna audit verify`.
pub(crate) async fn audit_verify(tenant: &str, data_dir: DataDirArg) -> anyhow::Result<ExitCode> {
    let path =
        TenantPath::from_slug_path(tenant).with_context(|| format!("invalid tenant `{tenant}`"))?;
    let database = Database::open(data_dir.data_dir).await?;
    let report = verify_chain(&database.store, path).await;
    database.close().await;
    let report = report?;
    match report.first_bad {
        None => {
            println!(
                "audit chain of `{tenant}` is intact: {} rows checked",
                report.rows_checked
            );
            Ok(ExitCode::SUCCESS)
        }
        Some(bad) => {
            println!(
                "audit chain of `{tenant}` is broken at seq {}: {}",
                bad.seq, bad.reason
            );
            Ok(ExitCode::FAILURE)
        }
    }
}

async fn verify_chain(
    store: &Store,
    path: TenantPath,
) -> anyhow::Result<store::audit::VerifyReport> {
    let slug_path = path.slug_path();
    let mut tx = store.begin(&TenantContext::new(path)).await?;
    if store::tenants::get_current(&mut tx).await?.is_none() {
        bail!(
            "tenant `{slug_path}` not found: check the slug, or run a scan with --tenant {slug_path} to create it"
        );
    }
    let report = store::audit::verify(&mut tx).await?;
    tx.commit().await?;
    Ok(report)
}

fn non_empty_env(name: &str) -> Option<String> {
    std::env::var(name)
        .ok()
        .filter(|value| !value.trim().is_empty())
}
