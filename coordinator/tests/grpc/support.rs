//! A real gRPC server on 127.0.0.1 over a fresh database, and clients that call it.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use agents::SourceRegistry;
use coordinator::grpc::{GrpcConfig, GrpcState};
use coordinator::{Coordinator, CoordinatorConfig};
use proto::v1;
use sha2::{Digest, Sha256};
use store::testing::TestDb;
use store::{TenantContext, TenantPath};
use tokio::sync::oneshot;
use tonic::service::Interceptor;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;

/// A running server with its database.
pub(crate) struct Server {
    pub(crate) db: TestDb,
    pub(crate) address: SocketAddr,
    shutdown_tx: Option<oneshot::Sender<()>>,
    served: Option<tokio::task::JoinHandle<()>>,
}

/// Settings of a test server.
pub(crate) struct Options {
    pub(crate) grpc: GrpcConfig,
    pub(crate) writer_batch_delay: Duration,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            grpc: GrpcConfig::default(),
            writer_batch_delay: Duration::from_millis(2),
        }
    }
}

impl Server {
    pub(crate) async fn start() -> Server {
        Server::start_with(Options::default()).await
    }

    pub(crate) async fn start_with(options: Options) -> Server {
        let db = TestDb::new().await;
        let rule_book = Arc::new(rule_book::RuleBook::embedded().unwrap());
        let mut config =
            CoordinatorConfig::new(db.store.clone(), rule_book.clone(), SourceRegistry::new());
        config.writer_batch_delay = options.writer_batch_delay;
        let coordinator = Arc::new(Coordinator::spawn(config).await.unwrap());
        let state = GrpcState::new(db.store.clone(), coordinator, rule_book, options.grpc);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let (shutdown_tx, shutdown_rx) = oneshot::channel();
        let served = tokio::spawn(async move {
            coordinator::grpc::serve(listener, state, async {
                let _ = shutdown_rx.await;
            })
            .await
            .unwrap();
        });
        Server {
            db,
            address,
            shutdown_tx: Some(shutdown_tx),
            served: Some(served),
        }
    }

    /// Stops the server and waits until it has stopped.
    pub(crate) async fn stop(mut self) {
        if let Some(shutdown_tx) = self.shutdown_tx.take() {
            let _ = shutdown_tx.send(());
        }
        if let Some(served) = self.served.take() {
            let _ = tokio::time::timeout(Duration::from_secs(10), served).await;
        }
    }

    pub(crate) async fn channel(&self) -> Channel {
        Channel::from_shared(format!("http://{}", self.address))
            .unwrap()
            .connect()
            .await
            .unwrap()
    }

    /// Creates the tenant (subscribed to the EU AI Act) and an API token of `scope`.
    pub(crate) async fn token(&self, tenant: &str, scope: &str) -> String {
        self.token_expiring(tenant, scope, None).await
    }

    pub(crate) async fn token_expiring(
        &self,
        tenant: &str,
        scope: &str,
        expires_at: Option<chrono::DateTime<chrono::Utc>>,
    ) -> String {
        self.token_with_id(tenant, scope, expires_at).await.0
    }

    /// Creates a token like [`Server::token`] and returns it with its row id.
    pub(crate) async fn token_with_id(
        &self,
        tenant: &str,
        scope: &str,
        expires_at: Option<chrono::DateTime<chrono::Utc>>,
    ) -> (String, uuid::Uuid) {
        let token = format!(
            "sec_test_{}_{}",
            tenant.replace('/', "_"),
            uuid::Uuid::new_v4().simple()
        );
        let mut tx = self.db.store.begin(&context(tenant)).await.unwrap();
        store::tenants::ensure(&mut tx, tenant).await.unwrap();
        store::subscriptions::set(&mut tx, &["eu-ai-act"])
            .await
            .unwrap();
        let row = store::api_tokens::create(
            &mut tx,
            &store::api_tokens::NewApiToken {
                name: "test".to_owned(),
                scope: scope.to_owned(),
                token_hash: Sha256::digest(token.as_bytes()).into(),
                created_by: "test:runner".to_owned(),
                expires_at,
            },
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
        (token, row.id)
    }

    /// Runs one query as the superuser and returns the first column of every row.
    pub(crate) async fn query_strings(&self, sql: &'static str) -> Vec<String> {
        let admin = sqlx::PgPool::connect(&self.db.admin_url).await.unwrap();
        let rows: Vec<(String,)> = sqlx::query_as(sql).fetch_all(&admin).await.unwrap();
        admin.close().await;
        rows.into_iter().map(|(value,)| value).collect()
    }

    pub(crate) async fn count(&self, sql: &'static str) -> i64 {
        let admin = sqlx::PgPool::connect(&self.db.admin_url).await.unwrap();
        let (count,): (i64,) = sqlx::query_as(sql).fetch_one(&admin).await.unwrap();
        admin.close().await;
        count
    }
}

pub(crate) fn context(tenant: &str) -> TenantContext {
    TenantContext::new(TenantPath::from_slug_path(tenant).unwrap())
}

/// Adds `authorization: Bearer <token>` to every call.
#[derive(Clone)]
pub(crate) struct Bearer(pub String);

impl Interceptor for Bearer {
    fn call(
        &mut self,
        mut request: tonic::Request<()>,
    ) -> Result<tonic::Request<()>, tonic::Status> {
        let value = format!("Bearer {}", self.0).parse().unwrap();
        request.metadata_mut().insert("authorization", value);
        Ok(request)
    }
}

pub(crate) type Authed = InterceptedService<Channel, Bearer>;

pub(crate) async fn ingest_client(
    server: &Server,
    token: &str,
) -> v1::ingest_client::IngestClient<Authed> {
    v1::ingest_client::IngestClient::with_interceptor(
        server.channel().await,
        Bearer(token.to_owned()),
    )
    .max_decoding_message_size(proto::MAX_MESSAGE_BYTES)
    .max_encoding_message_size(proto::MAX_MESSAGE_BYTES)
}

pub(crate) async fn inventory_client(
    server: &Server,
    token: &str,
) -> v1::inventory_client::InventoryClient<Authed> {
    v1::inventory_client::InventoryClient::with_interceptor(
        server.channel().await,
        Bearer(token.to_owned()),
    )
    .max_decoding_message_size(proto::MAX_MESSAGE_BYTES)
    .max_encoding_message_size(proto::MAX_MESSAGE_BYTES)
}

pub(crate) async fn scans_client(
    server: &Server,
    token: &str,
) -> v1::scans_client::ScansClient<Authed> {
    v1::scans_client::ScansClient::with_interceptor(
        server.channel().await,
        Bearer(token.to_owned()),
    )
    .max_decoding_message_size(proto::MAX_MESSAGE_BYTES)
    .max_encoding_message_size(proto::MAX_MESSAGE_BYTES)
}

pub(crate) async fn compliance_client(
    server: &Server,
    token: &str,
) -> v1::compliance_client::ComplianceClient<Authed> {
    v1::compliance_client::ComplianceClient::with_interceptor(
        server.channel().await,
        Bearer(token.to_owned()),
    )
    .max_decoding_message_size(proto::MAX_MESSAGE_BYTES)
    .max_encoding_message_size(proto::MAX_MESSAGE_BYTES)
}

/// Builds a dependency finding of a partner connector for `subject` in `<root>/requirements.txt`.
pub(crate) fn finding(scope: &str, root: &str, subject: &str) -> v1::Finding {
    let path = if root == "." {
        "requirements.txt".to_owned()
    } else {
        format!("{root}/requirements.txt")
    };
    let attributes: HashMap<String, String> = [
        ("category", "hosted_api"),
        ("provider", "openai"),
        ("ecosystem", "pypi"),
        ("gpai", "true"),
    ]
    .into_iter()
    .map(|(key, value)| (key.to_owned(), value.to_owned()))
    .collect();
    v1::Finding {
        source: "partner".to_owned(),
        scope: scope.to_owned(),
        external_id: format!("{scope}|{root}|{subject}"),
        kind: "dependency".to_owned(),
        subject: subject.to_owned(),
        path,
        line: 1,
        confidence: 0.9,
        project_root: root.to_owned(),
        attributes,
        evidence: format!("{subject}==1.0"),
    }
}

/// Builds a batch whose findings use their external ids as keys.
pub(crate) fn batch(sequence: u64, findings: Vec<v1::Finding>) -> v1::FindingBatch {
    v1::FindingBatch {
        sequence,
        findings: findings
            .into_iter()
            .map(|finding| v1::IngestFinding {
                idempotency_key: String::new(),
                finding: Some(finding),
            })
            .collect(),
    }
}

/// Sends `batches` on one stream, closes it, and returns every acknowledgement.
pub(crate) async fn send_all(
    client: &mut v1::ingest_client::IngestClient<Authed>,
    batches: Vec<v1::FindingBatch>,
) -> Vec<v1::BatchAck> {
    let outbound = tokio_stream::iter(batches);
    let mut acks = client.stream_findings(outbound).await.unwrap().into_inner();
    let mut received = Vec::new();
    while let Some(ack) = acks.message().await.unwrap() {
        received.push(ack);
    }
    received
}
