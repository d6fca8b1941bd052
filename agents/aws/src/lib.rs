//! AWS connector: finds SageMaker, Bedrock and AI-using Lambda resources in every account
//! and region of an organisation.
//!
//! [`AwsFactory`] builds an [`AwsSource`] from a connector spec. Its scopes are one per
//! account and region (`aws:<account>:<region>`); the accounts come from the config or
//! Organizations `ListAccounts`, the regions from the config or each account's enabled
//! regions (Account `ListRegions`). Member accounts are crawled through a role assumed
//! with the base credentials; every call runs through [`agents::net::with_retries`] under
//! the scope's rate limiter, with the SDK's own retries turned off.
//!
//! This crate is the only one that links the AWS SDK, which is costly to build; the binary
//! registers [`AwsFactory`] in its [`agents::SourceRegistry`].

mod call;
pub mod config;
mod coverage;
mod crawl;
mod discover;
mod finding;
mod session;
mod source;

pub use config::{AwsConfig, AwsSecret, ConfigError};
pub use source::{AwsFactory, AwsSource};
