//! Redaction of values assigned to credential names (`api_key="…"`, `apiKey: '…'`,
//! `MISTRAL_API_KEY=…`), which catches keys that have no distinctive prefix.

use std::sync::LazyLock;

use regex::{Captures, Regex};

/// Text that replaces a redacted value.
const REDACTED: &str = "[redacted]";

/// A credential name, an optional closing quote (JSON keys), a separator and a value.
///
/// The name ends in a credential word, so `max_tokens` is not one. A quoted value may be
/// cut short by the evidence excerpt, so a quote that never closes runs to the end. A bare
/// value runs to the next blank or delimiter and may start with `Bearer `.
static ASSIGNMENT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r#"(?ix)
        (?P<name>\b[a-z0-9_-]*?
            (?:api[_-]?key|access[_-]?key|token|secret|password|passwd|authorization|credentials?)
        \b)
        (?P<separator>["']?\s*(?:=>|:=|=|:)\s*)
        (?P<value>
            "(?:[^"\\]|\\.)*(?:"|$)
          | '(?:[^'\\]|\\.)*(?:'|$)
          | `[^`]*(?:`|$)
          | (?:(?:bearer|basic|token)\s+)?[^\s"'`,;(){}\[\]=][^\s"'`,;(){}\[\]]*
        )"#,
    )
    .expect("the assignment pattern is a valid regex")
});

/// Replaces every value assigned or passed to a credential name with `[redacted]`, keeping
/// the value's quotes. Two values are kept: one that already ends in `[redacted]` (a known
/// key format cut to its prefix, which shows the key's format) and a bare name followed by
/// `(` or `[`, which is a call or an index such as `os.environ.get(…)`, not a literal.
pub(crate) fn redact_assigned(text: &str) -> String {
    if !ASSIGNMENT.is_match(text) {
        return text.to_owned();
    }
    ASSIGNMENT
        .replace_all(text, |captures: &Captures<'_>| {
            let whole = &captures[0];
            let value = &captures["value"];
            let end = captures.get(0).map_or(text.len(), |found| found.end());
            let is_reference = text[end..].starts_with(['(', '[']);
            let is_redacted = value.trim_end_matches(['"', '\'', '`']).ends_with(REDACTED);
            if is_reference || is_redacted {
                return whole.to_owned();
            }
            let replacement = quote_like(value, REDACTED);
            format!(
                "{}{}{replacement}",
                &captures["name"], &captures["separator"]
            )
        })
        .into_owned()
}

/// Wraps `replacement` in the quotes that `value` has.
fn quote_like(value: &str, replacement: &str) -> String {
    let Some(quote) = value
        .chars()
        .next()
        .filter(|first| matches!(first, '"' | '\'' | '`'))
    else {
        return replacement.to_owned();
    };
    let closed = value.len() > 1 && value.ends_with(quote);
    if closed {
        format!("{quote}{replacement}{quote}")
    } else {
        format!("{quote}{replacement}")
    }
}

#[cfg(test)]
mod tests {
    use super::redact_assigned;

    #[test]
    fn assignment_forms_are_redacted() {
        let cases = [
            (
                r#"az = AzureOpenAI(api_key="09c95e00972499d1e9fce887dcb1fb2b", azure_endpoint="https://x.openai.azure.com")"#,
                r#"az = AzureOpenAI(api_key="[redacted]", azure_endpoint="https://x.openai.azure.com")"#,
            ),
            (
                "const client = new Mistral({ apiKey: 'a1b2c3d4e5f6', timeout: 5 })",
                "const client = new Mistral({ apiKey: '[redacted]', timeout: 5 })",
            ),
            ("MISTRAL_API_KEY=Zx81pq0Lm", "MISTRAL_API_KEY=[redacted]"),
            (r#""x-api-key": "abc123""#, r#""x-api-key": "[redacted]""#),
            (
                "Authorization: Bearer eyJhbGciOi.x.y",
                "Authorization: [redacted]",
            ),
            ("hf_token := 'abc'", "hf_token := '[redacted]'"),
            ("password => \"pa ss\"", "password => \"[redacted]\""),
            (
                r#"client = OpenAI(api_key="0123456789abc"#,
                r#"client = OpenAI(api_key="[redacted]"#,
            ),
        ];
        for (input, expected) in cases {
            assert_eq!(redact_assigned(input), expected, "input: {input}");
        }
    }

    #[test]
    fn other_names_and_references_are_kept() {
        let kept = [
            "response = client.chat(max_tokens=256, model=\"gpt-4o\")",
            "key = os.environ[\"OPENAI_API_KEY\"]",
            "api_key=os.environ.get(\"AZURE_KEY\")",
            "OPENAI_API_KEY=sk-proj-…[redacted]",
            "client = OpenAI(api_key=\"sk-proj-…[redacted]\")",
            "if token == expected:",
        ];
        for input in kept {
            assert_eq!(redact_assigned(input), input);
        }
    }
}
