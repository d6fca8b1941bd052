//! The lock files that coordinate processes sharing one embedded cluster.
//!
//! `embedded.lock` is the start-up lock: held exclusively while a process
//! starts or attaches to the cluster, and while one decides whether to stop
//! it. `clients.lock` is held shared by every live client for as long as it
//! uses the cluster. When a process that holds the start-up lock can take
//! `clients.lock` exclusively, no other client is left.

use std::fs::{File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};

use crate::EmbeddedError;

/// File locked exclusively during start-up and stop decisions.
const STARTUP_LOCK_FILE: &str = "embedded.lock";

/// File every client holds a shared lock on.
const CLIENTS_LOCK_FILE: &str = "clients.lock";

/// Takes the exclusive start-up lock, released when the file is dropped.
pub(crate) async fn lock_startup(data_dir: &Path) -> Result<File, EmbeddedError> {
    lock_blocking(data_dir.join(STARTUP_LOCK_FILE), File::lock).await
}

/// Takes a shared lock on the clients file, released when the file is
/// dropped. The caller holds the start-up lock.
pub(crate) async fn lock_client(data_dir: &Path) -> Result<File, EmbeddedError> {
    lock_blocking(data_dir.join(CLIENTS_LOCK_FILE), File::lock_shared).await
}

/// Turns this client's shared lock into an exclusive one if no other client
/// holds the file, and returns whether it did. Otherwise the shared lock is
/// taken again. The caller holds the start-up lock, so no other process can
/// hold the lock exclusively in between.
pub(crate) fn try_sole_client(client: &File, data_dir: &Path) -> Result<bool, EmbeddedError> {
    let io_error = |source| EmbeddedError::Io {
        action: "lock",
        path: data_dir.join(CLIENTS_LOCK_FILE),
        source,
    };
    client.unlock().map_err(io_error)?;
    match client.try_lock() {
        Ok(()) => Ok(true),
        Err(TryLockError::WouldBlock) => {
            client.lock_shared().map_err(io_error)?;
            Ok(false)
        }
        Err(TryLockError::Error(source)) => Err(io_error(source)),
    }
}

/// Turns an exclusive client lock taken by [`try_sole_client`] back into a
/// shared one.
pub(crate) fn share_again(client: &File, data_dir: &Path) -> Result<(), EmbeddedError> {
    client.lock_shared().map_err(|source| EmbeddedError::Io {
        action: "lock",
        path: data_dir.join(CLIENTS_LOCK_FILE),
        source,
    })
}

/// Opens `path` (creating it) and locks it on a blocking thread.
async fn lock_blocking(
    path: PathBuf,
    lock: fn(&File) -> std::io::Result<()>,
) -> Result<File, EmbeddedError> {
    let lock_path = path.clone();
    let locked = tokio::task::spawn_blocking(move || {
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)?;
        lock(&file)?;
        Ok::<_, std::io::Error>(file)
    })
    .await
    .map_err(|join_error| std::io::Error::other(join_error.to_string()))
    .and_then(|result| result);
    locked.map_err(|source| EmbeddedError::Io {
        action: "lock",
        path,
        source,
    })
}
