//! Integration tests of the AWS connector against moto and a fake AWS endpoint.

mod factory;
mod fake;
mod fake_accounts;
mod fake_aws;
mod fake_bedrock;
mod moto;
mod support;
