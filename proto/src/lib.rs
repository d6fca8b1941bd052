//! Wire schema (`secruna.v1`) and the domain [`Finding`] that every crate exchanges.
//!
//! Crawlers produce [`Finding`] values; in-process they travel as actor messages, and
//! a remote agent or partner sends the same data as [`v1::Finding`] over gRPC.

mod declaration;
mod finding;

pub use declaration::{
    AnnexIii, AnnexIiiArea, AnnexIiiPoint, Article5Practice, Declaration, DeclarationError,
    DocumentKind, EvidenceItem, HumanOversight, Logging, Market, ModelSource, Role,
};
pub use finding::{Finding, FindingKind, ParseKindError, WireFindingError};

/// Code generated from `proto/secruna/v1/*.proto`.
#[allow(missing_docs, unreachable_pub, clippy::all)]
pub mod v1 {
    tonic::include_proto!("secruna.v1");
}
