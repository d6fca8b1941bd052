//! The embedded cluster is created once and reused.

use std::os::unix::fs::PermissionsExt;

use store::Store;

use crate::{context, seed_tenant};

#[tokio::test]
async fn embedded_start_twice_reuses_cluster() {
    let dir = tempfile::Builder::new()
        .prefix("secruna-embedded-")
        .tempdir()
        .unwrap();
    // The server may run as the postgres OS user, which must reach the folder.
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let data_dir = dir.path().join("data");

    let first = store::embedded::start(&data_dir).await.unwrap();
    assert!(first.started_server());
    let store = Store::connect(&first.app_url).await.unwrap();
    let mut tx = store.begin(&context("acme")).await.unwrap();
    let created = store::tenants::ensure(&mut tx, "acme").await.unwrap();
    tx.commit().await.unwrap();
    assert!(created.created);

    let second = store::embedded::start(&data_dir).await.unwrap();
    assert!(!second.started_server());
    assert_eq!(second.app_url, first.app_url);
    second.stop().await.unwrap();
    store.close().await;
    first.stop().await.unwrap();

    let third = store::embedded::start(&data_dir).await.unwrap();
    assert!(third.started_server());
    let store = Store::connect(&third.app_url).await.unwrap();
    let mut tx = store.begin(&context("acme")).await.unwrap();
    let again = store::tenants::ensure(&mut tx, "acme").await.unwrap();
    tx.commit().await.unwrap();
    assert!(!again.created);
    assert_eq!(again.id, created.id);
    store.close().await;
    third.stop().await.unwrap();
}

#[tokio::test]
async fn embedded_long_data_dir_uses_private_socket_folder() {
    let dir = tempfile::Builder::new()
        .prefix("secruna-embedded-")
        .tempdir()
        .unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let data_dir = dir.path().join("d".repeat(100));

    let cluster = store::embedded::start(&data_dir).await.unwrap();
    assert!(
        cluster.app_url.contains("host=/tmp/secruna-pg-"),
        "{}",
        cluster.app_url
    );
    let store = Store::connect(&cluster.app_url).await.unwrap();
    let mut tx = store.begin(&context("acme")).await.unwrap();
    store::tenants::ensure(&mut tx, "acme").await.unwrap();
    tx.commit().await.unwrap();
    store.close().await;

    let socket_dir = cluster.app_url.split("host=").nth(1).unwrap().to_owned();
    let mode = std::fs::metadata(&socket_dir).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o700);
    cluster.stop().await.unwrap();
}

#[tokio::test]
async fn embedded_rejects_folder_server_cannot_reach() {
    if !running_as_root() {
        // Only root hands the cluster to another OS user.
        return;
    }
    let dir = tempfile::Builder::new()
        .prefix("secruna-private-")
        .tempdir()
        .unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o700)).unwrap();

    let error = store::embedded::start(&dir.path().join("data"))
        .await
        .unwrap_err();
    let message = error.to_string();
    assert!(
        message.contains("OS user that runs the server cannot write there"),
        "{message}"
    );
    assert!(message.contains("SECRUNA_DATA_DIR"), "{message}");
}

fn running_as_root() -> bool {
    use std::os::unix::fs::MetadataExt;

    std::fs::metadata("/proc/self").is_ok_and(|meta| meta.uid() == 0)
}

#[tokio::test]
async fn stopped_server_is_reported_unreachable() {
    let dir = tempfile::Builder::new()
        .prefix("secruna-embedded-")
        .tempdir()
        .unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let cluster = store::embedded::start(&dir.path().join("data"))
        .await
        .unwrap();
    let store = Store::connect(&cluster.app_url).await.unwrap();
    cluster.stop().await.unwrap();

    let started = std::time::Instant::now();
    let error = store.begin(&context("acme")).await.unwrap_err();
    let waited = started.elapsed();
    assert!(
        matches!(error, store::Error::DatabaseUnreachable { .. }),
        "{error:?}"
    );
    assert!(
        error.to_string().starts_with("database unreachable"),
        "{error}"
    );
    assert!(error.to_string().contains("run secruna again"), "{error}");
    assert!(waited <= store::ACQUIRE_TIMEOUT * 2, "{waited:?}");
    store.close().await;
}

#[tokio::test]
async fn killed_postmaster_is_reported_unreachable() {
    let dir = tempfile::Builder::new()
        .prefix("secruna-embedded-")
        .tempdir()
        .unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let cluster = store::embedded::start(&dir.path().join("data"))
        .await
        .unwrap();
    let store = Store::connect(&cluster.app_url).await.unwrap();
    let pid_file = std::fs::read_to_string(cluster.pgdata().join("postmaster.pid")).unwrap();
    let pid = pid_file.lines().next().unwrap().trim().to_owned();
    let killed = std::process::Command::new("kill")
        .args(["-KILL", &pid])
        .status()
        .unwrap();
    assert!(killed.success());

    // A pooled connection works until its backend notices that the
    // postmaster is gone, so retry until the first error.
    let mut error = None;
    for _ in 0..50 {
        let started = std::time::Instant::now();
        match store.begin(&context("acme")).await {
            Ok(tx) => drop(tx),
            Err(failure) => {
                let waited = started.elapsed();
                assert!(waited <= store::ACQUIRE_TIMEOUT * 2, "{waited:?}");
                error = Some(failure);
                break;
            }
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let error = error.expect("begin kept succeeding after the postmaster was killed");
    assert!(
        matches!(error, store::Error::DatabaseUnreachable { .. }),
        "{error:?}"
    );
    store.close().await;
}

/// Returns whether a postmaster runs on the data folder's cluster.
fn postmaster_running(cluster: &store::embedded::EmbeddedPostgres) -> bool {
    std::fs::metadata(cluster.pgdata().join("postmaster.pid")).is_ok()
}

#[tokio::test]
async fn last_client_stops_shared_server() {
    let dir = tempfile::Builder::new()
        .prefix("secruna-embedded-")
        .tempdir()
        .unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let data_dir = dir.path().join("data");
    let first = store::embedded::start(&data_dir).await.unwrap();
    let second = store::embedded::start(&data_dir).await.unwrap();
    assert!(first.started_server());
    assert!(!second.started_server());

    // The process that started the server finishes first.
    first.stop().await.unwrap();
    assert!(postmaster_running(&second));
    let store = Store::connect(&second.app_url).await.unwrap();
    let mut tx = store.begin(&context("acme")).await.unwrap();
    store::tenants::ensure(&mut tx, "acme").await.unwrap();
    tx.commit().await.unwrap();
    store.close().await;

    // The last client stops it, though another handle started it.
    second.stop().await.unwrap();
    assert!(!postmaster_running(&second));
    let error = Store::connect(&second.app_url).await.unwrap_err();
    assert!(
        matches!(error, store::Error::DatabaseUnreachable { .. }),
        "{error:?}"
    );

    // Stopping again is a no-op.
    second.stop().await.unwrap();
    first.stop().await.unwrap();
}

#[tokio::test]
async fn start_after_last_stop_restarts_server() {
    let dir = tempfile::Builder::new()
        .prefix("secruna-embedded-")
        .tempdir()
        .unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let data_dir = dir.path().join("data");
    let first = store::embedded::start(&data_dir).await.unwrap();
    first.stop().await.unwrap();
    assert!(!postmaster_running(&first));

    let second = store::embedded::start(&data_dir).await.unwrap();
    assert!(second.started_server());
    assert!(postmaster_running(&second));
    second.stop().await.unwrap();
    assert!(!postmaster_running(&second));
}

#[tokio::test]
async fn interrupted_scans_fail_only_for_sole_client() {
    let dir = tempfile::Builder::new()
        .prefix("secruna-embedded-")
        .tempdir()
        .unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let data_dir = dir.path().join("data");
    let first = store::embedded::start(&data_dir).await.unwrap();
    let second = store::embedded::start(&data_dir).await.unwrap();
    let store = Store::connect(&first.app_url).await.unwrap();
    let (scan_id, _) = seed_tenant(&store, "acme").await;
    let (other_scan_id, _) = seed_tenant(&store, "globex").await;

    // Another client may be running these scans.
    assert_eq!(first.fail_interrupted_scans().await.unwrap(), 0);
    assert_eq!(scan_status(&store, "acme", scan_id).await.status, "running");

    second.stop().await.unwrap();
    assert_eq!(first.fail_interrupted_scans().await.unwrap(), 2);
    for (tenant, id) in [("acme", scan_id), ("globex", other_scan_id)] {
        let scan = scan_status(&store, tenant, id).await;
        assert_eq!(scan.status, "failed", "tenant {tenant}");
        assert_eq!(
            scan.error.as_deref(),
            Some(store::embedded::INTERRUPTED_SCAN_ERROR),
            "tenant {tenant}"
        );
        assert!(scan.finished_at.is_some(), "tenant {tenant}");
    }
    assert_eq!(first.fail_interrupted_scans().await.unwrap(), 0);

    // The handle is still a client: a newcomer shares the running server.
    let third = store::embedded::start(&data_dir).await.unwrap();
    assert!(!third.started_server());
    assert_eq!(first.fail_interrupted_scans().await.unwrap(), 0);
    store.close().await;
    first.stop().await.unwrap();
    assert!(postmaster_running(&third));
    third.stop().await.unwrap();
    assert!(!postmaster_running(&third));
}

#[tokio::test]
async fn interrupted_scan_fails_its_pending_scopes() {
    let dir = tempfile::Builder::new()
        .prefix("secruna-embedded-")
        .tempdir()
        .unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let data_dir = dir.path().join("data");
    let embedded = store::embedded::start(&data_dir).await.unwrap();
    let store = Store::connect(&embedded.app_url).await.unwrap();
    let (scan_id, _) = seed_tenant(&store, "acme").await;
    let mut covered = store::scans::ScopeRecord::pending("code", "/src/a", "code");
    covered.status = "covered".to_owned();
    let pending = store::scans::ScopeRecord::pending("gh", "github:acme", "github");
    let mut tx = store.begin(&context("acme")).await.unwrap();
    store::scans::upsert_scopes(&mut tx, scan_id, &[covered, pending])
        .await
        .unwrap();
    tx.commit().await.unwrap();

    assert_eq!(embedded.fail_interrupted_scans().await.unwrap(), 1);

    let mut tx = store.begin(&context("acme")).await.unwrap();
    let scopes = store::scans::list_scopes(&mut tx, scan_id).await.unwrap();
    tx.rollback().await.unwrap();
    let statuses: Vec<(&str, &str)> = scopes
        .iter()
        .map(|scope| (scope.scope.as_str(), scope.status.as_str()))
        .collect();
    assert_eq!(
        statuses,
        vec![("/src/a", "covered"), ("github:acme", "failed")]
    );
    assert_eq!(
        scopes[1].error.as_deref(),
        Some(store::embedded::INTERRUPTED_SCAN_ERROR)
    );
    assert_eq!(scopes[0].error, None);
    store.close().await;
    embedded.stop().await.unwrap();
}

async fn scan_status(store: &Store, tenant: &str, id: uuid::Uuid) -> store::scans::ScanRow {
    let mut tx = store.begin(&context(tenant)).await.unwrap();
    let scan = store::scans::get(&mut tx, id).await.unwrap().unwrap();
    tx.rollback().await.unwrap();
    scan
}

#[tokio::test]
async fn client_in_other_process_keeps_server_running() {
    let dir = tempfile::Builder::new()
        .prefix("secruna-embedded-")
        .tempdir()
        .unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let data_dir = dir.path().join("data");
    let first = store::embedded::start(&data_dir).await.unwrap();

    // util-linux flock(1) acts as another secruna process: it holds a
    // shared lock on the clients file until `done` appears.
    let ready = dir.path().join("ready");
    let done = dir.path().join("done");
    let script = format!(
        "touch '{}'; while [ ! -e '{}' ]; do sleep 0.05; done",
        ready.display(),
        done.display()
    );
    let mut other = std::process::Command::new("flock")
        .args(["--shared", "--nonblock"])
        .arg(data_dir.join("clients.lock"))
        .args(["sh", "-c", &script])
        .spawn()
        .unwrap();
    assert!(wait_for(|| std::fs::metadata(&ready).is_ok()));

    assert_eq!(first.fail_interrupted_scans().await.unwrap(), 0);
    first.stop().await.unwrap();
    assert!(postmaster_running(&first));

    std::fs::write(&done, b"").unwrap();
    assert!(other.wait().unwrap().success());
    let last = store::embedded::start(&data_dir).await.unwrap();
    assert!(!last.started_server());
    last.stop().await.unwrap();
    assert!(!postmaster_running(&last));
}

/// Polls `condition` every 50 ms for up to 5 s.
fn wait_for(mut condition: impl FnMut() -> bool) -> bool {
    for _ in 0..100 {
        if condition() {
            return true;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    false
}
