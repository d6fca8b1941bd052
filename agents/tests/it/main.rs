//! Integration tests of the code connector, each on a tree written for it.

mod artefacts;
mod azure;
mod config;
mod gcp;
mod github;
mod inventory;
mod languages;
mod manifests;
mod net;
mod notebooks_and_cards;
mod precision;
mod secrets;
mod support;
mod walk;
