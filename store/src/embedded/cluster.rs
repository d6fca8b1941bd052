//! Creating, starting and stopping a private cluster that listens only on a
//! Unix socket in a folder readable by the server's account alone.

use std::ffi::OsStr;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use tracing::info;

use super::tools::{PgTools, describe_output};
use crate::EmbeddedError;

/// Name of the cluster's bootstrap superuser.
pub(crate) const SUPERUSER: &str = "postgres";

/// Longest Unix socket path Linux accepts (`sun_path` is 108 bytes with the
/// trailing NUL).
const MAX_SOCKET_PATH: usize = 107;

/// File name of the socket for the default port.
const SOCKET_FILE: &str = ".s.PGSQL.5432";

/// Whether the cluster syncs writes to disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Durability {
    /// fsync on, for data the user keeps.
    Durable,
    /// fsync off, for throwaway test databases.
    Throwaway,
}

/// A running cluster.
#[derive(Debug)]
pub(crate) struct Cluster {
    tools: PgTools,
    pgdata: PathBuf,
    socket_dir: PathBuf,
    started_here: bool,
}

impl Cluster {
    /// Creates the cluster under `data_dir/postgres` if missing and starts it
    /// unless a postmaster already runs on it. The caller holds the data
    /// folder's lock.
    pub(crate) async fn ensure_running(
        data_dir: &Path,
        durability: Durability,
    ) -> Result<Cluster, EmbeddedError> {
        let tools = PgTools::locate().await?;
        let pgdata = data_dir.join("postgres");
        init_if_missing(&tools, &pgdata, durability).await?;
        let socket_dir = socket_dir_for(data_dir);
        prepare_socket_dir(&tools, &socket_dir)?;

        let mut cluster = Cluster {
            tools,
            pgdata,
            socket_dir,
            started_here: false,
        };
        if !cluster.is_running().await? {
            cluster.start(durability).await?;
            cluster.started_here = true;
        }
        Ok(cluster)
    }

    /// Returns a connection URL over the cluster's Unix socket.
    pub(crate) fn url(&self, user: &str, database: &str) -> String {
        let socket_dir = encode_url_component(&self.socket_dir.to_string_lossy());
        format!("postgres://{user}@localhost/{database}?host={socket_dir}")
    }

    /// Tells whether this process started the postmaster.
    pub(crate) fn started_here(&self) -> bool {
        self.started_here
    }

    /// Returns the cluster's data folder (PGDATA).
    pub(crate) fn pgdata(&self) -> &Path {
        &self.pgdata
    }

    /// Stops the postmaster with `pg_ctl stop -m fast`.
    pub(crate) async fn stop(&self) -> Result<(), EmbeddedError> {
        let args: [&OsStr; 6] = [
            "-D".as_ref(),
            self.pgdata.as_os_str(),
            "-m".as_ref(),
            "fast".as_ref(),
            "-w".as_ref(),
            "stop".as_ref(),
        ];
        self.tools.run("pg_ctl", args).await?;
        info!(pgdata = %self.pgdata.display(), "embedded postgres stopped");
        Ok(())
    }

    /// Tells whether a postmaster runs on the cluster (`pg_ctl status`).
    pub(crate) async fn is_running(&self) -> Result<bool, EmbeddedError> {
        let output = self
            .tools
            .output::<_, &OsStr>(
                "pg_ctl",
                ["-D".as_ref(), self.pgdata.as_os_str(), "status".as_ref()],
            )
            .await?;
        Ok(output.status.success())
    }

    async fn start(&self, durability: Durability) -> Result<(), EmbeddedError> {
        let log_file = self.pgdata.join("server.log");
        let options = server_options(&self.socket_dir, durability);
        let output = self
            .tools
            .output::<_, &OsStr>(
                "pg_ctl",
                [
                    "-D".as_ref(),
                    self.pgdata.as_os_str(),
                    "-l".as_ref(),
                    log_file.as_os_str(),
                    "-w".as_ref(),
                    "-t".as_ref(),
                    "60".as_ref(),
                    "-o".as_ref(),
                    options.as_ref(),
                    "start".as_ref(),
                ],
            )
            .await?;
        if !output.status.success() {
            return Err(EmbeddedError::Command {
                command: format!("pg_ctl -D {} start", self.pgdata.display()),
                status: output.status.to_string(),
                output: format!(
                    "{}; server log: {}",
                    describe_output(&output),
                    log_tail(&log_file)
                ),
            });
        }
        info!(pgdata = %self.pgdata.display(), socket_dir = %self.socket_dir.display(), "embedded postgres started");
        Ok(())
    }
}

/// Returns the last lines of the server log, where postgres explains why it
/// did not start.
fn log_tail(log_file: &Path) -> String {
    const LINES: usize = 5;
    match std::fs::read_to_string(log_file) {
        Ok(text) => {
            let lines: Vec<&str> = text.lines().collect();
            lines[lines.len().saturating_sub(LINES)..].join(" | ")
        }
        Err(error) => format!("unreadable ({error})"),
    }
}

/// Runs initdb unless `pgdata` already contains a cluster.
async fn init_if_missing(
    tools: &PgTools,
    pgdata: &Path,
    durability: Durability,
) -> Result<(), EmbeddedError> {
    if std::fs::metadata(pgdata.join("PG_VERSION")).is_ok() {
        return Ok(());
    }
    std::fs::create_dir_all(pgdata).map_err(|source| EmbeddedError::Io {
        action: "create folder",
        path: pgdata.to_owned(),
        source,
    })?;
    tools.hand_over(pgdata)?;
    tools.check_writable(pgdata).await?;

    let username = format!("--username={SUPERUSER}");
    let mut args: Vec<&OsStr> = vec![
        "-D".as_ref(),
        pgdata.as_os_str(),
        username.as_ref(),
        "--auth=trust".as_ref(),
        "--encoding=UTF8".as_ref(),
        "--locale=C".as_ref(),
    ];
    if durability == Durability::Throwaway {
        args.push("--no-sync".as_ref());
    }
    let output = tools.output("initdb", &args).await?;
    if !output.status.success() {
        return Err(EmbeddedError::DataDir {
            path: pgdata.to_owned(),
            reason: format!(
                "initdb failed: {}; check that the server's OS account can write there, or set \
                 SECRUNA_DATA_DIR to another folder",
                describe_output(&output)
            ),
        });
    }
    info!(pgdata = %pgdata.display(), "embedded postgres cluster created");
    Ok(())
}

/// Picks the socket folder: `data_dir/run` when the socket path fits the
/// Unix limit, otherwise a short folder under /tmp named by a hash of the
/// data folder, so later runs find the same one.
fn socket_dir_for(data_dir: &Path) -> PathBuf {
    let in_data_dir = data_dir.join("run");
    if in_data_dir.as_os_str().len() + 1 + SOCKET_FILE.len() <= MAX_SOCKET_PATH {
        return in_data_dir;
    }
    let digest = Sha256::digest(data_dir.as_os_str().as_encoded_bytes());
    PathBuf::from(format!("/tmp/secruna-pg-{}", hex::encode(&digest[..8])))
}

/// Creates the socket folder with mode 0700 for the server's account, or
/// checks that an existing one belongs to that account and is private.
fn prepare_socket_dir(tools: &PgTools, socket_dir: &Path) -> Result<(), EmbeddedError> {
    match std::fs::create_dir(socket_dir) {
        Ok(()) => return tools.hand_over(socket_dir),
        Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(source) => {
            return Err(EmbeddedError::Io {
                action: "create folder",
                path: socket_dir.to_owned(),
                source,
            });
        }
    }
    let meta = std::fs::symlink_metadata(socket_dir).map_err(|source| EmbeddedError::Io {
        action: "read",
        path: socket_dir.to_owned(),
        source,
    })?;
    let private = meta.is_dir() && meta.permissions().mode() & 0o077 == 0;
    if meta.uid() != tools.server_uid()? || !private {
        return Err(EmbeddedError::DataDir {
            path: socket_dir.to_owned(),
            reason: "the socket folder is not a private folder of the server's OS account \
                     (expected owner-only mode 0700); remove it and start again"
                .to_owned(),
        });
    }
    Ok(())
}

/// Builds the postgres options for `pg_ctl -o`. pg_ctl hands them to
/// /bin/sh, so the socket path is single-quoted.
fn server_options(socket_dir: &Path, durability: Durability) -> String {
    let quoted_dir = socket_dir.to_string_lossy().replace('\'', r"'\''");
    let mut options = format!(
        "-c listen_addresses= -c 'unix_socket_directories={quoted_dir}' -c unix_socket_permissions=0700 -c random_page_cost=1.1"
    );
    match durability {
        Durability::Durable => options.push_str(" -c fsync=on"),
        Durability::Throwaway => {
            options.push_str(" -c fsync=off -c synchronous_commit=off -c full_page_writes=off");
        }
    }
    options
}

/// Percent-encodes a URL query value, keeping path characters readable.
fn encode_url_component(value: &str) -> String {
    let mut encoded = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || b"/-_.~".contains(&byte) {
            encoded.push(char::from(byte));
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    encoded
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_data_dir_gets_socket_under_tmp() {
        let short = socket_dir_for(Path::new("/var/lib/secruna"));
        assert_eq!(short, Path::new("/var/lib/secruna/run"));
        let long_dir = PathBuf::from(format!("/{}", "x".repeat(100)));
        let long = socket_dir_for(&long_dir);
        assert!(long.to_string_lossy().starts_with("/tmp/secruna-pg-"));
        assert_eq!(long, socket_dir_for(&long_dir));
    }

    #[test]
    fn url_encodes_socket_folder() {
        assert_eq!(encode_url_component("/a b/c"), "/a%20b/c");
    }
}
