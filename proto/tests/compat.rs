//! The schema stays wire-compatible with the last released descriptor set, and the check
//! catches each kind of breaking change.

use prost::Message;
use prost_types::field_descriptor_proto::Type;
use prost_types::{DescriptorProto, FileDescriptorSet};
use proto::compat::{breaking_changes, compare};

/// Descriptor set of the last release; replace it only when cutting a release.
const RELEASED: &[u8] = include_bytes!("../released/secruna.v1.binpb");

fn current() -> FileDescriptorSet {
    FileDescriptorSet::decode(proto::FILE_DESCRIPTOR_SET).unwrap()
}

fn message<'a>(set: &'a mut FileDescriptorSet, name: &str) -> &'a mut DescriptorProto {
    set.file
        .iter_mut()
        .flat_map(|file| file.message_type.iter_mut())
        .find(|message| message.name() == name)
        .unwrap()
}

#[test]
fn current_schema_is_compatible_with_release() {
    let changes = breaking_changes(RELEASED, proto::FILE_DESCRIPTOR_SET).unwrap();

    assert!(changes.is_empty(), "breaking changes: {changes:#?}");
}

#[test]
fn added_field_is_compatible() {
    let mut changed = current();
    let mut field = message(&mut changed, "Finding").field[0].clone();
    field.name = Some("added_later".to_owned());
    field.number = Some(40);
    message(&mut changed, "Finding").field.push(field);

    assert!(compare(&current(), &changed).is_empty());
}

#[test]
fn removed_field_is_breaking() {
    let mut changed = current();
    message(&mut changed, "Finding")
        .field
        .retain(|field| field.name() != "evidence");

    assert_eq!(
        compare(&current(), &changed),
        vec!["field `secruna.v1.Finding.evidence` (number 11) was removed".to_owned()]
    );
}

#[test]
fn renumbered_field_is_breaking() {
    let mut changed = current();
    let finding = message(&mut changed, "Finding");
    let field = finding
        .field
        .iter_mut()
        .find(|field| field.name() == "evidence")
        .unwrap();
    field.number = Some(12);

    let changes = compare(&current(), &changed);

    assert_eq!(
        changes,
        vec!["field `secruna.v1.Finding.evidence` was renumbered from 11 to 12".to_owned()]
    );
}

#[test]
fn retyped_field_is_breaking() {
    let mut changed = current();
    let finding = message(&mut changed, "Finding");
    let field = finding
        .field
        .iter_mut()
        .find(|field| field.name() == "line")
        .unwrap();
    field.set_type(Type::Int64);

    let changes = compare(&current(), &changed);

    assert_eq!(changes.len(), 1);
    assert!(
        changes[0].starts_with("field `secruna.v1.Finding.line` changed type"),
        "{changes:?}"
    );
}

#[test]
fn removed_rpc_is_breaking() {
    let mut changed = current();
    for file in &mut changed.file {
        for service in &mut file.service {
            service
                .method
                .retain(|method| method.name() != "CancelScan");
        }
    }

    assert_eq!(
        compare(&current(), &changed),
        vec!["RPC `secruna.v1.Scans.CancelScan` was removed".to_owned()]
    );
}

#[test]
fn reused_reserved_number_is_breaking() {
    let mut released = current();
    let finding = message(&mut released, "Finding");
    finding
        .reserved_range
        .push(prost_types::descriptor_proto::ReservedRange {
            start: Some(30),
            end: Some(31),
        });
    let mut changed = current();
    let mut field = message(&mut changed, "Finding").field[0].clone();
    field.name = Some("reborn".to_owned());
    field.number = Some(30);
    message(&mut changed, "Finding").field.push(field);

    assert_eq!(
        compare(&released, &changed),
        vec!["field `secruna.v1.Finding.reborn` reuses the reserved number 30".to_owned()]
    );
}
