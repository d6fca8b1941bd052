//! Project roots: folders that hold a dependency manifest, a `.git` entry or a `secruna.yaml`.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Mutex;

use super::route::is_root_marker;

/// Finds the nearest enclosing project root of a file, caching the result per folder.
#[derive(Debug)]
pub(crate) struct ProjectRoots {
    scan_root: PathBuf,
    /// Whether a folder, relative to the scan root, is a project root.
    cache: Mutex<HashMap<String, bool>>,
}

impl ProjectRoots {
    pub(crate) fn new(scan_root: PathBuf) -> Self {
        ProjectRoots {
            scan_root,
            cache: Mutex::new(HashMap::new()),
        }
    }

    /// Returns the project root of a `/`-separated path relative to the scan root, itself
    /// relative, or `.` for the scan root.
    pub(crate) fn root_of(&self, relative_file: &str) -> String {
        let mut folder = parent(relative_file);
        while !folder.is_empty() {
            if self.is_root(folder) {
                return folder.to_owned();
            }
            folder = parent(folder);
        }
        ".".to_owned()
    }

    fn is_root(&self, folder: &str) -> bool {
        if let Some(known) = self.lock().get(folder) {
            return *known;
        }
        // NOTE: an unreadable folder counts as no root; its files were not readable either.
        let is_root = std::fs::read_dir(self.scan_root.join(folder)).is_ok_and(|entries| {
            entries
                .flatten()
                .any(|entry| entry.file_name().to_str().is_some_and(is_root_marker))
        });
        self.lock().insert(folder.to_owned(), is_root);
        is_root
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, bool>> {
        self.cache
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

fn parent(path: &str) -> &str {
    path.rsplit_once('/').map_or("", |(head, _)| head)
}
