//! Building the connector from a spec: every config problem names the connector and field.

use agents::{ConnectorSpec, SourceFactory, SourceRegistry};
use agents_aws::AwsFactory;
use serde_json::json;

use crate::support::{fast_limits, fast_policy, init};

fn build(
    config: serde_json::Value,
    secret: Option<serde_json::Value>,
) -> Result<(), agents::CrawlError> {
    init();
    let mut registry = SourceRegistry::new();
    registry.register(
        "aws",
        std::sync::Arc::new(AwsFactory::new(fast_limits(), fast_policy())),
    );
    let spec = ConnectorSpec {
        name: "prod-org".into(),
        kind: "aws".into(),
        config,
        secret,
    };
    registry
        .build(&spec)
        .map(|source| assert_eq!(source.provider(), "aws"))
}

#[test]
fn registry_builds_aws_source() {
    let built = build(json!({"regions": ["eu-west-1"]}), None);

    assert_eq!(built, Ok(()));
}

#[test]
fn unknown_field_names_connector_and_field() {
    let error = build(json!({"regions": ["eu-west-1"], "role": "x"}), None).unwrap_err();

    assert!(error.permanent);
    assert!(
        error.message.starts_with(
            "connector `prod-org`: invalid aws connector config: unknown field `role`"
        ),
        "{}",
        error.message
    );
}

#[test]
fn secret_without_secret_key_is_rejected() {
    let error = build(json!({}), Some(json!({"access_key_id": "AKIAEXAMPLE"}))).unwrap_err();

    assert_eq!(
        error.message,
        "connector `prod-org`: invalid aws connector secret: missing field `secret_access_key`"
    );
}

#[test]
fn null_config_builds_with_defaults() {
    init();
    let factory = AwsFactory::new(fast_limits(), fast_policy());
    let spec = ConnectorSpec {
        name: "direct".into(),
        kind: "aws".into(),
        config: json!(null),
        secret: None,
    };

    assert!(factory.build(&spec).is_ok());
}
