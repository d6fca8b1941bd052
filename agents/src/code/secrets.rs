//! API keys of AI providers. A finding carries the key's prefix and SHA-256, never the key.

mod assigned;

use std::ops::Range;

use proto::FindingKind;
use sha2::{Digest, Sha256};

use super::context::{Draft, TextView, shorten};
use super::text::bit;
use crate::catalogue::{Catalogue, Category, SecretFormat};

/// Characters of a key kept in the `prefix` attribute and the evidence.
const VISIBLE_PREFIX_CHARS: usize = 8;

/// Minimum Shannon entropy, in bits per character, of the part after the prefix. Real keys
/// are random (around 5 bits per character); placeholders such as `sk-xxxx…` are far below.
const MIN_ENTROPY_BITS: f64 = 3.5;

/// One key occurrence before overlapping formats are resolved.
struct Candidate<'t> {
    start: usize,
    value: &'t str,
    format: &'t SecretFormat,
}

/// Runs the secret formats whose bit is set in `formats` over `region` and reports each key.
pub(crate) fn scan(
    catalogue: &Catalogue,
    view: &TextView<'_>,
    region: Range<usize>,
    formats: u64,
    drafts: &mut Vec<Draft>,
) {
    let mut candidates = Vec::new();
    for (index, format) in catalogue.secrets.iter().enumerate() {
        if formats & bit(index) == 0 {
            continue;
        }
        for found in format.regex.find_iter(&view.text[region.clone()]) {
            let (start, end) = (region.start + found.start(), region.start + found.end());
            let bounded = !found.as_str().is_empty()
                && byte_before_is_boundary(view.text, start)
                && byte_after_is_boundary(view.text, end);
            if bounded && looks_random(&found.as_str()[format.prefix.len()..]) {
                candidates.push(Candidate {
                    start,
                    value: found.as_str(),
                    format,
                });
            }
        }
    }
    // Where two formats match at one place (`sk-ant-…` also fits the OpenAI `sk-…` format),
    // the one with the longer, more specific prefix wins.
    candidates.sort_by_key(|candidate| {
        (
            candidate.start,
            std::cmp::Reverse(candidate.format.prefix.len()),
        )
    });
    candidates.dedup_by_key(|candidate| candidate.start);
    for candidate in candidates {
        drafts.push(secret_draft(view, &candidate));
    }
}

fn secret_draft(view: &TextView<'_>, candidate: &Candidate<'_>) -> Draft {
    let visible: String = candidate.value.chars().take(VISIBLE_PREFIX_CHARS).collect();
    let sha256 = hex::encode(Sha256::digest(candidate.value.as_bytes()));
    let redacted_line = view
        .line_text(candidate.start)
        .replace(candidate.value, &format!("{visible}…[redacted]"));
    Draft::new(
        FindingKind::Secret,
        candidate.format.name.clone(),
        Category::HostedApi,
    )
    .attr("provider", &candidate.format.provider)
    .attr("secret_type", &candidate.format.name)
    .attr("prefix", visible)
    .attr("sha256", sha256)
    .at_line(view.line_of(candidate.start))
    .evidence(shorten(redacted_line.trim()))
}

/// Redacts the keys in an evidence excerpt or attribute value, so that no finding carries a
/// key. Every finding's evidence and attributes pass through here.
///
/// A key-shaped string becomes its first characters and `…[redacted]`, whatever its entropy
/// and even when the excerpt cut it short. A value assigned to a credential name such as
/// `api_key` or `*_TOKEN` becomes `[redacted]`, which covers keys without a known prefix.
pub(crate) fn redact(catalogue: &Catalogue, evidence: &str) -> String {
    assigned::redact_assigned(&redact_key_formats(catalogue, evidence))
}

fn redact_key_formats(catalogue: &Catalogue, evidence: &str) -> String {
    let mut redacted = evidence.to_owned();
    for format in &catalogue.secrets {
        if !redacted.contains(format.prefix.as_str()) {
            continue;
        }
        redacted = format
            .redaction
            .replace_all(&redacted, |captures: &regex::Captures<'_>| {
                let visible: String = captures[0].chars().take(VISIBLE_PREFIX_CHARS).collect();
                format!("{visible}…[redacted]")
            })
            .into_owned();
    }
    redacted
}

fn byte_before_is_boundary(text: &str, start: usize) -> bool {
    start == 0 || !is_key_byte(text.as_bytes()[start - 1])
}

fn byte_after_is_boundary(text: &str, end: usize) -> bool {
    text.as_bytes()
        .get(end)
        .is_none_or(|byte| !is_key_byte(*byte))
}

fn is_key_byte(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || byte == b'_' || byte == b'-'
}

/// Tells whether a key body has the entropy of a random string.
fn looks_random(body: &str) -> bool {
    let mut counts = [0u32; 256];
    for byte in body.bytes() {
        counts[usize::from(byte)] += 1;
    }
    let length = body.len() as f64;
    if length == 0.0 {
        return false;
    }
    let entropy: f64 = counts
        .iter()
        .filter(|count| **count > 0)
        .map(|count| {
            let probability = f64::from(*count) / length;
            -probability * probability.log2()
        })
        .sum();
    entropy >= MIN_ENTROPY_BITS
}

#[cfg(test)]
mod tests {
    use super::looks_random;

    #[test]
    fn entropy_rejects_placeholders() {
        assert!(!looks_random(
            "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
        ));
        assert!(!looks_random(
            "your-api-key-goes-here-your-api-key-goes-here"
        ));
        assert!(looks_random(
            "T3BlbkFJq8vN2mXr7LpW4sYb9ZcK1eHdG6uJfA0tQwEiRo"
        ));
    }
}
