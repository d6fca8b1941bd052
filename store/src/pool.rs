//! The application's connection pool and the one way to open a transaction.

use std::time::Duration;

use sqlx::postgres::{PgConnection, PgPoolOptions};
use sqlx::{PgPool, Postgres, Transaction};
use tracing::instrument;

use crate::{Error, TenantContext};

/// Default maximum number of pooled connections.
pub const DEFAULT_MAX_CONNECTIONS: u32 = 16;

/// Longest wait for a pooled connection before [`Error::DatabaseUnreachable`]
/// is returned. sqlx retries opening a connection within that time, so a
/// restarting server is still waited for.
pub const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(10);

/// Session variable that the row-level security policies read.
const TENANT_SETTING: &str = "app.current_tenant_path";

/// Pool of connections for the application login: a role that is not a
/// superuser, has no BYPASSRLS and owns no table, so row-level security
/// applies to every statement.
#[derive(Debug, Clone)]
pub struct Store {
    pool: PgPool,
}

/// Transaction bound to one tenant; rolled back when dropped uncommitted.
#[derive(Debug)]
pub struct TenantTx {
    tx: Transaction<'static, Postgres>,
    context: TenantContext,
}

impl Store {
    /// Connects with [`DEFAULT_MAX_CONNECTIONS`] and checks the login role.
    pub async fn connect(database_url: &str) -> Result<Store, Error> {
        Store::connect_with(database_url, DEFAULT_MAX_CONNECTIONS).await
    }

    /// Connects with at most `max_connections` pooled connections and checks
    /// that the login role is subject to row-level security.
    #[instrument(skip_all, name = "store.connect", fields(pool.max_connections = max_connections))]
    pub async fn connect_with(database_url: &str, max_connections: u32) -> Result<Store, Error> {
        // No ping before each checkout: it costs a round trip per transaction, and a
        // connection the server dropped fails its statement, which the caller reports
        // as a database error and the pool then discards.
        let pool = PgPoolOptions::new()
            .max_connections(max_connections)
            .test_before_acquire(false)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .connect(database_url)
            .await?;
        check_login_role(&pool).await?;
        Ok(Store { pool })
    }

    /// Opens a transaction for `ctx`, setting the tenant path with
    /// `set_config(..., true)` so it ends with the transaction.
    #[instrument(skip_all, name = "store.begin", fields(tenant.path = %ctx.path()))]
    pub async fn begin(&self, ctx: &TenantContext) -> Result<TenantTx, Error> {
        self.begin_as("BEGIN", ctx).await
    }

    /// Opens a transaction with `statement` (a `BEGIN` variant) and sets the tenant path.
    pub(crate) async fn begin_as(
        &self,
        statement: &'static str,
        ctx: &TenantContext,
    ) -> Result<TenantTx, Error> {
        let mut tx = self.pool.begin_with(statement).await?;
        sqlx::query("SELECT set_config($1, $2, true)")
            .bind(TENANT_SETTING)
            .bind(ctx.path().as_str())
            .execute(&mut *tx)
            .await?;
        Ok(TenantTx {
            tx,
            context: ctx.clone(),
        })
    }

    /// Returns the pool, so tests can run statements outside any tenant
    /// transaction.
    #[cfg(feature = "testing")]
    pub fn pool_for_tests(&self) -> &PgPool {
        &self.pool
    }

    /// Closes every pooled connection.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    pub(crate) fn pool(&self) -> &PgPool {
        &self.pool
    }
}

impl TenantTx {
    /// Commits the transaction.
    pub async fn commit(self) -> Result<(), Error> {
        self.tx.commit().await?;
        Ok(())
    }

    /// Rolls the transaction back.
    pub async fn rollback(self) -> Result<(), Error> {
        self.tx.rollback().await?;
        Ok(())
    }

    /// Returns the tenant the transaction runs for.
    pub fn context(&self) -> &TenantContext {
        &self.context
    }

    /// Returns the tenant path as ltree text, for binding as `$n::ltree`.
    pub(crate) fn tenant(&self) -> &str {
        self.context.path().as_str()
    }

    /// Returns the transaction's connection, so tests can run raw statements
    /// under the tenant context.
    #[cfg(feature = "testing")]
    pub fn conn_for_tests(&mut self) -> &mut PgConnection {
        &mut self.tx
    }

    pub(crate) fn conn(&mut self) -> &mut PgConnection {
        &mut self.tx
    }
}

#[derive(sqlx::FromRow)]
struct LoginRole {
    role: String,
    superuser: bool,
    bypass_rls: bool,
    app_member: bool,
}

#[derive(sqlx::FromRow)]
struct OwnedTable {
    table_name: String,
    owner: String,
}

/// Rejects a login that row-level security would not apply to: a superuser,
/// a BYPASSRLS role, or one that owns (or may act as the owner of) a table on
/// its search path. Also rejects a login without the `secruna_app` grants.
async fn check_login_role(pool: &PgPool) -> Result<(), Error> {
    let login: LoginRole = sqlx::query_as(
        "SELECT current_user::text AS role, rolsuper AS superuser, rolbypassrls AS bypass_rls, \
             COALESCE((SELECT pg_has_role(current_user, app.oid, 'USAGE') \
                       FROM pg_roles AS app WHERE app.rolname = 'secruna_app'), false) AS app_member \
         FROM pg_roles WHERE rolname = current_user",
    )
    .fetch_one(pool)
    .await?;
    if login.superuser {
        return Err(Error::SuperuserRole { role: login.role });
    }
    if login.bypass_rls {
        return Err(Error::BypassRlsRole { role: login.role });
    }
    if !login.app_member {
        return Err(Error::NotApplicationRole { role: login.role });
    }

    let owned: Option<OwnedTable> = sqlx::query_as(
        "SELECT tablename::text AS table_name, tableowner::text AS owner FROM pg_tables \
         WHERE schemaname = ANY (current_schemas(false)) \
             AND pg_has_role(current_user, tableowner, 'USAGE') \
         ORDER BY tablename LIMIT 1",
    )
    .fetch_optional(pool)
    .await?;
    if let Some(owned) = owned {
        return Err(Error::OwnerRole {
            role: login.role,
            table: owned.table_name,
            owner: owned.owner,
        });
    }
    Ok(())
}

/// Applies the migrations embedded from `migrations/` as the owner role.
#[instrument(skip_all, name = "store.migrate")]
pub async fn migrate(admin_url: &str) -> Result<(), Error> {
    let pool = PgPoolOptions::new()
        .max_connections(1)
        .acquire_timeout(ACQUIRE_TIMEOUT)
        .connect(admin_url)
        .await?;
    let result = sqlx::migrate!("../migrations").run(&pool).await;
    pool.close().await;
    result?;
    Ok(())
}
