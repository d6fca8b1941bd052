//! Postgres access for Secruna: the connection pool, tenant-scoped
//! transactions, repositories, the audit chain and an embedded cluster.
//!
//! Row-level security isolates tenants. The application logs in as a role
//! that is neither a superuser nor a table owner and has no BYPASSRLS
//! ([`Store::connect`] rejects any other), and every policy compares a row's
//! `tenant_path` with the transaction's tenant. [`Store::begin`] is the only
//! way to open a transaction and it always sets that tenant, locally to the
//! transaction, so a pooled connection never carries a tenant into another
//! request. Outside such a transaction every customer table looks empty.
//!
//! - [`tenant_path`]: slug to ltree mapping, [`TenantPath`], [`TenantContext`]
//! - [`tenants`], [`subscriptions`], [`scans`], [`systems`], [`findings`],
//!   [`evaluations`]: repositories taking a [`TenantTx`]
//! - [`audit`]: append to and verify the per-tenant hash chain
//! - [`users`], [`sessions`], [`api_tokens`]: sign-in and bearer tokens, which
//!   [`Store::authenticate`] looks up by hash before any tenant is known
//! - [`listing`], [`audit_query`]: filtered, keyset-paginated reads for the API
//! - [`connectors`], [`declared`], [`webhooks`]: connectors with encrypted
//!   secrets, facts declared through the API, and the webhook outbox
//! - [`reviews`]: the human review queue and its single-use decision links
//! - [`embedded`]: a private cluster started with the system's PostgreSQL
//! - `testing` (feature `testing`): a fresh migrated database per test

mod error;
mod frameworks;
mod pool;

pub mod api_tokens;
pub mod audit;
pub mod audit_query;
pub mod connectors;
pub mod declared;
pub mod embedded;
pub mod evaluations;
pub mod findings;
pub mod listing;
pub mod reviews;
pub mod scans;
pub mod sessions;
pub mod subscriptions;
pub mod systems;
pub mod tenant_path;
pub mod tenants;
pub mod users;
pub mod webhooks;

#[cfg(feature = "testing")]
pub mod testing;

pub use error::{EmbeddedError, Error, SlugError};
pub use frameworks::FrameworkRow;
pub use pool::{ACQUIRE_TIMEOUT, DEFAULT_MAX_CONNECTIONS, Store, TenantTx, migrate};
pub use tenant_path::{TenantContext, TenantPath, slug_to_label};
