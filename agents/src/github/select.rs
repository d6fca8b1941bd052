//! Chooses the files of a repository tree that the code detectors read, so that only those
//! blobs are downloaded. The choice comes from the code connector's own routing, so a file
//! type the detectors learn to read is downloaded too.

use crate::catalogue::Catalogue;
use crate::code::{self, DetectorInput};

/// Reason a tree entry is downloaded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Wanted {
    /// A text file some detector reads, bounded by the maximum file size.
    Text,
    /// A model artefact, checked by magic bytes and hashed; also bounded by the maximum
    /// file size, because the blob API returns whole files.
    Artefact,
}

/// Returns whether and why the file at `path` (`/`-separated, relative to the repository
/// root) is downloaded.
pub(crate) fn wanted(path: &str, catalogue: &Catalogue) -> Option<Wanted> {
    match code::detector_input(path, catalogue)? {
        DetectorInput::Text => Some(Wanted::Text),
        DetectorInput::Artefact => Some(Wanted::Artefact),
    }
}

/// Tells whether a file of this name makes its folder a project root, so that a manifest
/// too large to download still marks its root.
pub(crate) fn is_root_marker(name: &str) -> bool {
    code::is_root_marker(name)
}

/// Tells whether any folder of `path` has a name in `skip_dirs`.
pub(crate) fn in_skipped_folder(path: &str, skip_dirs: &[String]) -> bool {
    let mut folders = path.split('/').rev().skip(1);
    folders.any(|folder| skip_dirs.iter().any(|skipped| skipped == folder))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detector_inputs_are_wanted() {
        let catalogue = Catalogue::embedded();
        let cases = [
            ("requirements.txt", Some(Wanted::Text)),
            ("services/api/requirements-dev.in", Some(Wanted::Text)),
            ("src/app.py", Some(Wanted::Text)),
            ("web/src/chat.tsx", Some(Wanted::Text)),
            ("deploy/Dockerfile.gpu", Some(Wanted::Text)),
            (".github/workflows/review.yml", Some(Wanted::Text)),
            (".env.local", Some(Wanted::Text)),
            ("models/classifier.onnx", Some(Wanted::Artefact)),
            ("weights/pytorch_model.bin", Some(Wanted::Artefact)),
            ("package-lock.json", None),
            ("static/app.min.js", None),
            ("docs/logo.png", None),
            ("data/blob.bin", None),
            ("LICENSE", None),
        ];
        for (path, expected) in cases {
            assert_eq!(wanted(path, catalogue), expected, "{path}");
        }
    }

    #[test]
    fn skipped_folders_match_whole_names() {
        let skip = vec!["node_modules".to_owned(), "vendor".to_owned()];
        assert!(in_skipped_folder(
            "web/node_modules/openai/package.json",
            &skip
        ));
        assert!(!in_skipped_folder("vendors/package.json", &skip));
        assert!(!in_skipped_folder("vendor", &skip));
    }
}
