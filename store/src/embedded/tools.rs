//! Locating the PostgreSQL server binaries and running them, as the
//! `postgres` OS user when this process runs as root (initdb and postgres
//! refuse to run as root).

use std::ffi::OsStr;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::Output;

use tokio::process::Command;

use crate::EmbeddedError;

/// Environment variable naming the folder with initdb and pg_ctl.
pub const PG_BIN_ENV: &str = "SECRUNA_PG_BIN";

/// OS account the server runs as when this process is root.
const SERVICE_ACCOUNT: &str = "postgres";

/// An OS account other than the current one.
#[derive(Debug, Clone)]
pub(crate) struct OsUser {
    pub(crate) name: String,
    pub(crate) uid: u32,
    pub(crate) gid: u32,
}

/// The server binaries and the account to run them as.
#[derive(Debug, Clone)]
pub(crate) struct PgTools {
    bin_dir: PathBuf,
    /// `Some` when running as root: tools run through `runuser -u NAME`.
    pub(crate) run_as: Option<OsUser>,
}

impl PgTools {
    /// Finds the binaries and decides which account runs them.
    pub(crate) async fn locate() -> Result<PgTools, EmbeddedError> {
        let bin_dir = find_bin_dir()
            .await
            .ok_or(EmbeddedError::BinariesNotFound)?;
        let run_as = if running_as_root() {
            Some(service_account().await?)
        } else {
            None
        };
        Ok(PgTools { bin_dir, run_as })
    }

    /// Runs `tool` (initdb, pg_ctl, ...) with `args` and returns its output,
    /// whatever the exit status.
    pub(crate) async fn output<I, S>(&self, tool: &str, args: I) -> Result<Output, EmbeddedError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let program = self.bin_dir.join(tool);
        let mut command = match &self.run_as {
            Some(user) => {
                let mut command = Command::new("runuser");
                command.arg("-u").arg(&user.name).arg("--").arg(&program);
                command
            }
            None => Command::new(&program),
        };
        command.args(args).current_dir("/").kill_on_drop(true);
        command.output().await.map_err(|source| EmbeddedError::Io {
            action: "run",
            path: program,
            source,
        })
    }

    /// Runs `tool` and fails unless it exits successfully.
    pub(crate) async fn run<I, S>(&self, tool: &str, args: I) -> Result<Output, EmbeddedError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let args: Vec<_> = args
            .into_iter()
            .map(|arg| arg.as_ref().to_owned())
            .collect();
        let output = self.output(tool, &args).await?;
        if output.status.success() {
            return Ok(output);
        }
        let command = std::iter::once(tool.to_owned())
            .chain(args.iter().map(|arg| arg.to_string_lossy().into_owned()))
            .collect::<Vec<_>>()
            .join(" ");
        Err(EmbeddedError::Command {
            command,
            status: output.status.to_string(),
            output: describe_output(&output),
        })
    }

    /// Gives a folder to the account that runs the server, mode 0700.
    pub(crate) fn hand_over(&self, path: &Path) -> Result<(), EmbeddedError> {
        use std::os::unix::fs::PermissionsExt;

        let io_error = |action, source| EmbeddedError::Io {
            action,
            path: path.to_owned(),
            source,
        };
        if let Some(user) = &self.run_as {
            std::os::unix::fs::chown(path, Some(user.uid), Some(user.gid))
                .map_err(|source| io_error("change owner of", source))?;
        }
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o700))
            .map_err(|source| io_error("set permissions of", source))
    }

    /// Checks that the server's account can write to `path`; as root, a
    /// folder below a private parent such as /root is out of its reach.
    pub(crate) async fn check_writable(&self, path: &Path) -> Result<(), EmbeddedError> {
        let Some(user) = &self.run_as else {
            return Ok(());
        };
        let status = Command::new("runuser")
            .arg("-u")
            .arg(&user.name)
            .arg("--")
            .arg("test")
            .arg("-w")
            .arg(path)
            .current_dir("/")
            .status()
            .await
            .map_err(|source| EmbeddedError::Io {
                action: "run runuser for",
                path: path.to_owned(),
                source,
            })?;
        if status.success() {
            return Ok(());
        }
        Err(EmbeddedError::DataDir {
            path: path.to_owned(),
            reason: format!(
                "the `{}` OS user that runs the server cannot write there, usually because a \
                 parent folder is private; set {} to a folder it can reach, such as {}",
                user.name,
                super::DATA_DIR_ENV,
                super::ROOT_DATA_DIR
            ),
        })
    }

    /// Returns the uid that must own the server's folders.
    pub(crate) fn server_uid(&self) -> Result<u32, EmbeddedError> {
        match &self.run_as {
            Some(user) => Ok(user.uid),
            None => current_uid(),
        }
    }
}

/// Joins stderr and stdout of a finished tool, trimmed for an error message.
pub(crate) fn describe_output(output: &Output) -> String {
    let stderr = String::from_utf8_lossy(&output.stderr);
    let stdout = String::from_utf8_lossy(&output.stdout);
    format!("{} {}", stderr.trim(), stdout.trim())
        .trim()
        .to_owned()
}

/// Looks for initdb in SECRUNA_PG_BIN, `pg_config --bindir`, the newest
/// /usr/lib/postgresql/*/bin, then PATH.
async fn find_bin_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os(PG_BIN_ENV) {
        return has_initdb(Path::new(&dir)).then(|| PathBuf::from(dir));
    }
    if let Some(dir) = pg_config_bindir().await.filter(|dir| has_initdb(dir)) {
        return Some(dir);
    }
    if let Some(dir) = newest_debian_bin_dir() {
        return Some(dir);
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).find(|dir| has_initdb(dir))
}

async fn pg_config_bindir() -> Option<PathBuf> {
    let output = Command::new("pg_config")
        .arg("--bindir")
        .output()
        .await
        .ok()?;
    if !output.status.success() {
        return None;
    }
    let dir = String::from_utf8(output.stdout).ok()?;
    Some(PathBuf::from(dir.trim()))
}

/// Picks the highest major version under /usr/lib/postgresql, Debian's layout.
fn newest_debian_bin_dir() -> Option<PathBuf> {
    let entries = std::fs::read_dir("/usr/lib/postgresql").ok()?;
    entries
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let major: u32 = entry.file_name().to_str()?.parse().ok()?;
            let bin = entry.path().join("bin");
            has_initdb(&bin).then_some((major, bin))
        })
        .max_by_key(|(major, _)| *major)
        .map(|(_, bin)| bin)
}

fn has_initdb(dir: &Path) -> bool {
    std::fs::metadata(dir.join("initdb")).is_ok_and(|meta| meta.is_file())
}

/// Tells whether this process runs as root.
pub(crate) fn running_as_root() -> bool {
    current_uid().is_ok_and(|uid| uid == 0)
}

/// Reads the effective uid from the owner of /proc/self, avoiding unsafe FFI.
pub(crate) fn current_uid() -> Result<u32, EmbeddedError> {
    std::fs::metadata("/proc/self")
        .map(|meta| meta.uid())
        .map_err(|source| EmbeddedError::Io {
            action: "read",
            path: PathBuf::from("/proc/self"),
            source,
        })
}

async fn service_account() -> Result<OsUser, EmbeddedError> {
    let missing = |reason: String| EmbeddedError::DataDir {
        path: PathBuf::from("/"),
        reason: format!(
            "running as root, the server must run as the `{SERVICE_ACCOUNT}` OS user, but {reason}; \
             run `apt-get install postgresql` (which creates it) or run secruna as an unprivileged user"
        ),
    };
    let uid = id_of(&["-u", SERVICE_ACCOUNT]).await.map_err(&missing)?;
    let gid = id_of(&["-g", SERVICE_ACCOUNT]).await.map_err(&missing)?;
    Ok(OsUser {
        name: SERVICE_ACCOUNT.to_owned(),
        uid,
        gid,
    })
}

async fn id_of(args: &[&str]) -> Result<u32, String> {
    let output = Command::new("id")
        .args(args)
        .output()
        .await
        .map_err(|error| format!("`id` failed: {error}"))?;
    if !output.status.success() {
        return Err(format!(
            "`id {}` failed: {}",
            args.join(" "),
            describe_output(&output)
        ));
    }
    String::from_utf8_lossy(&output.stdout)
        .trim()
        .parse()
        .map_err(|error| format!("`id {}` printed no number: {error}", args.join(" ")))
}
