//! The walk: skipped folders, .gitignore, size bound, odd files, symlink loops, project roots.

use std::sync::atomic::Ordering;

use agents::{Catalogue, CodeScanOptions, ScanError, ScanIssue, ScanProgress, scan_tree};

use crate::support::{Tree, row};

#[test]
fn vendored_folders_are_skipped() {
    let tree = Tree::new();
    tree.file("src/app.js", "import OpenAI from \"openai\";\n");
    tree.file(
        "node_modules/openai/index.js",
        "import OpenAI from \"openai\";\n",
    );
    tree.file(
        ".venv/lib/python3.12/site-packages/anthropic/__init__.py",
        "import anthropic\n",
    );
    tree.file("lib/site-packages/torch/__init__.py", "import torch\n");
    tree.file(
        "vendor/github.com/sashabaranov/go-openai/client.go",
        "package openai\nimport \"github.com/sashabaranov/go-openai\"\n",
    );
    let scan = tree.scan();
    scan.assert_rows(vec![row("src/app.js", 1, "import", "openai")]);
    assert_eq!(scan.report.files_seen, 1);
}

#[test]
fn skip_list_is_configurable() {
    let tree = Tree::new();
    tree.file("vendor/tool.py", "import openai\n");
    tree.file("generated/tool.py", "import anthropic\n");
    let options = CodeScanOptions {
        skip_dirs: vec!["generated".to_owned()],
        ..CodeScanOptions::default()
    };
    let scan = tree.scan_with(&options);
    scan.assert_rows(vec![row("vendor/tool.py", 1, "import", "openai")]);
}

#[test]
fn gitignore_applies_outside_a_git_repository() {
    let tree = Tree::new();
    tree.file(".gitignore", "build/\n*.generated.py\n");
    tree.file("build/out.py", "import openai\n");
    tree.file("api.generated.py", "import openai\n");
    tree.file("main.py", "import anthropic\n");
    let scan = tree.scan();
    scan.assert_rows(vec![row("main.py", 1, "import", "anthropic")]);
}

#[test]
fn empty_file_yields_nothing() {
    let tree = Tree::new();
    tree.file("empty.py", "");
    tree.file("package.json", "");
    let scan = tree.scan();
    scan.assert_rows(vec![]);
    assert!(scan.report.errors.is_empty(), "{:?}", scan.report.errors);
    assert_eq!(scan.report.files_scanned, 2);
}

#[test]
fn oversized_file_is_skipped_and_reported() {
    let tree = Tree::new();
    let mut big = "import openai\n".to_owned();
    big.push_str(&"x = 1\n".repeat(400));
    tree.file("big.py", big);
    tree.file("small.py", "import anthropic\n");
    let options = CodeScanOptions {
        max_file_size: 1024,
        ..CodeScanOptions::default()
    };
    let scan = tree.scan_with(&options);
    scan.assert_rows(vec![row("small.py", 1, "import", "anthropic")]);
    assert_eq!(scan.report.skipped_too_large, 1);
    assert_eq!(scan.report.files_seen, 2);
    assert_eq!(scan.report.files_scanned, 1);
    assert_eq!(
        scan.report.errors,
        vec![ScanIssue {
            path: "big.py".to_owned(),
            message: "file not scanned: its size of 2414 bytes exceeds the limit of 1024 bytes; \
                      raise the limit with --max-file-size BYTES"
                .to_owned(),
        }]
    );
}

#[test]
fn non_utf8_file_is_decoded_lossily() {
    let tree = Tree::new();
    tree.file("latin1.py", b"# caf\xe9 cr\xe8me\nimport openai\n");
    tree.file("after.py", "import anthropic\n");
    let scan = tree.scan();
    scan.assert_rows(vec![
        row("after.py", 1, "import", "anthropic"),
        row("latin1.py", 2, "import", "openai"),
    ]);
    assert!(scan.report.errors.is_empty(), "{:?}", scan.report.errors);
}

#[cfg(unix)]
#[test]
fn symlink_loop_does_not_trap_the_walk() {
    let tree = Tree::new();
    tree.file("a/b/model.py", "import torch\n");
    std::os::unix::fs::symlink("..", tree.path().join("a/b/up")).expect("create symlink");
    std::os::unix::fs::symlink(tree.path().join("a"), tree.path().join("a/b/again"))
        .expect("create symlink");
    std::os::unix::fs::symlink("model.py", tree.path().join("a/b/alias.py"))
        .expect("create symlink");
    let scan = tree.scan();
    scan.assert_rows(vec![row("a/b/model.py", 1, "import", "pytorch")]);
    assert_eq!(scan.report.files_seen, 1);
}

#[cfg(unix)]
#[test]
fn unreadable_file_is_a_scan_issue() {
    use std::os::unix::fs::PermissionsExt;

    let tree = Tree::new();
    tree.file("secret.py", "import openai\n");
    tree.file("open.py", "import anthropic\n");
    let locked = tree.path().join("secret.py");
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o000)).expect("chmod");
    if std::fs::read(&locked).is_ok() {
        // NOTE: a privileged user (root, CAP_DAC_OVERRIDE) reads the file anyway, so the
        // case cannot be produced; the readable half is still checked.
        let scan = tree.scan();
        assert_eq!(scan.findings.len(), 2);
        return;
    }
    let scan = tree.scan();
    scan.assert_rows(vec![row("open.py", 1, "import", "anthropic")]);
    assert_eq!(scan.report.errors.len(), 1);
    assert_eq!(scan.report.errors[0].path, "secret.py");
    assert!(
        scan.report.errors[0]
            .message
            .starts_with("cannot read file"),
        "{:?}",
        scan.report.errors
    );
}

#[test]
fn project_root_is_nearest_marked_folder() {
    let tree = Tree::new();
    tree.file("package.json", "{\"dependencies\": {}}");
    tree.file("services/api/requirements.txt", "flask\n");
    tree.file("services/api/src/handlers/chat.py", "import openai\n");
    tree.file("libs/util/helpers.py", "import anthropic\n");
    tree.file("tools/.git/HEAD", "ref: refs/heads/main\n");
    tree.file("tools/cli/run.py", "import cohere\n");
    tree.file("declared/secruna.yaml", "name: Declared\n");
    tree.file("declared/deep/x.py", "import mistralai\n");
    let scan = tree.scan();
    let roots: Vec<(&str, &str)> = scan
        .findings
        .iter()
        .filter(|finding| finding.kind.as_str() == "import")
        .map(|finding| (finding.path.as_str(), finding.project_root.as_str()))
        .collect();
    assert_eq!(
        roots,
        vec![
            ("declared/deep/x.py", "declared"),
            ("libs/util/helpers.py", "."),
            ("services/api/src/handlers/chat.py", "services/api"),
            ("tools/cli/run.py", "tools"),
        ]
    );
}

#[test]
fn progress_counters_match_the_report() {
    let tree = Tree::new();
    tree.file("a.py", "import openai\nimport anthropic\n");
    tree.file("b.txt", "nothing\n");
    tree.file("c.bin", "ignored\n");
    let progress = ScanProgress::default();
    let report = scan_tree(
        tree.path(),
        Catalogue::embedded(),
        &CodeScanOptions::default(),
        &progress,
        &|_| {},
    )
    .expect("scan succeeds");
    assert_eq!(report.files_seen, 3);
    assert_eq!(report.files_scanned, 2);
    assert_eq!(progress.files_seen.load(Ordering::Relaxed), 3);
    assert_eq!(progress.findings.load(Ordering::Relaxed), 2);
    assert_eq!(
        progress.bytes_read.load(Ordering::Relaxed),
        report.bytes_read
    );
    assert_eq!(report.bytes_read, 39);
}

#[test]
fn missing_root_is_an_error() {
    let tree = Tree::new();
    let missing = tree.path().join("nope");
    let error = scan_tree(
        &missing,
        Catalogue::embedded(),
        &CodeScanOptions::default(),
        &ScanProgress::default(),
        &|_| {},
    )
    .expect_err("missing root fails");
    assert!(matches!(error, ScanError::Root { .. }), "{error}");
}

#[test]
fn file_root_is_an_error() {
    let tree = Tree::new();
    tree.file("one.py", "import openai\n");
    let error = scan_tree(
        &tree.path().join("one.py"),
        Catalogue::embedded(),
        &CodeScanOptions::default(),
        &ScanProgress::default(),
        &|_| {},
    )
    .expect_err("file root fails");
    assert!(matches!(error, ScanError::NotADirectory(_)), "{error}");
}

#[test]
fn rescan_of_an_unchanged_tree_gives_identical_findings() {
    let tree = Tree::new();
    tree.file(
        "a.py",
        "import openai\nclient = openai.OpenAI()\nmodel = \"gpt-4o\"\n",
    );
    tree.file("b/package.json", "{\"dependencies\": {\"openai\": \"4\"}}");
    let first = tree.scan();
    let second = tree.scan();
    assert_eq!(first.findings, second.findings);
}

#[test]
fn shared_progress_keeps_reports_separate() {
    let tree = Tree::new();
    tree.file("a.py", "import openai\n");
    let progress = ScanProgress::default();
    let options = CodeScanOptions::default();
    for _ in 0..2 {
        let report = scan_tree(
            tree.path(),
            Catalogue::embedded(),
            &options,
            &progress,
            &|_| {},
        )
        .expect("scan succeeds");
        assert_eq!(report.files_seen, 1);
        assert_eq!(report.files_scanned, 1);
    }
    assert_eq!(progress.files_seen.load(Ordering::Relaxed), 2);
    assert_eq!(progress.findings.load(Ordering::Relaxed), 2);
}
