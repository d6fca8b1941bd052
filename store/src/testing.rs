//! Test helpers: a fresh, migrated database per test on a real PostgreSQL.
//!
//! With `TEST_DATABASE_URL` set (a superuser URL), databases are created on
//! that server. Otherwise one embedded cluster with fsync off is started
//! under `SECRUNA_TEST_PG_DIR`, or `target/test-pg` of the workspace. It is
//! left running for later test runs. Test binaries running at the same time
//! share it, because they take the data folder's lock before starting it.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::atomic::{AtomicU32, Ordering};

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{ConnectOptions, PgPool};
use tokio::sync::OnceCell;

use crate::embedded::{
    create_database_if_missing, current_uid, ensure_login_role, quote_identifier, start_throwaway,
};
use crate::{EmbeddedError, Error, Store};

/// Environment variable with a superuser URL of an external test server.
pub const TEST_DATABASE_URL_ENV: &str = "TEST_DATABASE_URL";

/// Environment variable overriding the embedded test cluster's folder.
pub const TEST_PG_DIR_ENV: &str = "SECRUNA_TEST_PG_DIR";

/// Login role the tests' stores use; a member of `secruna_app` only.
pub const TEST_LOGIN: &str = "secruna_test_login";

/// Password of [`TEST_LOGIN`], for servers that do not trust local logins.
const TEST_LOGIN_PASSWORD: &str = "secruna-test-only";

/// Prefix of every test database name, followed by the creating process id.
const DATABASE_PREFIX: &str = "secruna_test_";

static SERVER_URL: OnceCell<String> = OnceCell::const_new();
static NEXT_DATABASE: AtomicU32 = AtomicU32::new(0);

/// A fresh database, migrated, with a [`Store`] connected as the application
/// login.
#[derive(Debug)]
pub struct TestDb {
    /// Store connected as [`TEST_LOGIN`].
    pub store: Store,
    /// Superuser URL of this database, for setting up and tampering.
    pub admin_url: String,
    /// Application login URL of this database, for raw pools.
    pub app_url: String,
    /// Database name.
    pub database: String,
}

impl TestDb {
    /// Creates and migrates a database with a unique name.
    ///
    /// # Panics
    ///
    /// Panics with the cause when no server can be reached or set up, since
    /// a test cannot go on without one.
    pub async fn new() -> TestDb {
        match TestDb::try_new().await {
            Ok(test_db) => test_db,
            Err(error) => panic!("test database setup failed: {error}"),
        }
    }

    async fn try_new() -> Result<TestDb, Error> {
        let server_url = SERVER_URL.get_or_try_init(server_url).await?;
        let server = PgConnectOptions::from_str(server_url)?;
        let database = format!(
            "{DATABASE_PREFIX}{}_{}",
            std::process::id(),
            NEXT_DATABASE.fetch_add(1, Ordering::Relaxed)
        );
        create_database_if_missing(server_url, &database).await?;

        let admin_url = server
            .clone()
            .database(&database)
            .to_url_lossy()
            .to_string();
        crate::migrate(&admin_url).await?;
        ensure_login_role(&admin_url, TEST_LOGIN, Some(TEST_LOGIN_PASSWORD)).await?;
        let app_url = server
            .database(&database)
            .username(TEST_LOGIN)
            .password(TEST_LOGIN_PASSWORD)
            .to_url_lossy()
            .to_string();
        let store = Store::connect_with(&app_url, 4).await?;
        Ok(TestDb {
            store,
            admin_url,
            app_url,
            database,
        })
    }

    /// Opens a pool on this database as the superuser.
    pub async fn admin_pool(&self) -> PgPool {
        connect_pool(&self.admin_url, 2).await
    }

    /// Opens a raw pool as the application login, bypassing [`Store`].
    pub async fn app_pool(&self, max_connections: u32) -> PgPool {
        connect_pool(&self.app_url, max_connections).await
    }
}

async fn connect_pool(url: &str, max_connections: u32) -> PgPool {
    PgPoolOptions::new()
        .max_connections(max_connections)
        .connect(url)
        .await
        .unwrap_or_else(|error| panic!("connecting to the test database failed: {error}"))
}

/// Returns the superuser URL of the test server, starting the embedded
/// cluster when no external server is configured, and drops databases left
/// by test processes that have exited.
async fn server_url() -> Result<String, Error> {
    let url = match std::env::var(TEST_DATABASE_URL_ENV) {
        Ok(url) if !url.is_empty() => url,
        _ => start_embedded().await?,
    };
    drop_stale_databases(&url).await?;
    Ok(url)
}

/// Starts the test cluster in `SECRUNA_TEST_PG_DIR`, else in the workspace's
/// `target/test-pg`. When the server's OS account cannot reach the workspace,
/// as with a checkout in a private home folder while running as root, it
/// falls back to a folder under the system temp folder.
///
/// NOTE: the fallback has been reasoned through but not exercised by a test,
/// because the workspace path is fixed at compile time.
async fn start_embedded() -> Result<String, Error> {
    if let Some(dir) = std::env::var_os(TEST_PG_DIR_ENV).filter(|dir| !dir.is_empty()) {
        return start_throwaway(Path::new(&dir)).await;
    }
    let in_target = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/test-pg");
    match start_throwaway(&in_target).await {
        Err(Error::Embedded(EmbeddedError::DataDir { .. })) => {
            let uid = current_uid()?;
            let fallback = std::env::temp_dir().join(format!("secruna-test-pg-{uid}"));
            prepare_fallback_dir(&fallback, uid)?;
            start_throwaway(&fallback).await
        }
        other => other,
    }
}

/// Creates the fallback folder, or checks that an existing one is a real
/// folder owned by this user and writable only by it, because the temp
/// folder is shared with other users.
fn prepare_fallback_dir(dir: &Path, uid: u32) -> Result<(), EmbeddedError> {
    let io_error = |action, source| EmbeddedError::Io {
        action,
        path: dir.to_owned(),
        source,
    };
    match std::fs::create_dir(dir) {
        Ok(()) => {
            let traversable = std::fs::Permissions::from_mode(0o755);
            return std::fs::set_permissions(dir, traversable)
                .map_err(|source| io_error("set permissions of", source));
        }
        Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(source) => return Err(io_error("create folder", source)),
    }
    let meta = std::fs::symlink_metadata(dir).map_err(|source| io_error("read", source))?;
    if meta.is_dir() && meta.uid() == uid && meta.permissions().mode() & 0o022 == 0 {
        return Ok(());
    }
    Err(EmbeddedError::DataDir {
        path: dir.to_owned(),
        reason: "the test cluster folder is not a folder of this user that only it can write to; \
                 remove it or set SECRUNA_TEST_PG_DIR"
            .to_owned(),
    })
}

/// Drops the test databases, then the roles tests created, whose creating
/// process no longer runs.
///
/// NOTE: a process is looked up in this host's /proc, so two hosts sharing one
/// `TEST_DATABASE_URL` server would drop each other's databases.
async fn drop_stale_databases(server_url: &str) -> Result<(), Error> {
    let pool = PgPoolOptions::new()
        .max_connections(1)
        .connect(server_url)
        .await?;
    let catalogues = [
        (
            "SELECT datname::text FROM pg_database WHERE starts_with(datname, $1)",
            "DATABASE",
            " WITH (FORCE)",
        ),
        (
            "SELECT rolname::text FROM pg_roles WHERE starts_with(rolname, $1)",
            "ROLE",
            "",
        ),
    ];
    for (query, kind, option) in catalogues {
        let names: Vec<String> = sqlx::query_scalar(query)
            .bind(DATABASE_PREFIX)
            .fetch_all(&pool)
            .await?;
        for name in names.iter().filter(|name| creator_has_exited(name)) {
            let statement = format!("DROP {kind} IF EXISTS {}{option}", quote_identifier(name));
            sqlx::raw_sql(sqlx::AssertSqlSafe(statement))
                .execute(&pool)
                .await?;
        }
    }
    pool.close().await;
    Ok(())
}

/// Tells whether the process whose id is part of a test object's name has
/// exited.
fn creator_has_exited(name: &str) -> bool {
    creator_pid(name).is_some_and(|pid| std::fs::metadata(format!("/proc/{pid}")).is_err())
}

/// Parses the process id from `secruna_test_<pid>_<n>...`.
fn creator_pid(database: &str) -> Option<u32> {
    let rest = database.strip_prefix(DATABASE_PREFIX)?;
    let (pid, _) = rest.split_once('_')?;
    pid.parse().ok()
}
