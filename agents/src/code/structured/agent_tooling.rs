//! MCP server configurations and CI workflows that call AI actions or APIs.

use std::sync::OnceLock;

use proto::FindingKind;
use regex::Regex;

use crate::catalogue::{Catalogue, Category};
use crate::code::context::{Draft, TextView};

/// Reports one finding per server in an MCP configuration (`mcpServers` as Claude Desktop,
/// Claude Code and Cursor write it, or `servers` as VS Code writes it).
///
/// Environment values and headers are left out, since they often hold credentials.
pub(crate) fn mcp(view: &TextView<'_>, drafts: &mut Vec<Draft>) -> Result<(), String> {
    let document = parse_json_with_comments(view.text)
        .map_err(|error| format!("invalid MCP configuration JSON: {error}; fix the syntax"))?;
    let servers = document
        .get("mcpServers")
        .or_else(|| document.get("servers"));
    let Some(servers) = servers.and_then(serde_json::Value::as_object) else {
        return Ok(());
    };
    for (name, server) in servers {
        let offset = view.text.find(&format!("\"{name}\"")).unwrap_or(0);
        let command = server.get("command").and_then(serde_json::Value::as_str);
        let url = server
            .get("url")
            .or_else(|| server.get("serverUrl"))
            .and_then(serde_json::Value::as_str)
            .map(strip_query);
        let transport = server
            .get("type")
            .or_else(|| server.get("transport"))
            .and_then(serde_json::Value::as_str)
            .unwrap_or(if url.is_some() { "http" } else { "stdio" });
        let package = launched_package(server);

        // The evidence is rebuilt from the cleaned fields: the raw line may hold tokens.
        let launched = [command, package.as_deref(), url.as_deref()];
        let summary: Vec<&str> = launched.into_iter().flatten().collect();
        let mut draft = Draft::new(FindingKind::McpServer, name.clone(), Category::AgentTooling)
            .at_line(view.line_of(offset))
            .evidence(format!("{name} ({transport}): {}", summary.join(" ")))
            .attr("transport", transport);
        if let Some(command) = command {
            draft = draft.attr("command", command);
        }
        if let Some(package) = package {
            draft = draft.attr("package", package);
        }
        if let Some(url) = url {
            draft = draft.attr("url", url);
        }
        drafts.push(draft);
    }
    Ok(())
}

/// Returns the first argument that is not a flag, which for `npx`, `uvx` and `docker run`
/// style launchers names the server package or image.
fn launched_package(server: &serde_json::Value) -> Option<String> {
    let arguments = server.get("args")?.as_array()?;
    arguments
        .iter()
        .filter_map(serde_json::Value::as_str)
        .find(|argument| {
            !argument.starts_with('-') && *argument != "run" && !argument.contains('=')
        })
        .map(str::to_owned)
}

/// Removes the query, fragment and user information of a URL, which may carry credentials.
fn strip_query(url: &str) -> String {
    let without_query = url.split(['?', '#']).next().unwrap_or(url);
    let Some((scheme, rest)) = without_query.split_once("://") else {
        return without_query.to_owned();
    };
    let host_start = rest.find('/').unwrap_or(rest.len());
    match rest[..host_start].rsplit_once('@') {
        Some((_, host)) => format!("{scheme}://{host}{}", &rest[host_start..]),
        None => without_query.to_owned(),
    }
}

/// Parses JSON that may contain `//` line comments, as VS Code settings files do.
fn parse_json_with_comments(text: &str) -> Result<serde_json::Value, serde_json::Error> {
    serde_json::from_str(text).or_else(|error| {
        if !text.contains("//") {
            return Err(error);
        }
        let stripped: String = text
            .lines()
            .map(|line| {
                if line.trim_start().starts_with("//") {
                    ""
                } else {
                    line
                }
            })
            .collect::<Vec<_>>()
            .join("\n");
        serde_json::from_str(&stripped)
    })
}

/// Reports `uses:` of known AI actions and steps that pass a known AI API key variable.
pub(crate) fn workflow(catalogue: &Catalogue, view: &TextView<'_>, drafts: &mut Vec<Draft>) {
    static USES: OnceLock<Regex> = OnceLock::new();
    let uses = USES.get_or_init(|| {
        Regex::new(r#"(?m)^[ \t-]*uses:[ \t]*["']?([\w.\-]+/[\w.\-]+)[^@\s"']*@"#)
            .expect("uses pattern is valid")
    });
    for captures in uses.captures_iter(view.text) {
        let Some(action) = captures.get(1) else {
            continue;
        };
        let name = action.as_str().to_ascii_lowercase();
        let Some(detector) = catalogue.ci_actions.get(&name) else {
            continue;
        };
        let draft = Draft::for_detector(FindingKind::CiAction, &catalogue.detectors[*detector])
            .attr("category", Category::AgentTooling.as_str())
            .attr("action", &name)
            .at_line(view.line_of(action.start()))
            .evidence(view.evidence_at(action.start()));
        drafts.push(Draft {
            subject: name,
            ..draft
        });
    }
    for (variable, detector) in &catalogue.env_vars {
        for (offset, _) in view.text.match_indices(variable.as_str()) {
            if !is_whole_word(view.text, offset, variable.len()) || view.is_comment_line(offset) {
                continue;
            }
            let draft = Draft::for_detector(FindingKind::CiAction, &catalogue.detectors[*detector])
                .attr("category", Category::AgentTooling.as_str())
                .attr("env_var", variable)
                .at_line(view.line_of(offset))
                .evidence(view.evidence_at(offset));
            drafts.push(draft);
            break;
        }
    }
}

fn is_whole_word(text: &str, start: usize, length: usize) -> bool {
    let is_word = |byte: &u8| byte.is_ascii_alphanumeric() || *byte == b'_';
    let before = start
        .checked_sub(1)
        .and_then(|index| text.as_bytes().get(index));
    let after = text.as_bytes().get(start + length);
    !before.is_some_and(is_word) && !after.is_some_and(is_word)
}
