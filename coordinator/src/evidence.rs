//! Evidence packs: one ZIP per tenant and framework that an auditor can check offline.
//!
//! The ZIP (deflate) contains `inventory.json` (the AI systems with their open findings),
//! `evaluations.json` (every verdict of the framework), `audit-excerpt.json` (the latest
//! audit rows), `report.html` (the same data for people) and `manifest.json`, which lists
//! every other file with its SHA-256 and size, the rule book version hash and the head of
//! the tenant's audit chain when the pack was built. [`verify`] recomputes the hashes.
//! Entries carry a fixed modification time, so the same data gives the same bytes.

mod collect;
mod report;

use std::io::{Cursor, Read, Write};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipArchive, ZipWriter};

pub use collect::{EvidenceData, collect};

/// Name of the manifest entry.
pub const MANIFEST_NAME: &str = "manifest.json";

/// Format identifier written in every manifest.
pub const PACK_FORMAT: &str = "secruna-evidence-pack/1";

/// Maximum audit rows in `audit-excerpt.json`: the latest ones.
pub const AUDIT_EXCERPT_ROWS: usize = 1000;

/// Maximum size of one entry that [`verify`] reads, in bytes, so a crafted pack cannot
/// exhaust memory.
pub const MAX_ENTRY_BYTES: u64 = 512 * 1024 * 1024;

/// One file listed in the manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestFile {
    /// Entry name inside the ZIP.
    pub name: String,
    /// SHA-256 of the entry's bytes, lower-case hex.
    pub sha256: String,
    /// Size of the entry in bytes.
    pub size_bytes: u64,
}

/// Head of the tenant's audit chain when the pack was built.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditHead {
    /// Position of the last row in the chain.
    pub seq: i64,
    /// Hash of that row, hex.
    pub row_hash: String,
}

/// Contents of `manifest.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// Always [`PACK_FORMAT`].
    pub format: String,
    /// Tenant slug path.
    pub tenant: String,
    /// Framework slug.
    pub framework: String,
    /// Framework title from the rule book.
    pub framework_title: String,
    /// Framework version from the rule book.
    pub framework_version: String,
    /// SHA-256 over the rule book files that produced the verdicts.
    pub rule_book_version_hash: String,
    /// Head of the tenant's audit chain; `None` when the chain is empty.
    pub audit_chain_head: Option<AuditHead>,
    /// Build time, RFC 3339.
    pub generated_at: String,
    /// Actor that requested the pack, e.g. `token:<id>`.
    pub generated_by: String,
    /// Every other entry of the ZIP.
    pub files: Vec<ManifestFile>,
}

/// A built evidence pack.
#[derive(Debug, Clone)]
pub struct EvidencePack {
    /// The ZIP bytes.
    pub bytes: Vec<u8>,
    /// SHA-256 of the ZIP, lower-case hex.
    pub sha256: String,
    /// Suggested file name, `<tenant>-<framework>-<date>.zip`.
    pub file_name: String,
}

/// Error while building or verifying an evidence pack.
#[derive(Debug, thiserror::Error)]
pub enum EvidenceError {
    /// Reading the tenant's data failed.
    #[error("reading the evidence failed: {0}")]
    Store(#[from] store::Error),
    /// The framework is not in the rule book.
    #[error("framework `{0}` is not in the rule book: use a slug the rule book lists")]
    UnknownFramework(String),
    /// The ZIP could not be written or read.
    #[error("the evidence pack is not a readable ZIP: {0}")]
    Zip(#[from] zip::result::ZipError),
    /// An entry could not be read.
    #[error("reading entry `{name}` failed: {source}")]
    Read {
        /// Entry name.
        name: String,
        /// Cause.
        source: std::io::Error,
    },
    /// The manifest is missing or invalid.
    #[error("manifest.json is invalid: {0}")]
    Manifest(String),
    /// An entry does not match its manifest hash.
    #[error(
        "entry `{name}` has SHA-256 {actual}, but the manifest lists {expected}: the pack was changed after it was built"
    )]
    HashMismatch {
        /// Entry name.
        name: String,
        /// Hash in the manifest.
        expected: String,
        /// Hash of the entry.
        actual: String,
    },
    /// A manifest entry is missing from the ZIP, or a ZIP entry is not in the manifest.
    #[error(
        "entry `{0}` is in the ZIP or the manifest but not in both: the pack was changed after it was built"
    )]
    Unlisted(String),
}

/// Result of a successful [`verify`].
#[derive(Debug, Clone, PartialEq)]
pub struct VerifyReport {
    /// The pack's manifest.
    pub manifest: Manifest,
    /// Entries whose hash was checked.
    pub num_files_checked: usize,
}

/// Writes the ZIP of `data`, with the manifest last.
pub fn build(data: &EvidenceData) -> Result<EvidencePack, EvidenceError> {
    let entries = [
        ("inventory.json", json_bytes(&data.inventory)),
        ("evaluations.json", json_bytes(&data.evaluations)),
        ("audit-excerpt.json", json_bytes(&data.audit_excerpt)),
        ("report.html", report::render(data).into_bytes()),
    ];
    let options = SimpleFileOptions::default()
        .compression_method(CompressionMethod::Deflated)
        .last_modified_time(zip::DateTime::default());

    let mut writer = ZipWriter::new(Cursor::new(Vec::new()));
    let mut files = Vec::with_capacity(entries.len());
    for (name, bytes) in &entries {
        writer.start_file(*name, options)?;
        writer
            .write_all(bytes)
            .map_err(|source| read_error(name, source))?;
        files.push(ManifestFile {
            name: (*name).to_owned(),
            sha256: sha256_hex(bytes),
            size_bytes: bytes.len() as u64,
        });
    }

    let manifest = Manifest {
        format: PACK_FORMAT.to_owned(),
        tenant: data.tenant.clone(),
        framework: data.framework.clone(),
        framework_title: data.framework_title.clone(),
        framework_version: data.framework_version.clone(),
        rule_book_version_hash: data.rule_book_version_hash.clone(),
        audit_chain_head: data.audit_chain_head.clone(),
        generated_at: data.generated_at.clone(),
        generated_by: data.generated_by.clone(),
        files,
    };
    writer.start_file(MANIFEST_NAME, options)?;
    writer
        .write_all(&json_bytes(&manifest))
        .map_err(|source| read_error(MANIFEST_NAME, source))?;
    let bytes = writer.finish()?.into_inner();

    let date = data.generated_at.get(..10).unwrap_or("undated");
    let file_name = format!(
        "{}-{}-{date}.zip",
        data.tenant.replace('/', "-"),
        data.framework
    );
    Ok(EvidencePack {
        sha256: sha256_hex(&bytes),
        bytes,
        file_name,
    })
}

/// Checks a pack offline: the manifest parses, every listed entry exists with the listed
/// SHA-256 and size, and no entry is left out of the manifest.
pub fn verify(zip_bytes: &[u8]) -> Result<VerifyReport, EvidenceError> {
    let mut archive = ZipArchive::new(Cursor::new(zip_bytes))?;
    let manifest_bytes = read_entry(&mut archive, MANIFEST_NAME)?;
    let manifest: Manifest = serde_json::from_slice(&manifest_bytes)
        .map_err(|error| EvidenceError::Manifest(error.to_string()))?;
    if manifest.format != PACK_FORMAT {
        return Err(EvidenceError::Manifest(format!(
            "format is `{}`, expected `{PACK_FORMAT}`",
            manifest.format
        )));
    }
    for file in &manifest.files {
        let bytes = read_entry(&mut archive, &file.name)?;
        let actual = sha256_hex(&bytes);
        if actual != file.sha256 || bytes.len() as u64 != file.size_bytes {
            return Err(EvidenceError::HashMismatch {
                name: file.name.clone(),
                expected: file.sha256.clone(),
                actual,
            });
        }
    }
    let names: Vec<String> = archive
        .file_names()
        .map(|name| name.map(|name| name.into_owned()))
        .collect::<Result<_, _>>()?;
    for name in names {
        let listed = name == MANIFEST_NAME || manifest.files.iter().any(|file| file.name == name);
        if !listed {
            return Err(EvidenceError::Unlisted(name));
        }
    }
    Ok(VerifyReport {
        num_files_checked: manifest.files.len(),
        manifest,
    })
}

/// Reads one entry, bounded by [`MAX_ENTRY_BYTES`].
fn read_entry(
    archive: &mut ZipArchive<Cursor<&[u8]>>,
    name: &str,
) -> Result<Vec<u8>, EvidenceError> {
    let entry = archive.by_name(name).map_err(|error| match error {
        zip::result::ZipError::FileNotFound => EvidenceError::Unlisted(name.to_owned()),
        other => EvidenceError::Zip(other),
    })?;
    let mut bytes = Vec::new();
    entry
        .take(MAX_ENTRY_BYTES)
        .read_to_end(&mut bytes)
        .map_err(|source| read_error(name, source))?;
    Ok(bytes)
}

fn read_error(name: &str, source: std::io::Error) -> EvidenceError {
    EvidenceError::Read {
        name: name.to_owned(),
        source,
    }
}

/// Serialises a value as pretty JSON with a trailing newline.
fn json_bytes<T: Serialize>(value: &T) -> Vec<u8> {
    let mut bytes = serde_json::to_vec_pretty(value).unwrap_or_default();
    bytes.push(b'\n');
    bytes
}

/// Returns the SHA-256 of `bytes` in lower-case hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}
