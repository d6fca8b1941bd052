//! Who may call what: tokens, roles, tenants, rate limits, and the open health and
//! reflection services.

use std::num::NonZeroU32;
use std::time::Duration;

use proto::v1;
use tonic::Code;

use crate::support::{
    Options, Server, batch, context, finding, ingest_client, inventory_client, scans_client,
    send_all,
};

async fn list_systems_code(server: &Server, token: &str) -> Code {
    let mut client = inventory_client(server, token).await;
    match client.list_systems(v1::ListSystemsRequest::default()).await {
        Ok(_) => Code::Ok,
        Err(status) => status.code(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_expired_and_revoked_tokens_are_unauthenticated() {
    let server = Server::start().await;
    let valid = server.token("acme", "read").await;
    let expired = server
        .token_expiring(
            "acme",
            "read",
            Some(chrono::Utc::now() - chrono::Duration::hours(1)),
        )
        .await;
    let (revoked, revoked_id) = server.token_with_id("acme", "read", None).await;
    let mut tx = server.db.store.begin(&context("acme")).await.unwrap();
    store::api_tokens::revoke(&mut tx, revoked_id)
        .await
        .unwrap();
    tx.commit().await.unwrap();

    assert_eq!(list_systems_code(&server, &valid).await, Code::Ok);
    assert_eq!(
        list_systems_code(&server, "sec_not_a_token").await,
        Code::Unauthenticated
    );
    assert_eq!(
        list_systems_code(&server, &expired).await,
        Code::Unauthenticated
    );
    assert_eq!(
        list_systems_code(&server, &revoked).await,
        Code::Unauthenticated
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_authorization_names_the_metadata() {
    let server = Server::start().await;
    let mut client = v1::inventory_client::InventoryClient::new(server.channel().await);

    let status = client
        .list_systems(v1::ListSystemsRequest::default())
        .await
        .unwrap_err();

    assert_eq!(status.code(), Code::Unauthenticated);
    assert!(
        status.message().contains("`authorization`"),
        "{}",
        status.message()
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_token_cannot_ingest_start_or_cancel() {
    let server = Server::start().await;
    let token = server.token("acme", "read").await;

    let mut ingest = ingest_client(&server, &token).await;
    let ingest_status = ingest
        .stream_findings(tokio_stream::iter(vec![batch(
            1,
            vec![finding("r", ".", "openai")],
        )]))
        .await
        .unwrap_err();
    let mut scans = scans_client(&server, &token).await;
    let start_status = scans
        .start_scan(v1::StartScanRequest {
            targets: vec![".".to_owned()],
            frameworks: Vec::new(),
        })
        .await
        .unwrap_err();
    let cancel_status = scans
        .cancel_scan(v1::CancelScanRequest {
            scan_id: uuid::Uuid::new_v4().to_string(),
        })
        .await
        .unwrap_err();

    assert_eq!(ingest_status.code(), Code::PermissionDenied);
    assert_eq!(start_status.code(), Code::PermissionDenied);
    assert_eq!(cancel_status.code(), Code::PermissionDenied);
    assert_eq!(server.count("SELECT count(*) FROM findings").await, 0);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn other_tenants_ids_are_not_found() {
    let server = Server::start().await;
    let acme = server.token("acme", "write").await;
    let globex = server.token("globex", "write").await;
    let mut client = ingest_client(&server, &globex).await;
    send_all(
        &mut client,
        vec![batch(1, vec![finding("globex-repo", ".", "openai")])],
    )
    .await;
    let globex_system = server
        .query_strings("SELECT id::text FROM ai_systems")
        .await;
    let globex_scan = server.query_strings("SELECT id::text FROM scans").await;

    let mut inventory = inventory_client(&server, &acme).await;
    let listed = inventory
        .list_systems(v1::ListSystemsRequest::default())
        .await
        .unwrap()
        .into_inner();
    let system_status = inventory
        .get_system(v1::GetSystemRequest {
            system_id: globex_system[0].clone(),
        })
        .await
        .unwrap_err();
    let mut scans = scans_client(&server, &acme).await;
    let scan_status = scans
        .get_scan(v1::GetScanRequest {
            scan_id: globex_scan[0].clone(),
        })
        .await
        .unwrap_err();
    let watch_status = scans
        .watch_scan(v1::WatchScanRequest {
            scan_id: globex_scan[0].clone(),
        })
        .await
        .unwrap_err();

    assert!(listed.systems.is_empty());
    assert_eq!(system_status.code(), Code::NotFound);
    assert!(!system_status.message().contains("openai"));
    assert_eq!(scan_status.code(), Code::NotFound);
    assert_eq!(watch_status.code(), Code::NotFound);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tenant_over_its_rate_gets_resource_exhausted() {
    let mut options = Options::default();
    options.grpc.rate_per_second = NonZeroU32::new(1).unwrap();
    options.grpc.rate_burst = NonZeroU32::new(3).unwrap();
    let server = Server::start_with(options).await;
    let acme = server.token("acme", "read").await;
    let globex = server.token("globex", "read").await;

    let mut codes = Vec::new();
    for _ in 0..4 {
        codes.push(list_systems_code(&server, &acme).await);
    }
    let other_tenant = list_systems_code(&server, &globex).await;

    assert_eq!(
        codes,
        vec![Code::Ok, Code::Ok, Code::Ok, Code::ResourceExhausted]
    );
    assert_eq!(other_tenant, Code::Ok);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_and_reflection_answer_without_a_token() {
    use tonic_health::pb::health_client::HealthClient;
    use tonic_reflection::pb::v1::ServerReflectionRequest;
    use tonic_reflection::pb::v1::server_reflection_client::ServerReflectionClient;
    use tonic_reflection::pb::v1::server_reflection_request::MessageRequest;
    use tonic_reflection::pb::v1::server_reflection_response::MessageResponse;

    let server = Server::start().await;
    let mut health = HealthClient::new(server.channel().await);
    let serving = health
        .check(tonic_health::pb::HealthCheckRequest {
            service: "secruna.v1.Ingest".to_owned(),
        })
        .await
        .unwrap()
        .into_inner();
    let mut reflection = ServerReflectionClient::new(server.channel().await);
    let request = ServerReflectionRequest {
        host: String::new(),
        message_request: Some(MessageRequest::ListServices(String::new())),
    };
    let mut responses = reflection
        .server_reflection_info(tokio_stream::iter(vec![request]))
        .await
        .unwrap()
        .into_inner();
    let response = responses.message().await.unwrap().unwrap();
    let Some(MessageResponse::ListServicesResponse(list)) = response.message_response else {
        panic!("unexpected reflection response {response:?}");
    };
    let mut names: Vec<String> = list
        .service
        .into_iter()
        .map(|service| service.name)
        .collect();
    names.sort();

    assert_eq!(
        serving.status,
        tonic_health::pb::health_check_response::ServingStatus::Serving as i32
    );
    assert!(names.contains(&"secruna.v1.Ingest".to_owned()), "{names:?}");
    assert!(names.contains(&"secruna.v1.Scans".to_owned()), "{names:?}");
    assert!(
        names.contains(&"secruna.v1.Inventory".to_owned()),
        "{names:?}"
    );
    assert!(
        names.contains(&"secruna.v1.Compliance".to_owned()),
        "{names:?}"
    );
    server.stop().await;
}

/// An open stream whose token is revoked stores nothing more: the next batch ends the
/// stream with `UNAUTHENTICATED`.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn revoked_token_ends_open_stream() {
    let mut options = Options::default();
    options.grpc.token_recheck = Duration::ZERO;
    let server = Server::start_with(options).await;
    let (token, token_id) = server.token_with_id("acme", "write", None).await;
    let mut client = ingest_client(&server, &token).await;
    let (batch_tx, batch_rx) = tokio::sync::mpsc::channel(4);
    batch_tx
        .send(batch(1, vec![finding("repo-a", ".", "openai")]))
        .await
        .unwrap();
    let mut acks = client
        .stream_findings(tokio_stream::wrappers::ReceiverStream::new(batch_rx))
        .await
        .unwrap()
        .into_inner();
    let first = acks.message().await.unwrap().unwrap();
    let mut tx = server.db.store.begin(&context("acme")).await.unwrap();
    store::api_tokens::revoke(&mut tx, token_id).await.unwrap();
    tx.commit().await.unwrap();

    batch_tx
        .send(batch(2, vec![finding("repo-b", ".", "anthropic")]))
        .await
        .unwrap();
    let ended = acks.message().await.unwrap_err();

    assert_eq!(first.num_accepted, 1);
    assert_eq!(ended.code(), Code::Unauthenticated);
    assert!(ended.message().contains("revoked"), "{}", ended.message());
    assert_eq!(server.count("SELECT count(*) FROM findings").await, 1);
    server.stop().await;
}
