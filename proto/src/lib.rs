//! Wire schema (`secruna.v1`) and the domain [`Finding`] that every crate exchanges.
//!
//! Crawlers produce [`Finding`] values; in-process they travel as actor messages, and
//! a remote agent or partner sends the same data as [`v1::Finding`] over gRPC.

pub mod compat;
mod declaration;
mod finding;

pub use declaration::{
    AnnexIii, AnnexIiiArea, AnnexIiiPoint, Article5Practice, Declaration, DeclarationError,
    DocumentKind, EvidenceItem, HumanOversight, Logging, Market, ModelSource, Role,
};
pub use finding::{Finding, FindingKind, ParseKindError, WireFindingError};

/// Encoded `FileDescriptorSet` of every `secruna.v1` proto file, for the gRPC reflection
/// service and for comparing the schema against a released version.
pub const FILE_DESCRIPTOR_SET: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/secruna_v1_descriptor.binpb"));

/// Maximum encoded size of one gRPC message, in bytes, set alike on the server and on
/// every client for every RPC: 8 MiB fits a batch of 1000 typical findings with room to
/// spare, and keeps the memory one message can take bounded.
pub const MAX_MESSAGE_BYTES: usize = 8 * 1024 * 1024;

/// Maximum findings in one `FindingBatch`.
pub const MAX_FINDINGS_PER_BATCH: usize = 1000;

/// Maximum encoded size of one finding, in bytes; a larger one is rejected on its own.
pub const MAX_FINDING_BYTES: usize = 64 * 1024;

/// Code generated from `proto/secruna/v1/*.proto`.
#[allow(missing_docs, unreachable_pub, clippy::all)]
pub mod v1 {
    tonic::include_proto!("secruna.v1");
}
