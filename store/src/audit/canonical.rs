//! Canonical serialisation of an audit row, the input of its hash.
//!
//! The row is written as a JSON array with a fixed field order. Object keys
//! are sorted by their UTF-8 bytes and nothing is pretty-printed, so the same
//! row always gives the same bytes whatever map type serde_json was built
//! with. Timestamps are written with exactly six fractional digits, the
//! precision Postgres stores.

use std::net::IpAddr;

use chrono::{DateTime, Utc};
use serde_json::Value;
use sha2::{Digest, Sha256};
use uuid::Uuid;

/// Tag written first, so a future change of the format cannot be confused
/// with this one.
const FORMAT_TAG: &str = "secruna.audit.v1";

/// Fields of an audit row that the hash covers.
pub(crate) struct HashedRow<'a> {
    pub(crate) tenant_path: &'a str,
    pub(crate) seq: i64,
    pub(crate) id: Uuid,
    pub(crate) actor_type: &'a str,
    pub(crate) actor_id: &'a str,
    pub(crate) entity_type: &'a str,
    pub(crate) entity_id: &'a str,
    pub(crate) action: &'a str,
    pub(crate) diff: &'a Value,
    pub(crate) occurred_at: DateTime<Utc>,
    pub(crate) ip: Option<IpAddr>,
    pub(crate) user_agent: Option<&'a str>,
    pub(crate) request_id: Option<&'a str>,
}

impl HashedRow<'_> {
    /// Computes SHA-256(prev_hash || canonical row).
    pub(crate) fn hash(&self, prev_hash: &[u8]) -> [u8; 32] {
        let mut hasher = Sha256::new();
        hasher.update(prev_hash);
        hasher.update(self.canonical().as_bytes());
        hasher.finalize().into()
    }

    fn canonical(&self) -> String {
        let ip = self.ip.map(|ip| ip.to_string());
        let fields = [
            Value::from(FORMAT_TAG),
            Value::from(self.tenant_path),
            Value::from(self.seq),
            Value::from(self.id.to_string()),
            Value::from(self.actor_type),
            Value::from(self.actor_id),
            Value::from(self.entity_type),
            Value::from(self.entity_id),
            Value::from(self.action),
            self.diff.clone(),
            Value::from(format_timestamp(self.occurred_at)),
            ip.map_or(Value::Null, Value::from),
            self.user_agent.map_or(Value::Null, Value::from),
            self.request_id.map_or(Value::Null, Value::from),
        ];
        let mut out = String::new();
        write_canonical(&Value::Array(fields.into()), &mut out);
        out
    }
}

/// Formats a UTC timestamp as `2026-12-04T16:00:49.123456Z`.
pub(crate) fn format_timestamp(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

fn write_canonical(value: &Value, out: &mut String) {
    match value {
        Value::Null | Value::Bool(_) | Value::Number(_) | Value::String(_) => {
            out.push_str(&value.to_string());
        }
        Value::Array(items) => {
            out.push('[');
            for (index, item) in items.iter().enumerate() {
                if index > 0 {
                    out.push(',');
                }
                write_canonical(item, out);
            }
            out.push(']');
        }
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_by(|left, right| left.0.as_bytes().cmp(right.0.as_bytes()));
            out.push('{');
            for (index, (key, item)) in entries.into_iter().enumerate() {
                if index > 0 {
                    out.push(',');
                }
                out.push_str(&Value::from(key.as_str()).to_string());
                out.push(':');
                write_canonical(item, out);
            }
            out.push('}');
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn object_keys_are_sorted_at_every_depth() {
        let value = serde_json::json!({"b": 1, "a": {"d": [true, null], "c": "x"}});
        let mut out = String::new();
        write_canonical(&value, &mut out);
        assert_eq!(out, r#"{"a":{"c":"x","d":[true,null]},"b":1}"#);
    }

    #[test]
    fn timestamps_have_six_fractional_digits() {
        let at = DateTime::from_timestamp(1_796_400_000, 120_000_000).unwrap();
        assert_eq!(format_timestamp(at), "2026-12-04T16:00:00.120000Z");
    }
}
