//! Builds fixture trees and runs scans on them.

use std::path::Path;
use std::sync::Mutex;

use agents::{Catalogue, CodeScanOptions, CodeScanReport, ScanProgress, scan_tree};
use proto::Finding;
use tempfile::TempDir;

/// A fixture tree in a temporary folder.
pub(crate) struct Tree {
    pub(crate) dir: TempDir,
}

impl Tree {
    pub(crate) fn new() -> Self {
        Tree {
            dir: tempfile::tempdir().expect("temporary folder"),
        }
    }

    pub(crate) fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Writes a file, creating its folders.
    pub(crate) fn file(&self, relative: &str, contents: impl AsRef<[u8]>) -> &Self {
        let path = self.dir.path().join(relative);
        std::fs::create_dir_all(path.parent().expect("file has a parent")).expect("create folders");
        std::fs::write(path, contents).expect("write fixture file");
        self
    }

    /// Scans with default options.
    pub(crate) fn scan(&self) -> Scan {
        self.scan_with(&CodeScanOptions::default())
    }

    pub(crate) fn scan_with(&self, options: &CodeScanOptions) -> Scan {
        let findings = Mutex::new(Vec::new());
        let progress = ScanProgress::default();
        let sink = |finding: Finding| findings.lock().expect("sink lock").push(finding);
        let report = scan_tree(
            self.path(),
            Catalogue::embedded(),
            options,
            &progress,
            &sink,
        )
        .expect("scan succeeds");
        let mut findings = findings.into_inner().expect("sink lock");
        findings.sort_by(|left, right| {
            (&left.path, left.line, left.kind, &left.subject).cmp(&(
                &right.path,
                right.line,
                right.kind,
                &right.subject,
            ))
        });
        Scan { findings, report }
    }
}

/// The findings and report of one scan, findings sorted by path, line, kind and subject.
pub(crate) struct Scan {
    pub(crate) findings: Vec<Finding>,
    pub(crate) report: CodeScanReport,
}

impl Scan {
    /// Returns `(path, line, kind, subject)` of every finding, sorted.
    pub(crate) fn rows(&self) -> Vec<Row> {
        let mut rows: Vec<Row> = self
            .findings
            .iter()
            .map(|finding| {
                (
                    finding.path.clone(),
                    finding.line,
                    finding.kind.to_string(),
                    finding.subject.clone(),
                )
            })
            .collect();
        rows.sort();
        rows
    }

    /// Asserts that the scan produced exactly these findings, in any order.
    #[track_caller]
    pub(crate) fn assert_rows(&self, mut expected: Vec<Row>) {
        expected.sort();
        assert_eq!(self.rows(), expected);
    }

    /// Returns the finding with this path, kind and subject.
    pub(crate) fn get(&self, path: &str, kind: &str, subject: &str) -> &Finding {
        self.findings
            .iter()
            .find(|finding| {
                finding.path == path && finding.kind.as_str() == kind && finding.subject == subject
            })
            .unwrap_or_else(|| panic!("no {kind} finding {subject} in {path}: {:#?}", self.rows()))
    }
}

/// `(path, line, kind, subject)` of one finding.
pub(crate) type Row = (String, Option<u32>, String, String);

/// Builds an expected row.
pub(crate) fn row(path: &str, line: u32, kind: &str, subject: &str) -> Row {
    (
        path.to_owned(),
        Some(line),
        kind.to_owned(),
        subject.to_owned(),
    )
}

/// Builds an expected row of a finding without a line.
pub(crate) fn row_without_line(path: &str, kind: &str, subject: &str) -> Row {
    (path.to_owned(), None, kind.to_owned(), subject.to_owned())
}

/// Returns the attribute of a finding, or an empty string.
pub(crate) fn attribute<'f>(finding: &'f Finding, name: &str) -> &'f str {
    finding.attributes.get(name).map_or("", String::as_str)
}
