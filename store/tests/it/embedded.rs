//! The embedded cluster is created once and reused.

use std::os::unix::fs::PermissionsExt;

use store::Store;

use crate::context;

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

    let started = std::time::Instant::now();
    let error = store.begin(&context("acme")).await.unwrap_err();
    let waited = started.elapsed();
    assert!(
        matches!(error, store::Error::DatabaseUnreachable { .. }),
        "{error:?}"
    );
    assert!(waited <= store::ACQUIRE_TIMEOUT * 2, "{waited:?}");
    store.close().await;
}
