//! Generates the list of rule-book files that `RuleBook::embedded()` compiles in.
//!
//! Every regular file under `v1/` is included with `include_bytes!`, keyed by its path relative
//! to `v1/` with `/` separators, in sorted order so the generated list is deterministic.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

fn main() -> io::Result<()> {
    let manifest_dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let root = manifest_dir.join("v1");
    println!("cargo:rerun-if-changed=v1");

    let mut files = Vec::new();
    collect_files(&root, &root, &mut files)?;
    files.sort();

    let mut generated = String::from("&[\n");
    for (relative, absolute) in &files {
        println!("cargo:rerun-if-changed={}", absolute.display());
        generated.push_str(&format!(
            "    ({relative:?}, include_bytes!({:?}).as_slice()),\n",
            absolute.display().to_string()
        ));
    }
    generated.push_str("]\n");

    let out_dir = PathBuf::from(std::env::var("OUT_DIR").expect("set by cargo"));
    fs::write(out_dir.join("embedded_files.rs"), generated)
}

/// Collects `(relative path, absolute path)` for every file below `dir`.
fn collect_files(root: &Path, dir: &Path, files: &mut Vec<(String, PathBuf)>) -> io::Result<()> {
    for entry in fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            println!("cargo:rerun-if-changed={}", path.display());
            collect_files(root, &path, files)?;
        } else {
            let relative = path.strip_prefix(root).expect("below root");
            let relative = relative
                .components()
                .map(|part| part.as_os_str().to_string_lossy().into_owned())
                .collect::<Vec<_>>()
                .join("/");
            files.push((relative, path));
        }
    }
    Ok(())
}
