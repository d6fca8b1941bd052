//! `Inventory`: the AI systems of the caller's tenant and its subsidiaries.

use prost::Message;
use proto::v1::inventory_server::Inventory;
use proto::v1::{GetSystemRequest, GetSystemResponse, ListSystemsRequest, ListSystemsResponse};
use store::listing::SystemFilter;
use tonic::{Request, Response, Status};

use super::GrpcState;
use super::auth::Principal;
use super::convert::{self, store_status};

/// Most bytes of a `GetSystem` response: the message limit less 64 KiB for the framing.
const MAX_FINDINGS_MESSAGE_BYTES: usize = proto::MAX_MESSAGE_BYTES - 64 * 1024;

/// Bytes a repeated field adds around each finding: its tag and length prefix.
const FINDING_FRAMING_BYTES: usize = 6;

/// The `Inventory` service.
pub(crate) struct InventoryService {
    state: GrpcState,
}

impl InventoryService {
    /// Creates the service.
    pub(crate) fn new(state: GrpcState) -> Self {
        InventoryService { state }
    }
}

/// Turns an empty filter field into `None`.
fn filter_value(value: String) -> Option<String> {
    (!value.is_empty()).then_some(value)
}

#[tonic::async_trait]
impl Inventory for InventoryService {
    #[tracing::instrument(skip_all, name = "grpc.inventory.list_systems")]
    async fn list_systems(
        &self,
        request: Request<ListSystemsRequest>,
    ) -> Result<Response<ListSystemsResponse>, Status> {
        let principal = Principal::of(&request)?;
        let request = request.into_inner();
        let (page, size) = convert::page_request(request.page_size, &request.page_token)?;
        let filter = SystemFilter {
            risk_class: filter_value(request.risk_class),
            kind: filter_value(request.kind),
            source: filter_value(request.source),
        };

        let store = &self.state.store;
        let mut tx = store
            .begin_read_only(&principal.tenant)
            .await
            .map_err(store_status)?;
        let mut rows = store::listing::systems(&mut tx, &filter, page)
            .await
            .map_err(store_status)?;
        tx.commit().await.map_err(store_status)?;

        let next_page_token = convert::next_page(&mut rows, size, |row| (row.created_at, row.id));
        Ok(Response::new(ListSystemsResponse {
            systems: rows.into_iter().map(convert::system).collect(),
            next_page_token,
        }))
    }

    #[tracing::instrument(skip_all, name = "grpc.inventory.get_system")]
    async fn get_system(
        &self,
        request: Request<GetSystemRequest>,
    ) -> Result<Response<GetSystemResponse>, Status> {
        let principal = Principal::of(&request)?;
        let system_id = convert::parse_id("system_id", &request.get_ref().system_id)?;

        let store = &self.state.store;
        let mut tx = store
            .begin_read_only(&principal.tenant)
            .await
            .map_err(store_status)?;
        let Some(system) = store::listing::system(&mut tx, system_id)
            .await
            .map_err(store_status)?
        else {
            return Err(Status::not_found(format!("system {system_id} not found")));
        };
        let findings = store::findings::list_open_for_system(&mut tx, system_id)
            .await
            .map_err(store_status)?;
        let frameworks = store::subscriptions::list(&mut tx)
            .await
            .map_err(store_status)?;
        let evaluations = store::evaluations::list_for_system(&mut tx, system_id)
            .await
            .map_err(store_status)?;
        tx.commit().await.map_err(store_status)?;

        let num_open_findings = findings.len() as u64;
        let mut response = GetSystemResponse {
            system: Some(convert::system(system)),
            findings: Vec::new(),
            evaluations: evaluations
                .into_iter()
                .filter(|row| frameworks.contains(&row.framework))
                .map(convert::evaluation_row)
                .collect(),
            findings_truncated: false,
            num_open_findings,
        };
        // Fill the message up to a margin below the size limit, so a large system gives a
        // truncated response instead of a message the client cannot receive.
        let mut size = response.encoded_len();
        for row in findings {
            let finding = convert::stored_finding(row);
            size += finding.encoded_len() + FINDING_FRAMING_BYTES;
            if size > MAX_FINDINGS_MESSAGE_BYTES {
                response.findings_truncated = true;
                break;
            }
            response.findings.push(finding);
        }
        Ok(Response::new(response))
    }
}
