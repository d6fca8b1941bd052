//! The gRPC API end to end: a tonic client against the real server, actor tree and
//! Postgres.

mod support;

mod access;
mod ingest;
mod reads;
