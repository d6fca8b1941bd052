//! Errors returned by the store. sqlx errors are translated here, by SQLSTATE
//! and constraint name, so no other crate matches on database codes.

use std::path::PathBuf;

/// Errors of the store crate.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The login is a superuser, so row-level security would not apply to it.
    #[error(
        "database role `{role}` is a superuser, so row-level security does not apply to it; \
         set DATABASE_URL to a login that is NOSUPERUSER and a member of secruna_app"
    )]
    SuperuserRole {
        /// Role name from `current_user`.
        role: String,
    },
    /// The login has BYPASSRLS, so row-level security would not apply to it.
    #[error(
        "database role `{role}` has BYPASSRLS, so row-level security does not apply to it; \
         run `ALTER ROLE \"{role}\" NOBYPASSRLS` or use another login"
    )]
    BypassRlsRole {
        /// Role name from `current_user`.
        role: String,
    },
    /// The login does not inherit the grants of `secruna_app`.
    #[error(
        "database role `{role}` is not a member of secruna_app, so it lacks the grants on the \
         secruna tables; run `secruna migrate` first, then `GRANT secruna_app TO \"{role}\"`"
    )]
    NotApplicationRole {
        /// Role name from `current_user`.
        role: String,
    },
    /// The login owns secruna tables or inherits their owner's rights.
    #[error(
        "database role `{role}` owns or inherits ownership of table {table} (owner `{owner}`), \
         and owners can switch row-level security off; set DATABASE_URL to a login that is only \
         a member of secruna_app, and keep DATABASE_ADMIN_URL for migrations"
    )]
    OwnerRole {
        /// Role name from `current_user`.
        role: String,
        /// First table found that the role can act as the owner of.
        table: String,
        /// Owner of that table.
        owner: String,
    },
    /// A slug could not be turned into an ltree label.
    #[error(transparent)]
    Slug(#[from] SlugError),
    /// A tenant outside the transaction's tenant subtree was requested.
    #[error(
        "tenant `{requested}` is outside the transaction's tenant `{context}`; \
         begin the transaction with that tenant or one of its ancestors"
    )]
    OutsideTenant {
        /// Requested tenant path.
        requested: String,
        /// Path of the transaction's tenant context.
        context: String,
    },
    /// A subscription named frameworks that are not in the catalogue.
    #[error(
        "unknown framework {slugs:?}; subscribe to slugs of the rule book's frameworks, \
         which the catalogue lists"
    )]
    UnknownFrameworks {
        /// Slugs missing from the catalogue.
        slugs: Vec<String>,
    },
    /// A write named a row that the current tenant cannot see.
    #[error("{entity} `{id}` not found in tenant `{tenant}`")]
    NotFound {
        /// Kind of row (scan, system).
        entity: &'static str,
        /// Id that was requested.
        id: String,
        /// Path of the transaction's tenant context.
        tenant: String,
    },
    /// A unique constraint was violated.
    #[error("duplicate value violates {constraint}: {detail}")]
    Duplicate {
        /// Constraint name from the schema.
        constraint: String,
        /// Detail line from Postgres.
        detail: String,
    },
    /// A row was written for a tenant that has no row in `tenants`.
    #[error(
        "the transaction's tenant does not exist ({constraint}); \
         create it with store::tenants::ensure before writing its rows"
    )]
    TenantNotFound {
        /// Constraint name from the schema.
        constraint: String,
    },
    /// A foreign key was violated, for example an unknown framework slug.
    #[error("reference violates {constraint}: {detail}")]
    MissingReference {
        /// Constraint name from the schema.
        constraint: String,
        /// Detail line from Postgres.
        detail: String,
    },
    /// A check constraint rejected a value.
    #[error("value rejected by {constraint}")]
    InvalidValue {
        /// Constraint name from the schema.
        constraint: String,
    },
    /// Row-level security or a missing grant rejected the statement.
    #[error(
        "permission denied: {message}; the row belongs to another tenant or the role lacks a grant"
    )]
    PermissionDenied {
        /// Message from Postgres.
        message: String,
    },
    /// A migration failed.
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// The server could not be reached: the pool found no connection within
    /// [`crate::ACQUIRE_TIMEOUT`], or opening one failed at the socket.
    #[error(
        "database unreachable: {reason}; check that PostgreSQL is running (for the embedded \
         cluster, run secruna again, which restarts it) and that DATABASE_URL names the right \
         server"
    )]
    DatabaseUnreachable {
        /// What failed, such as the timeout or the socket error.
        reason: String,
    },
    /// Any other database error.
    #[error("database error: {0}")]
    Database(#[source] sqlx::Error),
    /// An audit row or chain head could not be encoded or decoded.
    #[error("audit chain of tenant `{tenant}` is invalid: {reason}")]
    AuditChain {
        /// Tenant whose chain is affected.
        tenant: String,
        /// Description of the fault.
        reason: String,
    },
    /// The embedded cluster could not be set up.
    #[error(transparent)]
    Embedded(#[from] EmbeddedError),
}

impl Error {
    /// Returns whether Postgres ended the transaction because of a conflict with another
    /// one (a deadlock, SQLSTATE 40P01, or a serialization failure, 40001). Running the
    /// same transaction again may then succeed.
    pub fn is_transaction_conflict(&self) -> bool {
        let Error::Database(sqlx::Error::Database(error)) = self else {
            return false;
        };
        matches!(error.code().as_deref(), Some("40P01" | "40001"))
    }
}

/// Errors of the embedded Postgres cluster.
#[derive(Debug, thiserror::Error)]
pub enum EmbeddedError {
    /// No PostgreSQL server binaries were found.
    #[error(
        "PostgreSQL server binaries (initdb, pg_ctl) not found in SECRUNA_PG_BIN, `pg_config --bindir`, \
         /usr/lib/postgresql/*/bin or PATH; run `apt-get install postgresql`, set SECRUNA_PG_BIN, \
         or set DATABASE_URL and DATABASE_ADMIN_URL to an external server"
    )]
    BinariesNotFound,
    /// A file operation on the data folder failed.
    #[error("{action} `{path}` failed: {source}")]
    Io {
        /// Operation that failed (`create folder`, `lock`).
        action: &'static str,
        /// File or folder involved.
        path: PathBuf,
        /// Underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A PostgreSQL tool exited with an error.
    #[error("`{command}` failed with {status}: {output}")]
    Command {
        /// Command line that was run.
        command: String,
        /// Exit status.
        status: String,
        /// Its standard error and output, trimmed.
        output: String,
    },
    /// The data folder is not usable.
    #[error("data folder `{path}` is not usable: {reason}")]
    DataDir {
        /// Folder involved.
        path: PathBuf,
        /// Cause and remedy.
        reason: String,
    },
}

/// Rejection of a tenant slug that cannot be mapped to an ltree label.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SlugError {
    /// The slug is empty (or a slug path has an empty segment).
    #[error("tenant slug in `{slug_path}` is empty; use a name such as `acme` or `acme/emea`")]
    Empty {
        /// Whole slug path as given.
        slug_path: String,
    },
    /// The slug maps to a label longer than an ltree label may be.
    #[error(
        "tenant slug `{slug}` maps to a {label_len}-character label, over the limit of {max}; \
         use a shorter slug (letters a-z and digits take one character, others take three per byte)"
    )]
    TooLong {
        /// Slug as given.
        slug: String,
        /// Length of the escaped label.
        label_len: usize,
        /// Maximum label length.
        max: usize,
    },
    /// The slug contains whitespace, a control character or a `/`.
    #[error(
        "tenant slug `{slug}` contains {character} at byte {offset}; \
         remove it (use `-` between words, `/` only between parent and child slugs)"
    )]
    InvalidCharacter {
        /// Slug as given.
        slug: String,
        /// Description of the offending character.
        character: String,
        /// Byte offset of that character.
        offset: usize,
    },
    /// The slug path has more levels than [`crate::tenant_path::MAX_DEPTH`].
    #[error(
        "tenant path has {depth} levels, over the limit of {max}; \
         use a path with at most {max} slugs separated by `/`"
    )]
    TooDeep {
        /// Number of slugs in the path.
        depth: usize,
        /// Maximum number of levels.
        max: usize,
    },
    /// The escaped path is longer than [`crate::tenant_path::MAX_PATH_BYTES`].
    #[error(
        "tenant path maps to a {path_len}-byte ltree path, over the limit of {max} bytes; \
         use fewer or shorter slugs (letters a-z and digits take one byte, others take three)"
    )]
    PathTooLong {
        /// Length of the escaped ltree path in bytes.
        path_len: usize,
        /// Maximum path length in bytes.
        max: usize,
    },
    /// An ltree label is not in the escaped form produced by this crate.
    #[error("ltree label `{label}` is not an escaped tenant slug")]
    InvalidLabel {
        /// Label as given.
        label: String,
    },
}

impl From<sqlx::Error> for Error {
    fn from(error: sqlx::Error) -> Self {
        if let Some(reason) = unreachable_reason(&error) {
            return Error::DatabaseUnreachable { reason };
        }
        let Some(db_error) = error.as_database_error() else {
            return Error::Database(error);
        };
        let constraint = db_error
            .constraint()
            .unwrap_or("unnamed constraint")
            .to_owned();
        let detail = db_error
            .try_downcast_ref::<sqlx::postgres::PgDatabaseError>()
            .and_then(|pg| pg.detail())
            .unwrap_or("")
            .to_owned();
        match db_error.code().as_deref() {
            Some("23505") => Error::Duplicate { constraint, detail },
            Some("23503") if constraint.ends_with("_tenant_fkey") => {
                Error::TenantNotFound { constraint }
            }
            Some("23503") => Error::MissingReference { constraint, detail },
            Some("23514") => Error::InvalidValue { constraint },
            // admin_shutdown, crash_shutdown, cannot_connect_now: the server
            // is going away or not yet accepting connections.
            Some("57P01" | "57P02" | "57P03") => Error::DatabaseUnreachable {
                reason: db_error.message().to_owned(),
            },
            Some("42501") => Error::PermissionDenied {
                message: db_error.message().to_owned(),
            },
            _ => Error::Database(error),
        }
    }
}

/// Describes `error` when it means the server cannot be reached at all.
fn unreachable_reason(error: &sqlx::Error) -> Option<String> {
    use std::io::ErrorKind;

    match error {
        sqlx::Error::PoolTimedOut => Some(format!(
            "no connection within {} s",
            crate::ACQUIRE_TIMEOUT.as_secs()
        )),
        sqlx::Error::Io(io_error) => match io_error.kind() {
            ErrorKind::NotFound
            | ErrorKind::ConnectionRefused
            | ErrorKind::ConnectionReset
            | ErrorKind::ConnectionAborted
            | ErrorKind::BrokenPipe
            | ErrorKind::UnexpectedEof
            | ErrorKind::TimedOut => Some(format!("connecting failed: {io_error}")),
            _ => None,
        },
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pool_timeout_is_unreachable_database() {
        let error = Error::from(sqlx::Error::PoolTimedOut);
        let message = error.to_string();
        assert!(
            message.starts_with("database unreachable: no connection within 10 s;"),
            "{message}"
        );
        assert!(message.contains("DATABASE_URL"), "{message}");
    }

    #[test]
    fn refused_socket_is_unreachable_database() {
        let refused = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
        let error = Error::from(sqlx::Error::Io(refused));
        assert!(
            matches!(error, Error::DatabaseUnreachable { .. }),
            "{error:?}"
        );
    }
}
