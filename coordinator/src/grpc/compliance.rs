//! `Compliance`: verdicts and evidence packs of the caller's tenant.

use proto::v1::compliance_server::Compliance;
use proto::v1::{
    EvidencePackChunk, ExportEvidencePackRequest, ListEvaluationsRequest, ListEvaluationsResponse,
};
use serde_json::json;
use store::TenantContext;
use store::listing::EvaluationFilter;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Request, Response, Status};

use super::GrpcState;
use super::auth::Principal;
use super::convert::{self, store_status};
use crate::evidence::{self, EvidenceError};

/// Bytes per chunk of an exported pack.
const CHUNK_BYTES: usize = 64 * 1024;

/// Evidence packs one server builds and sends at once. A pack is built in memory, so this
/// bounds the memory that exports take; a further export gets `RESOURCE_EXHAUSTED`.
pub(crate) const MAX_PACK_BUILDS: usize = 2;

/// The `Compliance` service.
pub(crate) struct ComplianceService {
    state: GrpcState,
}

impl ComplianceService {
    /// Creates the service.
    pub(crate) fn new(state: GrpcState) -> Self {
        ComplianceService { state }
    }

    /// Returns the tenant's subscribed frameworks, or only `framework` when it is set;
    /// `NOT_FOUND` when the tenant does not subscribe to it.
    async fn frameworks(
        &self,
        tenant: &TenantContext,
        framework: &str,
    ) -> Result<Vec<String>, Status> {
        let mut tx = self
            .state
            .store
            .begin_read_only(tenant)
            .await
            .map_err(store_status)?;
        let subscribed = store::subscriptions::list(&mut tx)
            .await
            .map_err(store_status)?;
        tx.commit().await.map_err(store_status)?;
        if framework.is_empty() {
            return Ok(subscribed);
        }
        if subscribed.iter().any(|slug| slug == framework) {
            return Ok(vec![framework.to_owned()]);
        }
        Err(Status::not_found(format!(
            "framework `{framework}` not found in the tenant's subscription"
        )))
    }
}

#[tonic::async_trait]
impl Compliance for ComplianceService {
    type ExportEvidencePackStream = ReceiverStream<Result<EvidencePackChunk, Status>>;

    #[tracing::instrument(skip_all, name = "grpc.compliance.list_evaluations")]
    async fn list_evaluations(
        &self,
        request: Request<ListEvaluationsRequest>,
    ) -> Result<Response<ListEvaluationsResponse>, Status> {
        let principal = Principal::of(&request)?;
        let request = request.into_inner();
        let (page, size) = convert::page_request(request.page_size, &request.page_token)?;
        let system_id = if request.system_id.is_empty() {
            None
        } else {
            Some(convert::parse_id("system_id", &request.system_id)?)
        };
        let frameworks = self
            .frameworks(&principal.tenant, &request.framework)
            .await?;
        let filter = EvaluationFilter {
            frameworks,
            system_id,
            status: (!request.status.is_empty()).then_some(request.status),
        };

        let mut tx = self
            .state
            .store
            .begin_read_only(&principal.tenant)
            .await
            .map_err(store_status)?;
        let mut rows = store::listing::evaluations(&mut tx, &filter, page)
            .await
            .map_err(store_status)?;
        tx.commit().await.map_err(store_status)?;

        let next_page_token = convert::next_page(&mut rows, size, |row| (row.created_at, row.id));
        Ok(Response::new(ListEvaluationsResponse {
            evaluations: rows.into_iter().map(convert::evaluation_item).collect(),
            next_page_token,
        }))
    }

    #[tracing::instrument(skip_all, name = "grpc.compliance.export_evidence_pack")]
    async fn export_evidence_pack(
        &self,
        request: Request<ExportEvidencePackRequest>,
    ) -> Result<Response<Self::ExportEvidencePackStream>, Status> {
        let principal = Principal::of(&request)?;
        let framework = request.into_inner().framework;
        if framework.is_empty() {
            return Err(Status::invalid_argument(
                "field `framework` is empty: set it to a subscribed framework slug",
            ));
        }
        self.frameworks(&principal.tenant, &framework).await?;
        let tenant_slot =
            TenantSlot::take(&self.state.pack_tenants, principal.tenant.path().as_str())?;
        let permit = self
            .state
            .pack_builds
            .clone()
            .try_acquire_owned()
            .map_err(|_| {
                Status::resource_exhausted(format!(
                    "this server is already building {MAX_PACK_BUILDS} evidence packs; \
                     retry in a minute"
                ))
            })?;

        // The pack is built after the response starts, so the per-call deadline, which
        // ends at the first response, does not cut a large pack short.
        let (chunk_tx, chunk_rx) = mpsc::channel(4);
        let state = self.state.clone();
        tokio::spawn(async move {
            match build_pack(&state, &principal, &framework, &chunk_tx).await {
                Ok(Some(pack)) => send_chunks(pack, chunk_tx).await,
                Ok(None) => {}
                Err(status) => {
                    let _ = chunk_tx.send(Err(status)).await;
                }
            }
            drop(permit);
            drop(tenant_slot);
        });
        Ok(Response::new(ReceiverStream::new(chunk_rx)))
    }
}

/// Collects and builds the pack and audits the export. Returns `None` when the client
/// went away: before the build, which then does not start, or during it, which leaves
/// the export unaudited.
async fn build_pack(
    state: &GrpcState,
    principal: &Principal,
    framework: &str,
    chunk_tx: &mpsc::Sender<Result<EvidencePackChunk, Status>>,
) -> Result<Option<evidence::EvidencePack>, Status> {
    let data = evidence::collect(
        &state.store,
        &principal.tenant,
        &state.rule_book,
        framework,
        &principal.actor(),
    )
    .await
    .map_err(evidence_status)?;
    if chunk_tx.is_closed() {
        return Ok(None);
    }
    let pack = tokio::task::spawn_blocking(move || evidence::build(&data))
        .await
        .map_err(|error| Status::internal(format!("building the evidence pack failed: {error}")))?
        .map_err(evidence_status)?;
    // A pack whose client has left is not recorded as exported.
    if chunk_tx.is_closed() {
        return Ok(None);
    }
    record_export(state, principal, framework, &pack.sha256).await?;
    Ok(Some(pack))
}

/// Tenants with an evidence pack being built.
type PackTenants = std::sync::Arc<std::sync::Mutex<std::collections::HashSet<String>>>;

/// A tenant's claim on building one evidence pack; released when dropped.
struct TenantSlot {
    tenants: PackTenants,
    tenant: String,
}

impl TenantSlot {
    /// Claims the slot of `tenant`, or fails with `RESOURCE_EXHAUSTED` while one of its
    /// packs is being built, so one tenant cannot hold every server-wide permit.
    fn take(pack_tenants: &PackTenants, tenant: &str) -> Result<TenantSlot, Status> {
        let tenant = tenant.to_owned();
        let mut tenants = pack_tenants
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if !tenants.insert(tenant.clone()) {
            return Err(Status::resource_exhausted(
                "an evidence pack of this tenant is already being built; retry when it has \
                 been sent",
            ));
        }
        Ok(TenantSlot {
            tenants: pack_tenants.clone(),
            tenant,
        })
    }
}

impl Drop for TenantSlot {
    fn drop(&mut self) {
        self.tenants
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .remove(&self.tenant);
    }
}

/// Appends an `evidence_pack.export` audit row naming the pack's hash.
async fn record_export(
    state: &GrpcState,
    principal: &Principal,
    framework: &str,
    sha256: &str,
) -> Result<(), Status> {
    let mut tx = state
        .store
        .begin(&principal.tenant)
        .await
        .map_err(store_status)?;
    let entry = crate::actors::audit_entry(
        &principal.actor(),
        "evidence_pack",
        framework,
        "evidence_pack.export",
        json!({ "framework": framework, "sha256": sha256 }),
    );
    store::audit::append(&mut tx, entry)
        .await
        .map_err(store_status)?;
    tx.commit().await.map_err(store_status)
}

/// Sends the pack in chunks of [`CHUNK_BYTES`], then a last message with its hash.
async fn send_chunks(
    pack: evidence::EvidencePack,
    chunk_tx: mpsc::Sender<Result<EvidencePackChunk, Status>>,
) {
    let mut file_name = pack.file_name.clone();
    for piece in pack.bytes.chunks(CHUNK_BYTES) {
        let chunk = EvidencePackChunk {
            data: piece.to_vec(),
            file_name: std::mem::take(&mut file_name),
            ..EvidencePackChunk::default()
        };
        if chunk_tx.send(Ok(chunk)).await.is_err() {
            return;
        }
    }
    let last = EvidencePackChunk {
        data: Vec::new(),
        last: true,
        sha256: pack.sha256,
        size_bytes: pack.bytes.len() as u64,
        file_name,
    };
    let _ = chunk_tx.send(Ok(last)).await;
}

fn evidence_status(error: EvidenceError) -> Status {
    match error {
        EvidenceError::Store(error) => store_status(error),
        EvidenceError::UnknownFramework(_) => Status::not_found(error.to_string()),
        other => Status::internal(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tenant_slot_is_one_per_tenant() {
        let tenants = PackTenants::default();

        let first = TenantSlot::take(&tenants, "acme").unwrap();
        let second = TenantSlot::take(&tenants, "acme").err().unwrap();
        let other = TenantSlot::take(&tenants, "globex");
        drop(first);
        let again = TenantSlot::take(&tenants, "acme");

        assert_eq!(second.code(), tonic::Code::ResourceExhausted);
        assert!(other.is_ok());
        assert!(again.is_ok());
    }
}
