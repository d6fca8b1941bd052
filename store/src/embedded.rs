//! A private PostgreSQL cluster for running without an external server.
//!
//! [`start`] uses the system's own `initdb` and `pg_ctl` (nothing is
//! downloaded) to create a cluster under `DATA_DIR/postgres` on the first
//! run and start it on later runs, or attach to a postmaster that is already
//! running there. The server listens on no TCP port. Its Unix socket is in a
//! folder only the server's account can open: `DATA_DIR/run`, or a short
//! folder under /tmp when that path is too long for a socket. Trust
//! authentication therefore applies only through that socket. When this process runs
//! as root, the cluster belongs to the `postgres` OS user and the tools run
//! through `runuser`. The schema is migrated as the cluster's superuser, and
//! the application logs in as a generated role that is only a member of
//! `secruna_app`, so row-level security applies to it.
//!
//! Several processes may use one data folder at once. Each holds a shared
//! lock on `DATA_DIR/clients.lock` while its [`EmbeddedPostgres`] lives, and
//! the last one to call [`EmbeddedPostgres::stop`] stops the server,
//! whichever process started it.

mod clients;
mod cluster;
mod tools;

use std::fs::File;
use std::path::{Path, PathBuf};

use sqlx::postgres::PgPoolOptions;
use sqlx::{Connection, PgConnection};
use tokio::sync::Mutex;
use tracing::{info, instrument};

pub(crate) use self::cluster::Durability;
use self::cluster::{Cluster, SUPERUSER};
pub use self::tools::PG_BIN_ENV;
#[cfg(feature = "testing")]
pub(crate) use self::tools::current_uid;
use crate::{EmbeddedError, Error};

/// Environment variable that overrides [`default_data_dir`].
pub const DATA_DIR_ENV: &str = "SECRUNA_DATA_DIR";

/// Default data folder when running as root. Root's home is private, so the
/// `postgres` OS user that runs the server could not reach a folder there.
pub const ROOT_DATA_DIR: &str = "/var/lib/secruna";

/// Database the application's schema lives in.
const DATABASE: &str = "secruna";

/// Login role generated for the application.
const APP_LOGIN: &str = "secruna_app_login";

/// Error recorded on scans that were running when their process exited.
pub const INTERRUPTED_SCAN_ERROR: &str =
    "interrupted: the process running this scan exited before it finished";

/// A running embedded cluster with a migrated database, used by this
/// process until [`EmbeddedPostgres::stop`].
///
/// NOTE: dropping it without calling `stop` releases this process's client
/// lock but leaves the server running, even when no client is left. The
/// next start reuses that server.
#[derive(Debug)]
pub struct EmbeddedPostgres {
    /// URL of the application login (subject to row-level security).
    pub app_url: String,
    /// URL of the superuser, for migrations and maintenance.
    pub admin_url: String,
    /// Canonical path of the data folder given to [`start`].
    pub data_dir: PathBuf,
    cluster: Cluster,
    /// Shared lock on `clients.lock`, or `None` once stopped.
    client_lock: Mutex<Option<File>>,
}

impl EmbeddedPostgres {
    /// Tells whether [`start`] started the postmaster, as opposed to finding
    /// it already running.
    pub fn started_server(&self) -> bool {
        self.cluster.started_here()
    }

    /// Returns the cluster's PGDATA folder.
    pub fn pgdata(&self) -> &Path {
        self.cluster.pgdata()
    }

    /// Ends this client's use of the cluster, and stops the postmaster with
    /// `pg_ctl stop -m fast` when no other client (in any process) is left.
    /// Calling it again does nothing.
    #[instrument(skip_all, name = "store.embedded.stop", fields(data_dir = %self.data_dir.display()))]
    pub async fn stop(&self) -> Result<(), Error> {
        let Some(client) = self.client_lock.lock().await.take() else {
            return Ok(());
        };
        let _startup = clients::lock_startup(&self.data_dir).await?;
        if !clients::try_sole_client(&client, &self.data_dir)? {
            info!("embedded postgres left running for its other clients");
            return Ok(());
        }
        if self.cluster.is_running().await? {
            self.cluster.stop().await?;
        }
        Ok(())
    }

    /// Marks every scan still `running` as `failed` with
    /// [`INTERRUPTED_SCAN_ERROR`] and returns how many it marked. It does
    /// this only when this handle is the cluster's sole client, because
    /// another client may be running those scans, and otherwise returns 0.
    /// Runs as the cluster's superuser, across all tenants.
    #[instrument(skip_all, name = "store.embedded.fail_interrupted_scans", fields(data_dir = %self.data_dir.display()))]
    pub async fn fail_interrupted_scans(&self) -> Result<u64, Error> {
        let slot = self.client_lock.lock().await;
        let Some(client) = slot.as_ref() else {
            return Ok(0);
        };
        let _startup = clients::lock_startup(&self.data_dir).await?;
        if !clients::try_sole_client(client, &self.data_dir)? {
            info!("other clients use the embedded cluster, so running scans are left alone");
            return Ok(0);
        }
        let marked = mark_running_scans_failed(&self.admin_url).await;
        clients::share_again(client, &self.data_dir)?;
        let marked = marked?;
        info!(scans.marked = marked, "interrupted scans marked failed");
        Ok(marked)
    }
}

/// Sets every running scan, and each of its scopes still `pending`, to `failed` with
/// [`INTERRUPTED_SCAN_ERROR`], in one statement, and returns the number of scans set.
async fn mark_running_scans_failed(admin_url: &str) -> Result<u64, Error> {
    let mut conn = PgConnection::connect(admin_url).await?;
    let result = sqlx::query_scalar::<_, i64>(
        "WITH failed_scans AS ( \
             UPDATE scans SET status = 'failed', finished_at = now(), error = $1 \
             WHERE status = 'running' RETURNING id \
         ), failed_scopes AS ( \
             UPDATE scan_scopes SET status = 'failed', error = $1, updated_at = now() \
             WHERE status = 'pending' AND scan_id IN (SELECT id FROM failed_scans) \
         ) \
         SELECT count(*) FROM failed_scans",
    )
    .bind(INTERRUPTED_SCAN_ERROR)
    .fetch_one(&mut conn)
    .await;
    conn.close().await?;
    Ok(u64::try_from(result?).unwrap_or(0))
}

/// Returns `$SECRUNA_DATA_DIR`; else [`ROOT_DATA_DIR`] when running as root;
/// else `$XDG_DATA_HOME/secruna`, `$HOME/.local/share/secruna`, or
/// `./secruna-data` when neither variable is set.
pub fn default_data_dir() -> PathBuf {
    if let Some(dir) = non_empty_env(DATA_DIR_ENV) {
        return PathBuf::from(dir);
    }
    if tools::running_as_root() {
        return PathBuf::from(ROOT_DATA_DIR);
    }
    if let Some(dir) = non_empty_env("XDG_DATA_HOME") {
        return PathBuf::from(dir).join("secruna");
    }
    if let Some(home) = non_empty_env("HOME") {
        return PathBuf::from(home).join(".local/share/secruna");
    }
    PathBuf::from("secruna-data")
}

fn non_empty_env(name: &str) -> Option<std::ffi::OsString> {
    std::env::var_os(name).filter(|value| !value.is_empty())
}

/// Creates or reuses the cluster under `data_dir`, migrates the `secruna`
/// database and returns the URLs to use. Concurrent calls on the same
/// folder, from any process, wait for each other and for a running
/// [`EmbeddedPostgres::stop`]. The returned handle counts as a client of the
/// cluster until it is stopped.
#[instrument(skip_all, name = "store.embedded.start", fields(data_dir = %data_dir.display()))]
pub async fn start(data_dir: &Path) -> Result<EmbeddedPostgres, Error> {
    let data_dir = absolute(data_dir)?;
    let _startup = clients::lock_startup(&data_dir).await?;
    let client = clients::lock_client(&data_dir).await?;
    let cluster = Cluster::ensure_running(&data_dir, Durability::Durable).await?;

    create_database_if_missing(&cluster.url(SUPERUSER, "postgres"), DATABASE).await?;
    let admin_url = cluster.url(SUPERUSER, DATABASE);
    crate::migrate(&admin_url).await?;
    ensure_login_role(&admin_url, APP_LOGIN, None).await?;
    let app_url = cluster.url(APP_LOGIN, DATABASE);

    info!(
        started_server = cluster.started_here(),
        "embedded postgres ready"
    );
    Ok(EmbeddedPostgres {
        app_url,
        admin_url,
        data_dir,
        cluster,
        client_lock: Mutex::new(Some(client)),
    })
}

/// Starts (or reuses) a cluster without creating any database; for tests.
#[cfg(feature = "testing")]
pub(crate) async fn start_throwaway(data_dir: &Path) -> Result<String, Error> {
    let data_dir = absolute(data_dir)?;
    let _startup = clients::lock_startup(&data_dir).await?;
    let cluster = Cluster::ensure_running(&data_dir, Durability::Throwaway).await?;
    Ok(cluster.url(SUPERUSER, "postgres"))
}

/// Creates `data_dir` if missing and returns its canonical path, which the
/// socket folder's name is derived from.
fn absolute(data_dir: &Path) -> Result<PathBuf, EmbeddedError> {
    std::fs::create_dir_all(data_dir).map_err(|source| EmbeddedError::Io {
        action: "create folder",
        path: data_dir.to_owned(),
        source,
    })?;
    std::fs::canonicalize(data_dir).map_err(|source| EmbeddedError::Io {
        action: "resolve",
        path: data_dir.to_owned(),
        source,
    })
}

/// Creates `database` through `maintenance_url` unless it exists.
pub(crate) async fn create_database_if_missing(
    maintenance_url: &str,
    database: &str,
) -> Result<(), Error> {
    let mut conn = PgConnection::connect(maintenance_url).await?;
    let exists: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
            .bind(database)
            .fetch_one(&mut conn)
            .await?;
    if !exists {
        let statement = format!("CREATE DATABASE {}", quote_identifier(database));
        sqlx::raw_sql(sqlx::AssertSqlSafe(statement))
            .execute(&mut conn)
            .await?;
    }
    conn.close().await?;
    Ok(())
}

/// Creates a login role that is a member of `secruna_app` and nothing more,
/// unless it exists. Roles are global to the cluster, so a concurrent
/// creation from another database is tolerated.
pub(crate) async fn ensure_login_role(
    admin_url: &str,
    role: &str,
    password: Option<&str>,
) -> Result<(), Error> {
    let password_clause = match password {
        Some(password) => format!("PASSWORD {}", quote_literal(password)),
        None => String::new(),
    };
    let statement = format!(
        "DO $$ BEGIN \
             IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = {literal}) THEN \
                 CREATE ROLE {identifier} LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE \
                     {password_clause} IN ROLE secruna_app; \
             END IF; \
         EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; \
         END $$",
        literal = quote_literal(role),
        identifier = quote_identifier(role),
    );
    let pool = PgPoolOptions::new()
        .max_connections(1)
        .acquire_timeout(crate::ACQUIRE_TIMEOUT)
        .connect(admin_url)
        .await?;
    let result = sqlx::raw_sql(sqlx::AssertSqlSafe(statement))
        .execute(&pool)
        .await;
    pool.close().await;
    result?;
    Ok(())
}

pub(crate) fn quote_identifier(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

fn quote_literal(value: &str) -> String {
    format!("'{}'", value.replace('\'', "''"))
}
