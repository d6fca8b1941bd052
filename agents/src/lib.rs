//! Connectors that discover AI usage; this crate holds the code connector and its detector catalogue.
