//! Evidence packs built from fixed data: deterministic bytes and offline verification.

use std::io::{Read, Write};

use coordinator::evidence::{self, AuditHead, EvidenceData, EvidenceError};
use serde_json::json;

fn data() -> EvidenceData {
    EvidenceData {
        tenant: "acme/emea".to_owned(),
        framework: "eu-ai-act".to_owned(),
        framework_title: "EU AI Act".to_owned(),
        framework_version: "2024/1689".to_owned(),
        rule_book_version_hash: "ab".repeat(32),
        audit_chain_head: Some(AuditHead {
            seq: 7,
            row_hash: "cd".repeat(32),
        }),
        generated_at: "2026-12-04T10:00:00Z".to_owned(),
        generated_by: "token:test".to_owned(),
        inventory: json!([{ "name": "<CV ranker>", "root": "repo", "risk_class": "high", "findings": [] }]),
        evaluations: json!([{ "system_id": "s1", "rule_id": "art-9", "status": "fail", "reasons": ["no risk plan"] }]),
        audit_excerpt: json!([]),
    }
}

/// Copies the ZIP entry by entry, letting `change` edit or add entries.
fn rewrite(
    bytes: &[u8],
    change: impl Fn(&str, Vec<u8>) -> Vec<u8>,
    extra: Option<&str>,
) -> Vec<u8> {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for index in 0..archive.len() {
        let mut entry = archive.by_index(index).unwrap();
        let name = entry.name().unwrap().into_owned();
        let mut content = Vec::new();
        entry.read_to_end(&mut content).unwrap();
        writer
            .start_file(name.as_str(), zip::write::SimpleFileOptions::default())
            .unwrap();
        writer.write_all(&change(&name, content)).unwrap();
    }
    if let Some(name) = extra {
        writer
            .start_file(name, zip::write::SimpleFileOptions::default())
            .unwrap();
        writer.write_all(b"added later").unwrap();
    }
    writer.finish().unwrap().into_inner()
}

#[test]
fn pack_verifies_and_names_its_contents() {
    let pack = evidence::build(&data()).unwrap();

    let report = evidence::verify(&pack.bytes).unwrap();

    assert_eq!(report.num_files_checked, 4);
    assert_eq!(report.manifest.tenant, "acme/emea");
    assert_eq!(report.manifest.audit_chain_head.unwrap().seq, 7);
    let names: Vec<&str> = report
        .manifest
        .files
        .iter()
        .map(|file| file.name.as_str())
        .collect();
    assert_eq!(
        names,
        vec![
            "inventory.json",
            "evaluations.json",
            "audit-excerpt.json",
            "report.html"
        ]
    );
    assert_eq!(pack.file_name, "acme-emea-eu-ai-act-2026-12-04.zip");
    assert_eq!(pack.sha256, evidence::sha256_hex(&pack.bytes));
}

#[test]
fn same_data_gives_same_bytes() {
    let first = evidence::build(&data()).unwrap();
    let second = evidence::build(&data()).unwrap();

    assert_eq!(first.sha256, second.sha256);
}

#[test]
fn report_escapes_html() {
    let pack = evidence::build(&data()).unwrap();
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(pack.bytes)).unwrap();
    let mut html = String::new();
    archive
        .by_name("report.html")
        .unwrap()
        .read_to_string(&mut html)
        .unwrap();

    assert!(html.contains("&lt;CV ranker&gt;"));
    assert!(!html.contains("<CV ranker>"));
}

#[test]
fn changed_entry_fails_verification() {
    let pack = evidence::build(&data()).unwrap();
    let tampered = rewrite(
        &pack.bytes,
        |name, content| {
            if name == "evaluations.json" {
                b"[]\n".to_vec()
            } else {
                content
            }
        },
        None,
    );

    let error = evidence::verify(&tampered).unwrap_err();

    assert!(
        matches!(error, EvidenceError::HashMismatch { ref name, .. } if name == "evaluations.json"),
        "{error}"
    );
}

#[test]
fn unlisted_entry_fails_verification() {
    let pack = evidence::build(&data()).unwrap();
    let extended = rewrite(&pack.bytes, |_, content| content, Some("extra.txt"));

    let error = evidence::verify(&extended).unwrap_err();

    assert!(
        matches!(error, EvidenceError::Unlisted(ref name) if name == "extra.txt"),
        "{error}"
    );
}

#[test]
fn non_zip_input_is_rejected() {
    let error = evidence::verify(b"not a zip file").unwrap_err();

    assert!(matches!(error, EvidenceError::Zip(_)), "{error}");
}
