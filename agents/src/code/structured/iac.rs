//! Infrastructure as code that creates AI services: Terraform, Bicep, CloudFormation and ARM.

use std::sync::OnceLock;

use proto::FindingKind;
use regex::Regex;

use crate::catalogue::{Catalogue, IacType};
use crate::code::context::{Draft, TextView};

/// Bytes after a resource type searched for its `kind`, when a rule requires one.
const RESOURCE_BODY_BYTES: usize = 4096;

fn regex(cell: &'static OnceLock<Regex>, pattern: &str) -> &'static Regex {
    cell.get_or_init(|| Regex::new(pattern).expect("IaC pattern is valid"))
}

/// Reports Terraform `resource "type" "name"` blocks of AI services.
pub(crate) fn terraform(catalogue: &Catalogue, view: &TextView<'_>, drafts: &mut Vec<Draft>) {
    static RESOURCE: OnceLock<Regex> = OnceLock::new();
    let resource = regex(&RESOURCE, r#"(?m)^[ \t]*resource[ \t]+"([A-Za-z0-9_]+)""#);
    report_types(catalogue, view, resource, drafts);
}

/// Reports Bicep `resource name 'Type@version'` declarations of AI services.
pub(crate) fn bicep(catalogue: &Catalogue, view: &TextView<'_>, drafts: &mut Vec<Draft>) {
    static RESOURCE: OnceLock<Regex> = OnceLock::new();
    let resource = regex(&RESOURCE, r"(?m)^[ \t]*resource[ \t]+\w+[ \t]+'([^'@]+)@");
    report_types(catalogue, view, resource, drafts);
}

/// Reports CloudFormation `Type: AWS::…` and ARM `"type": "Microsoft.…"` resources.
pub(crate) fn cloudformation(catalogue: &Catalogue, view: &TextView<'_>, drafts: &mut Vec<Draft>) {
    static RESOURCE: OnceLock<Regex> = OnceLock::new();
    let resource = regex(
        &RESOURCE,
        r#"(?i:"?type"?)[ \t]*:[ \t]*["']?((?:AWS::[A-Za-z0-9]+::[A-Za-z0-9]+)|(?:Microsoft\.[A-Za-z]+/[A-Za-z/]+))"#,
    );
    report_types(catalogue, view, resource, drafts);
}

fn report_types(
    catalogue: &Catalogue,
    view: &TextView<'_>,
    resource: &Regex,
    drafts: &mut Vec<Draft>,
) {
    for captures in resource.captures_iter(view.text) {
        let Some(found) = captures.get(1) else {
            continue;
        };
        if view.is_comment_line(found.start()) {
            continue;
        }
        let body_end = (found.end() + RESOURCE_BODY_BYTES).min(view.text.len());
        let body = view
            .text
            .get(found.end()..body_end)
            .unwrap_or(&view.text[found.end()..]);
        let Some(rule) = matching_rule(catalogue, found.as_str(), resource_body(body)) else {
            continue;
        };
        let draft = Draft::for_detector(
            FindingKind::IacResource,
            &catalogue.detectors[rule.detector],
        )
        .attr(
            "category",
            crate::catalogue::Category::Infrastructure.as_str(),
        )
        .attr("resource_type", found.as_str())
        .at_line(view.line_of(found.start()))
        .evidence(view.evidence_at(found.start()));
        drafts.push(draft);
    }
}

/// Cuts the text after a resource type at the next resource declaration.
fn resource_body(after_type: &str) -> &str {
    let next = ["\nresource ", "\n  Type:", "\"type\":"]
        .iter()
        .filter_map(|marker| after_type.find(marker))
        .min()
        .unwrap_or(after_type.len());
    &after_type[..next]
}

/// Returns the first rule that matches the type; rules with a `kind` condition come first.
fn matching_rule<'c>(
    catalogue: &'c Catalogue,
    resource_type: &str,
    body: &str,
) -> Option<&'c IacType> {
    catalogue.iac_types.iter().find(|rule| {
        let type_matches = if rule.is_prefix {
            resource_type.starts_with(&rule.name)
        } else {
            resource_type == rule.name
        };
        type_matches && rule.kind.as_deref().is_none_or(|kind| has_kind(body, kind))
    })
}

/// Tells whether a resource body sets `kind` to the value (`kind = "OpenAI"`, `kind: 'OpenAI'`,
/// `"kind": "OpenAI"`).
fn has_kind(body: &str, kind: &str) -> bool {
    body.match_indices("kind").any(|(offset, _)| {
        let rest = body[offset + 4..]
            .trim_start_matches(['"', '\''])
            .trim_start();
        let Some(value) = rest.strip_prefix(['=', ':']) else {
            return false;
        };
        let value = value.trim_start().trim_start_matches(['"', '\'']);
        value.starts_with(kind)
            && !value[kind.len()..].starts_with(|c: char| c.is_ascii_alphanumeric())
    })
}
