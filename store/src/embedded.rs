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

mod cluster;
mod tools;

use std::path::{Path, PathBuf};

use sqlx::postgres::PgPoolOptions;
use sqlx::{Connection, PgConnection};
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

/// A running embedded cluster with a migrated database.
#[derive(Debug)]
pub struct EmbeddedPostgres {
    /// URL of the application login (subject to row-level security).
    pub app_url: String,
    /// URL of the superuser, for migrations and maintenance.
    pub admin_url: String,
    /// Canonical path of the data folder given to [`start`].
    pub data_dir: PathBuf,
    cluster: Cluster,
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

    /// Stops the postmaster with `pg_ctl stop -m fast` if this process
    /// started it; a server found already running is left running.
    pub async fn stop(self) -> Result<(), Error> {
        if self.cluster.started_here() {
            self.cluster.stop().await?;
        }
        Ok(())
    }
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
/// folder, from any process, wait for each other.
#[instrument(skip_all, name = "store.embedded.start", fields(data_dir = %data_dir.display()))]
pub async fn start(data_dir: &Path) -> Result<EmbeddedPostgres, Error> {
    let data_dir = absolute(data_dir)?;
    let _lock = lock_data_dir(&data_dir).await?;
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
    })
}

/// Starts (or reuses) a cluster without creating any database; for tests.
#[cfg(feature = "testing")]
pub(crate) async fn start_throwaway(data_dir: &Path) -> Result<String, Error> {
    let data_dir = absolute(data_dir)?;
    let _lock = lock_data_dir(&data_dir).await?;
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

/// Takes an exclusive lock on `data_dir/embedded.lock`, released when the
/// returned file is dropped.
async fn lock_data_dir(data_dir: &Path) -> Result<std::fs::File, EmbeddedError> {
    let path = data_dir.join("embedded.lock");
    let lock_path = path.clone();
    let locked = tokio::task::spawn_blocking(move || {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)?;
        file.lock()?;
        Ok::<_, std::io::Error>(file)
    })
    .await
    .map_err(|join_error| std::io::Error::other(join_error.to_string()))
    .and_then(|result| result);
    locked.map_err(|source| EmbeddedError::Io {
        action: "lock",
        path,
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
