//! Integration tests of the rule book: the embedded EU AI Act pack, loader errors, evaluation.

mod embedded;
mod evaluate;
mod load_errors;
