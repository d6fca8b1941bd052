//! Wire-compatibility check of the `secruna.v1` schema against a released descriptor set.
//!
//! Within v1 only additive changes are allowed. [`breaking_changes`] lists every change
//! that could break a client built against the released schema:
//! - a removed message, enum, service or RPC;
//! - a removed field, or a field whose number, type, message type or label changed;
//! - a new field that reuses a number or name the released message reserved;
//! - an RPC whose request or response type, or streaming mode, changed;
//! - a removed or renumbered enum value.
//!
//! Renaming a field keeps the wire format but breaks JSON clients and generated code, so a
//! field is matched by number and a changed name counts as a renumbering.

use std::collections::HashMap;

use prost::Message;
use prost_types::{
    DescriptorProto, EnumDescriptorProto, FileDescriptorSet, ServiceDescriptorProto,
};

/// Decodes two encoded `FileDescriptorSet`s and returns the breaking changes from
/// `released` to `current`, one sentence each; empty when `current` is compatible.
pub fn breaking_changes(
    released: &[u8],
    current: &[u8],
) -> Result<Vec<String>, prost::DecodeError> {
    let released = FileDescriptorSet::decode(released)?;
    let current = FileDescriptorSet::decode(current)?;
    Ok(compare(&released, &current))
}

/// Compares two decoded descriptor sets; see [`breaking_changes`].
pub fn compare(released: &FileDescriptorSet, current: &FileDescriptorSet) -> Vec<String> {
    let old = Index::new(released);
    let new = Index::new(current);
    let mut changes = Vec::new();
    for (name, message) in &old.messages {
        match new.messages.get(name) {
            Some(current) => compare_message(name, message, current, &mut changes),
            None => changes.push(format!("message `{name}` was removed")),
        }
    }
    for (name, definition) in &old.enums {
        match new.enums.get(name) {
            Some(current) => compare_enum(name, definition, current, &mut changes),
            None => changes.push(format!("enum `{name}` was removed")),
        }
    }
    for (name, service) in &old.services {
        match new.services.get(name) {
            Some(current) => compare_service(name, service, current, &mut changes),
            None => changes.push(format!("service `{name}` was removed")),
        }
    }
    changes.sort();
    changes
}

/// Every message, enum and service of a set by fully qualified name.
struct Index<'a> {
    messages: HashMap<String, &'a DescriptorProto>,
    enums: HashMap<String, &'a EnumDescriptorProto>,
    services: HashMap<String, &'a ServiceDescriptorProto>,
}

impl<'a> Index<'a> {
    fn new(set: &'a FileDescriptorSet) -> Self {
        let mut index = Index {
            messages: HashMap::new(),
            enums: HashMap::new(),
            services: HashMap::new(),
        };
        for file in &set.file {
            let package = file.package();
            for message in &file.message_type {
                index.add_message(package, message);
            }
            for definition in &file.enum_type {
                index
                    .enums
                    .insert(qualify(package, definition.name()), definition);
            }
            for service in &file.service {
                index
                    .services
                    .insert(qualify(package, service.name()), service);
            }
        }
        index
    }

    fn add_message(&mut self, scope: &str, message: &'a DescriptorProto) {
        let name = qualify(scope, message.name());
        for nested in &message.nested_type {
            self.add_message(&name, nested);
        }
        for definition in &message.enum_type {
            self.enums
                .insert(qualify(&name, definition.name()), definition);
        }
        self.messages.insert(name, message);
    }
}

fn qualify(scope: &str, name: &str) -> String {
    if scope.is_empty() {
        name.to_owned()
    } else {
        format!("{scope}.{name}")
    }
}

fn compare_message(
    name: &str,
    released: &DescriptorProto,
    current: &DescriptorProto,
    changes: &mut Vec<String>,
) {
    for field in &released.field {
        let number = field.number();
        let Some(now) = current
            .field
            .iter()
            .find(|candidate| candidate.number() == number)
        else {
            let moved = current
                .field
                .iter()
                .find(|candidate| candidate.name() == field.name());
            let change = match moved {
                Some(moved) => format!(
                    "field `{name}.{}` was renumbered from {number} to {}",
                    field.name(),
                    moved.number()
                ),
                None => format!(
                    "field `{name}.{}` (number {number}) was removed",
                    field.name()
                ),
            };
            changes.push(change);
            continue;
        };
        if now.name() != field.name() {
            changes.push(format!(
                "field number {number} of `{name}` was renamed from `{}` to `{}`",
                field.name(),
                now.name()
            ));
        }
        if now.r#type() != field.r#type() || now.type_name() != field.type_name() {
            changes.push(format!(
                "field `{name}.{}` changed type from {:?} {} to {:?} {}",
                field.name(),
                field.r#type(),
                field.type_name(),
                now.r#type(),
                now.type_name()
            ));
        }
        if now.label() != field.label() {
            changes.push(format!(
                "field `{name}.{}` changed label from {:?} to {:?}",
                field.name(),
                field.label(),
                now.label()
            ));
        }
    }
    for field in &current.field {
        let number = field.number();
        let reserved_number = released
            .reserved_range
            .iter()
            .any(|range| range.start() <= number && number < range.end());
        if reserved_number {
            changes.push(format!(
                "field `{name}.{}` reuses the reserved number {number}",
                field.name()
            ));
        }
        if released
            .reserved_name
            .iter()
            .any(|reserved| reserved == field.name())
        {
            changes.push(format!(
                "field `{name}.{}` reuses a reserved name",
                field.name()
            ));
        }
    }
}

fn compare_enum(
    name: &str,
    released: &EnumDescriptorProto,
    current: &EnumDescriptorProto,
    changes: &mut Vec<String>,
) {
    for value in &released.value {
        match current
            .value
            .iter()
            .find(|candidate| candidate.name() == value.name())
        {
            None => changes.push(format!("enum value `{name}.{}` was removed", value.name())),
            Some(now) if now.number() != value.number() => changes.push(format!(
                "enum value `{name}.{}` was renumbered from {} to {}",
                value.name(),
                value.number(),
                now.number()
            )),
            Some(_) => {}
        }
    }
}

fn compare_service(
    name: &str,
    released: &ServiceDescriptorProto,
    current: &ServiceDescriptorProto,
    changes: &mut Vec<String>,
) {
    for method in &released.method {
        let Some(now) = current
            .method
            .iter()
            .find(|candidate| candidate.name() == method.name())
        else {
            changes.push(format!("RPC `{name}.{}` was removed", method.name()));
            continue;
        };
        if now.input_type() != method.input_type() || now.output_type() != method.output_type() {
            changes.push(format!(
                "RPC `{name}.{}` changed its types from ({}) -> {} to ({}) -> {}",
                method.name(),
                method.input_type(),
                method.output_type(),
                now.input_type(),
                now.output_type()
            ));
        }
        if now.client_streaming() != method.client_streaming()
            || now.server_streaming() != method.server_streaming()
        {
            changes.push(format!(
                "RPC `{name}.{}` changed its streaming mode",
                method.name()
            ));
        }
    }
}
