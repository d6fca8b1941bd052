//! Connectors: the places a tenant has connected for discovery, with a
//! write-only secret that the caller encrypts before it reaches the store.

use chrono::{DateTime, Utc};
use tracing::instrument;
use uuid::Uuid;

use crate::{Error, TenantTx};

/// An encrypted connector secret: AES-GCM nonce and ciphertext with its tag.
#[derive(Clone, PartialEq, Eq)]
pub struct SealedSecret {
    /// 96-bit nonce, random per write.
    pub nonce: Vec<u8>,
    /// Ciphertext followed by the 128-bit authentication tag.
    pub ciphertext: Vec<u8>,
}

impl std::fmt::Debug for SealedSecret {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("SealedSecret")
            .field("ciphertext_len", &self.ciphertext.len())
            .finish_non_exhaustive()
    }
}

/// A connector to create in the transaction's tenant.
#[derive(Debug, Clone)]
pub struct NewConnector {
    /// Connector id, chosen by the caller because it is the associated data
    /// of the secret's encryption.
    pub id: Uuid,
    /// Connector type (`git`, `github`, `aws`, ...).
    pub kind: String,
    /// Label, unique within the tenant.
    pub name: String,
    /// Settings without secrets.
    pub config: serde_json::Value,
    /// Encrypted secret, if any.
    pub secret: Option<SealedSecret>,
}

/// A connector as stored, with only whether it has a secret.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct ConnectorRow {
    /// Connector id.
    pub id: Uuid,
    /// Owning tenant path.
    pub tenant_path: String,
    /// Connector type.
    pub kind: String,
    /// Label.
    pub name: String,
    /// Settings without secrets.
    pub config: serde_json::Value,
    /// Whether an encrypted secret is stored.
    pub has_secret: bool,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last change of name, config or secret.
    pub updated_at: DateTime<Utc>,
}

/// Changes to a connector; `None` fields stay as they are.
#[derive(Debug, Clone, Default)]
pub struct ConnectorUpdate {
    /// New label.
    pub name: Option<String>,
    /// New settings.
    pub config: Option<serde_json::Value>,
    /// New secret: `Some(None)` removes it, `Some(Some(..))` replaces it.
    pub secret: Option<Option<SealedSecret>>,
}

/// Column list of [`ConnectorRow`], as a macro so `concat!` can build static SQL.
macro_rules! connector_columns {
    () => {
        "id, tenant_path::text AS tenant_path, kind, name, config, \
         secret_ciphertext IS NOT NULL AS has_secret, created_at, updated_at"
    };
}

/// Creates a connector in the transaction's own tenant.
#[instrument(skip_all, name = "store.connectors.create", fields(tenant.path = %tx.tenant(), connector.id = %connector.id, connector.kind = %connector.kind))]
pub async fn create(tx: &mut TenantTx, connector: &NewConnector) -> Result<ConnectorRow, Error> {
    let tenant = tx.tenant().to_owned();
    let (nonce, ciphertext) = split_secret(connector.secret.as_ref());
    let row = sqlx::query_as(concat!(
        "INSERT INTO connectors (id, tenant_path, kind, name, config, secret_nonce, \
         secret_ciphertext) VALUES ($1, $2::ltree, $3, $4, $5, $6, $7) RETURNING ",
        connector_columns!()
    ))
    .bind(connector.id)
    .bind(&tenant)
    .bind(&connector.kind)
    .bind(&connector.name)
    .bind(&connector.config)
    .bind(nonce)
    .bind(ciphertext)
    .fetch_one(tx.conn())
    .await?;
    Ok(row)
}

fn split_secret(secret: Option<&SealedSecret>) -> (Option<&[u8]>, Option<&[u8]>) {
    match secret {
        Some(sealed) => (Some(&sealed.nonce[..]), Some(&sealed.ciphertext[..])),
        None => (None, None),
    }
}

/// Lists the connectors visible to the tenant, oldest first.
#[instrument(skip_all, name = "store.connectors.list", fields(tenant.path = %tx.tenant()))]
pub async fn list(tx: &mut TenantTx) -> Result<Vec<ConnectorRow>, Error> {
    let rows = sqlx::query_as(concat!(
        "SELECT ",
        connector_columns!(),
        " FROM connectors ORDER BY created_at, id"
    ))
    .fetch_all(tx.conn())
    .await?;
    Ok(rows)
}

/// Returns a connector visible to the tenant; `None` when there is none.
#[instrument(skip_all, name = "store.connectors.get", fields(tenant.path = %tx.tenant(), connector.id = %id))]
pub async fn get(tx: &mut TenantTx, id: Uuid) -> Result<Option<ConnectorRow>, Error> {
    let row = sqlx::query_as(concat!(
        "SELECT ",
        connector_columns!(),
        " FROM connectors WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(tx.conn())
    .await?;
    Ok(row)
}

/// Returns the encrypted secret of a connector visible to the tenant, for
/// the code that connects to the source; `None` when it has none.
#[instrument(skip_all, name = "store.connectors.secret", fields(tenant.path = %tx.tenant(), connector.id = %id))]
pub async fn secret(tx: &mut TenantTx, id: Uuid) -> Result<Option<SealedSecret>, Error> {
    let row: Option<(Option<Vec<u8>>, Option<Vec<u8>>)> =
        sqlx::query_as("SELECT secret_nonce, secret_ciphertext FROM connectors WHERE id = $1")
            .bind(id)
            .fetch_optional(tx.conn())
            .await?;
    Ok(match row {
        Some((Some(nonce), Some(ciphertext))) => Some(SealedSecret { nonce, ciphertext }),
        _ => None,
    })
}

/// Applies `update` to a connector visible to the tenant and returns it;
/// `None` when there is no such connector.
#[instrument(skip_all, name = "store.connectors.update", fields(tenant.path = %tx.tenant(), connector.id = %id))]
pub async fn update(
    tx: &mut TenantTx,
    id: Uuid,
    update: &ConnectorUpdate,
) -> Result<Option<ConnectorRow>, Error> {
    let replace_secret = update.secret.is_some();
    let (nonce, ciphertext) = split_secret(update.secret.as_ref().and_then(Option::as_ref));
    let row = sqlx::query_as(concat!(
        "UPDATE connectors SET name = COALESCE($2, name), config = COALESCE($3, config), \
         secret_nonce = CASE WHEN $4 THEN $5 ELSE secret_nonce END, \
         secret_ciphertext = CASE WHEN $4 THEN $6 ELSE secret_ciphertext END, \
         updated_at = now() WHERE id = $1 RETURNING ",
        connector_columns!()
    ))
    .bind(id)
    .bind(update.name.as_deref())
    .bind(update.config.as_ref())
    .bind(replace_secret)
    .bind(nonce)
    .bind(ciphertext)
    .fetch_optional(tx.conn())
    .await?;
    Ok(row)
}

/// Deletes a connector visible to the tenant and returns it; `None` when
/// there is no such connector.
#[instrument(skip_all, name = "store.connectors.delete", fields(tenant.path = %tx.tenant(), connector.id = %id))]
pub async fn delete(tx: &mut TenantTx, id: Uuid) -> Result<Option<ConnectorRow>, Error> {
    let row = sqlx::query_as(concat!(
        "DELETE FROM connectors WHERE id = $1 RETURNING ",
        connector_columns!()
    ))
    .bind(id)
    .fetch_optional(tx.conn())
    .await?;
    Ok(row)
}
