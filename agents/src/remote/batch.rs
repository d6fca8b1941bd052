//! Grouping findings into `FindingBatch` messages that fit the gRPC limits.

use std::collections::HashSet;

use prost::Message;
use proto::v1::{FindingBatch, IngestFinding};
use proto::{Finding, MAX_FINDING_BYTES, MAX_MESSAGE_BYTES};

/// Bytes of a batch message left for framing beyond the findings themselves.
const BATCH_OVERHEAD_BYTES: usize = 64 * 1024;

/// What [`BatchBuilder::push`] did with a finding.
#[derive(Debug, PartialEq)]
pub(super) enum Pushed {
    /// Added to the open batch.
    Added,
    /// Added, and the batch is full: take it with [`BatchBuilder::take`].
    Full,
    /// Dropped: a finding with the same source and external id was added before.
    Duplicate,
    /// Dropped: larger than the server accepts; carries the key and the message.
    TooLarge(String, String),
}

/// The open batch, plus the keys of every finding added during this upload.
#[derive(Debug)]
pub(super) struct BatchBuilder {
    max_findings: usize,
    findings: Vec<IngestFinding>,
    num_bytes: usize,
    seen: HashSet<String>,
}

impl BatchBuilder {
    pub(super) fn new(max_findings: usize) -> Self {
        BatchBuilder {
            max_findings,
            findings: Vec::with_capacity(max_findings),
            num_bytes: 0,
            seen: HashSet::new(),
        }
    }

    pub(super) fn is_empty(&self) -> bool {
        self.findings.is_empty()
    }

    /// Adds a finding with its idempotency key `<source>:<external_id>`, which stays the
    /// same when the batch is resent.
    pub(super) fn push(&mut self, finding: Finding) -> Pushed {
        let key = idempotency_key(&finding);
        if self.seen.contains(&key) {
            return Pushed::Duplicate;
        }
        let wire = proto::v1::Finding::from(finding);
        let size = wire.encoded_len();
        if size > MAX_FINDING_BYTES {
            let message = format!(
                "the finding is {size} bytes encoded, above the limit of {MAX_FINDING_BYTES}; \
                 it was not sent"
            );
            return Pushed::TooLarge(key, message);
        }
        self.seen.insert(key.clone());
        let item = IngestFinding {
            idempotency_key: key,
            finding: Some(wire),
        };
        self.num_bytes += item.encoded_len() + 8;
        self.findings.push(item);
        let room_left = MAX_MESSAGE_BYTES - BATCH_OVERHEAD_BYTES - MAX_FINDING_BYTES;
        if self.findings.len() >= self.max_findings || self.num_bytes >= room_left {
            Pushed::Full
        } else {
            Pushed::Added
        }
    }

    /// Closes the open batch under `sequence`.
    pub(super) fn take(&mut self, sequence: u64) -> FindingBatch {
        self.num_bytes = 0;
        let findings = std::mem::replace(&mut self.findings, Vec::with_capacity(self.max_findings));
        FindingBatch { sequence, findings }
    }
}

/// Returns the key that names a finding across sends: its source and external id, or the
/// external id alone when both exceed the server's 256-byte limit.
fn idempotency_key(finding: &Finding) -> String {
    let key = format!("{}:{}", finding.source, finding.external_id);
    if key.len() <= 256 {
        key
    } else {
        finding.external_id.clone()
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use proto::FindingKind;

    use super::*;

    fn finding(subject: &str, evidence_bytes: usize) -> Finding {
        Finding {
            source: "code".to_owned(),
            scope: "/srv/app".to_owned(),
            external_id: Finding::stable_id("/srv/app", "a.py", FindingKind::Dependency, subject),
            kind: FindingKind::Dependency,
            subject: subject.to_owned(),
            path: "a.py".to_owned(),
            line: Some(1),
            confidence: 0.9,
            project_root: ".".to_owned(),
            attributes: BTreeMap::new(),
            evidence: Some("x".repeat(evidence_bytes)),
        }
    }

    #[test]
    fn batch_closes_at_max_findings() {
        let mut builder = BatchBuilder::new(2);

        assert_eq!(builder.push(finding("openai", 10)), Pushed::Added);
        assert_eq!(builder.push(finding("torch", 10)), Pushed::Full);
        let batch = builder.take(7);

        assert_eq!(batch.sequence, 7);
        assert_eq!(batch.findings.len(), 2);
        assert!(builder.is_empty());
        assert!(batch.findings[0].idempotency_key.starts_with("code:"));
    }

    #[test]
    fn repeated_finding_is_dropped_across_batches() {
        let mut builder = BatchBuilder::new(10);
        builder.push(finding("openai", 10));
        builder.take(1);

        assert_eq!(builder.push(finding("openai", 10)), Pushed::Duplicate);
        assert!(builder.is_empty());
    }

    #[test]
    fn oversized_finding_is_not_added() {
        let mut builder = BatchBuilder::new(10);

        let pushed = builder.push(finding("openai", MAX_FINDING_BYTES));

        assert!(matches!(pushed, Pushed::TooLarge(_, _)), "{pushed:?}");
        assert!(builder.is_empty());
    }

    #[test]
    fn batch_closes_before_the_message_limit() {
        let mut builder = BatchBuilder::new(1000);
        let mut pushed = Pushed::Added;
        let mut count = 0;
        while pushed == Pushed::Added {
            pushed = builder.push(finding(&format!("lib{count}"), 60 * 1024));
            count += 1;
        }

        let batch = builder.take(1);

        assert_eq!(pushed, Pushed::Full);
        assert!(
            batch.encoded_len() < MAX_MESSAGE_BYTES,
            "{}",
            batch.encoded_len()
        );
        assert!(count < 1000, "{count}");
    }
}
