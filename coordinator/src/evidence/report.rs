//! `report.html`: the pack's data as one self-contained page for people.

use std::fmt::Write;

use serde_json::Value;

use super::EvidenceData;

/// Renders the report. Every value from the data is HTML-escaped.
pub(super) fn render(data: &EvidenceData) -> String {
    let mut html = String::with_capacity(16 * 1024);
    let title = format!(
        "Evidence pack: {} for {}",
        data.framework_title, data.tenant
    );
    let _ = write!(
        html,
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{}</title>\
         <style>body{{font-family:sans-serif;margin:2em}}table{{border-collapse:collapse}}\
         td,th{{border:1px solid #999;padding:4px 8px;text-align:left;vertical-align:top}}</style>\
         </head><body>\n<h1>{}</h1>\n",
        escape(&title),
        escape(&title)
    );
    let _ = writeln!(
        html,
        "<p>Framework {} version {}. Rule book {}. Generated {} by {}. Audit chain head: {}.</p>",
        escape(&data.framework),
        escape(&data.framework_version),
        escape(&data.rule_book_version_hash),
        escape(&data.generated_at),
        escape(&data.generated_by),
        data.audit_chain_head
            .as_ref()
            .map(|head| format!("row {} with hash {}", head.seq, escape(&head.row_hash)))
            .unwrap_or_else(|| "none".to_owned()),
    );
    systems_table(&mut html, data);
    verdicts_table(&mut html, data);
    html.push_str("</body></html>\n");
    html
}

fn systems_table(html: &mut String, data: &EvidenceData) {
    html.push_str("<h2>AI systems</h2>\n<table><tr><th>Name</th><th>Root</th><th>Risk class</th><th>Open findings</th></tr>\n");
    for system in data.inventory.as_array().into_iter().flatten() {
        let num_findings = system["findings"].as_array().map_or(0, Vec::len);
        let _ = writeln!(
            html,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{num_findings}</td></tr>",
            text(&system["name"]),
            text(&system["root"]),
            text(&system["risk_class"]),
        );
    }
    html.push_str("</table>\n");
}

fn verdicts_table(html: &mut String, data: &EvidenceData) {
    html.push_str("<h2>Verdicts</h2>\n<table><tr><th>System</th><th>Rule</th><th>Verdict</th><th>Reasons</th></tr>\n");
    for verdict in data.evaluations.as_array().into_iter().flatten() {
        let reasons: Vec<String> = verdict["reasons"]
            .as_array()
            .into_iter()
            .flatten()
            .map(text)
            .collect();
        let _ = writeln!(
            html,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            text(&verdict["system_id"]),
            text(&verdict["rule_id"]),
            text(&verdict["status"]),
            reasons.join("<br>"),
        );
    }
    html.push_str("</table>\n");
}

/// Returns a JSON value as escaped text: strings without quotes, `null` as empty.
fn text(value: &Value) -> String {
    match value {
        Value::String(text) => escape(text),
        Value::Null => String::new(),
        other => escape(&other.to_string()),
    }
}

fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for character in text.chars() {
        match character {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            other => escaped.push(other),
        }
    }
    escaped
}
