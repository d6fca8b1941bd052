//! package.json, Cargo.toml and go.mod.

use super::{Declared, Parsed};
use crate::catalogue::Ecosystem;

/// Dependency tables of package.json.
const NPM_TABLES: [&str; 4] = [
    "dependencies",
    "devDependencies",
    "peerDependencies",
    "optionalDependencies",
];

/// Reads the dependency tables and the description of a package.json.
pub(crate) fn package_json(text: &str) -> Result<Parsed, String> {
    let document: serde_json::Value = serde_json::from_str(text)
        .map_err(|error| format!("invalid package.json: {error}; fix the JSON syntax"))?;
    let packages = NPM_TABLES
        .iter()
        .filter_map(|table| document.get(table).and_then(serde_json::Value::as_object))
        .flat_map(|table| table.keys())
        .map(|name| Declared::new(Ecosystem::Npm, name))
        .collect();
    let description = document
        .get("description")
        .and_then(serde_json::Value::as_str)
        .map(str::to_owned);
    Ok(Parsed {
        packages,
        description,
    })
}

/// Reads `[dependencies]`, `[dev-dependencies]`, `[build-dependencies]`, their
/// `[target.'cfg'.…]` forms and `[workspace.dependencies]`; a `package = "…"` rename reports
/// the real crate name.
pub(crate) fn cargo_toml(text: &str) -> Result<Parsed, String> {
    let table = text
        .parse::<toml::Table>()
        .map_err(|error| format!("invalid Cargo.toml: {error}; fix the TOML syntax"))?;
    let mut packages = Vec::new();
    collect_cargo_tables(&table, &mut packages);
    for (_, target) in table
        .get("target")
        .and_then(toml::Value::as_table)
        .into_iter()
        .flatten()
    {
        if let Some(target) = target.as_table() {
            collect_cargo_tables(target, &mut packages);
        }
    }
    if let Some(workspace) = table.get("workspace").and_then(toml::Value::as_table) {
        collect_cargo_tables(workspace, &mut packages);
    }
    let description = table
        .get("package")
        .and_then(|package| package.get("description"))
        .and_then(toml::Value::as_str)
        .map(str::to_owned);
    Ok(Parsed {
        packages,
        description,
    })
}

fn collect_cargo_tables(table: &toml::Table, packages: &mut Vec<Declared>) {
    for key in ["dependencies", "dev-dependencies", "build-dependencies"] {
        for (name, spec) in table
            .get(key)
            .and_then(toml::Value::as_table)
            .into_iter()
            .flatten()
        {
            let real_name = spec.get("package").and_then(toml::Value::as_str);
            let mut declared = Declared::new(Ecosystem::Cargo, real_name.unwrap_or(name));
            declared.line_hint = Some(name.clone());
            packages.push(declared);
        }
    }
}

/// Reads the module paths of `require` lines and blocks in go.mod.
pub(crate) fn go_mod(text: &str) -> Parsed {
    let mut packages = Vec::new();
    let mut in_block = false;
    for line in text.lines() {
        let line = line.split("//").next().unwrap_or(line).trim();
        if in_block {
            if line.starts_with(')') {
                in_block = false;
            } else if let Some(module) = line.split_whitespace().next() {
                packages.push(Declared::new(Ecosystem::Go, module));
            }
            continue;
        }
        let Some(rest) = line.strip_prefix("require") else {
            continue;
        };
        let rest = rest.trim();
        if rest.starts_with('(') {
            in_block = true;
        } else if let Some(module) = rest.split_whitespace().next() {
            packages.push(Declared::new(Ecosystem::Go, module));
        }
    }
    Parsed {
        packages,
        description: None,
    }
}
