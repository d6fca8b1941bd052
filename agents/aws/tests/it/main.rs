//! Integration tests of the AWS connector against moto and a fake AWS endpoint.

mod fake;
mod fake_aws;
mod moto;
mod support;
