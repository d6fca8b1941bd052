//! Model artefacts: recognised by extension and magic bytes, with size and SHA-256.

use sha2::{Digest, Sha256};

use agents::CodeScanOptions;

use crate::support::{Tree, attribute, row_without_line};

fn safetensors_bytes() -> Vec<u8> {
    let header = br#"{"__metadata__":{}}"#;
    let mut bytes = (header.len() as u64).to_le_bytes().to_vec();
    bytes.extend_from_slice(header);
    bytes.extend_from_slice(&[0u8; 16]);
    bytes
}

fn tflite_bytes() -> Vec<u8> {
    let mut bytes = vec![0x1c, 0, 0, 0];
    bytes.extend_from_slice(b"TFL3");
    bytes.extend_from_slice(&[0u8; 24]);
    bytes
}

/// Writes one genuine file per format, and files with artefact names but other content.
fn artefact_tree() -> Tree {
    let tree = Tree::new();
    tree.file(
        "models/classifier.onnx",
        [
            0x08, 0x07, 0x12, 0x07, b'p', b'y', b't', b'o', b'r', b'c', b'h',
        ],
    );
    tree.file("models/weights.pt", b"PK\x03\x04archive/data.pkl");
    tree.file("models/legacy.pth", [0x80, 0x02, b'}', b'q', 0x00]);
    tree.file("models/model.safetensors", safetensors_bytes());
    tree.file("models/llm.gguf", b"GGUF\x03\x00\x00\x00rest");
    tree.file("models/net.h5", b"\x89HDF\r\n\x1a\n\x00\x00");
    tree.file("models/net.keras", b"PK\x03\x04config.json");
    tree.file("models/scaler.pkl", [0x80, 0x04, 0x95, 0x10, 0x00]);
    tree.file("models/forest.joblib", [0x78, 0x9c, 0x01, 0x02]);
    tree.file("models/mobile.tflite", tflite_bytes());
    tree.file("models/Vision.mlmodel", [0x08, 0x04, 0x12, 0x00]);
    tree.file("hf/pytorch_model.bin", b"PK\x03\x04archive");
    // Look-alikes: right extension, wrong content.
    tree.file("fake/notes.pkl", "these are my pickled-cucumber notes\n");
    tree.file("fake/readme.onnx", "see the wiki\n");
    tree.file("fake/empty.gguf", "");
    tree.file(
        "fake/broken.safetensors",
        b"\xff\xff\xff\xff\xff\xff\xff\xff{",
    );
    tree.file("fake/firmware.bin", b"PK\x03\x04");
    tree
}

#[test]
fn artefacts_need_extension_and_magic_bytes() {
    let tree = artefact_tree();
    let scan = tree.scan();
    scan.assert_rows(vec![
        row_without_line("hf/pytorch_model.bin", "artefact", "pytorch"),
        row_without_line("models/Vision.mlmodel", "artefact", "coreml"),
        row_without_line("models/classifier.onnx", "artefact", "onnx"),
        row_without_line("models/forest.joblib", "artefact", "joblib"),
        row_without_line("models/legacy.pth", "artefact", "pytorch"),
        row_without_line("models/llm.gguf", "artefact", "gguf"),
        row_without_line("models/mobile.tflite", "artefact", "tflite"),
        row_without_line("models/model.safetensors", "artefact", "safetensors"),
        row_without_line("models/net.h5", "artefact", "keras"),
        row_without_line("models/net.keras", "artefact", "keras"),
        row_without_line("models/scaler.pkl", "artefact", "pickle"),
        row_without_line("models/weights.pt", "artefact", "pytorch"),
    ]);
}

#[test]
fn artefact_carries_format_size_and_sha256() {
    let tree = artefact_tree();
    let scan = tree.scan();
    let gguf = scan.get("models/llm.gguf", "artefact", "gguf");
    let expected_hash = hex::encode(Sha256::digest(b"GGUF\x03\x00\x00\x00rest"));
    assert_eq!(attribute(gguf, "format"), "gguf");
    assert_eq!(attribute(gguf, "size_bytes"), "12");
    assert_eq!(attribute(gguf, "sha256"), expected_hash);
    assert_eq!(attribute(gguf, "category"), "artefact");
}

#[test]
fn oversized_artefact_is_still_hashed() {
    let tree = Tree::new();
    let mut bytes = b"GGUF".to_vec();
    bytes.resize(3 * 1024 * 1024 + 17, 0xab);
    tree.file("big/model.gguf", &bytes);
    let options = CodeScanOptions {
        max_file_size: 1024,
        ..CodeScanOptions::default()
    };
    let scan = tree.scan_with(&options);
    let gguf = scan.get("big/model.gguf", "artefact", "gguf");
    assert_eq!(attribute(gguf, "size_bytes"), bytes.len().to_string());
    assert_eq!(
        attribute(gguf, "sha256"),
        hex::encode(Sha256::digest(&bytes))
    );
    assert_eq!(scan.report.skipped_too_large, 0);
    assert!(scan.report.errors.is_empty(), "{:?}", scan.report.errors);
}

#[test]
fn artefact_hashing_can_be_turned_off() {
    let tree = artefact_tree();
    let options = CodeScanOptions {
        hash_artefacts: false,
        ..CodeScanOptions::default()
    };
    let scan = tree.scan_with(&options);
    let gguf = scan.get("models/llm.gguf", "artefact", "gguf");
    assert_eq!(attribute(gguf, "sha256"), "");
    assert_eq!(attribute(gguf, "size_bytes"), "12");
}
