use serde_json::json;

use super::*;

#[test]
fn null_config_takes_every_default() {
    let config = AwsConfig::from_json(&serde_json::Value::Null).unwrap();

    assert_eq!(config.accounts, None);
    assert_eq!(config.regions, None);
    assert_eq!(config.role_name, "SecrunaReadOnly");
    assert_eq!(config.home_region, "us-east-1");
    assert_eq!(config.partition, "aws");
    assert_eq!(config.max_pages, 1000);
    assert!(!config.assume_role_in_base_account);
}

#[test]
fn unknown_config_field_is_named() {
    let error = AwsConfig::from_json(&json!({"region": ["eu-west-1"]})).unwrap_err();

    let message = error.to_string();
    assert!(message.contains("unknown field `region`"), "{message}");
    assert!(message.contains("regions"), "{message}");
}

#[test]
fn bad_account_id_names_index_and_fix() {
    let error = AwsConfig::from_json(&json!({"accounts": ["123456789012", "12345"]})).unwrap_err();

    assert_eq!(
        error.to_string(),
        "invalid aws connector config field `accounts[1]`: `12345` is not an account id: use the 12-digit id"
    );
}

#[test]
fn bad_region_names_index_and_fix() {
    let error = AwsConfig::from_json(&json!({"regions": ["eu-west-1", "Europe"]})).unwrap_err();

    assert_eq!(
        error.to_string(),
        "invalid aws connector config field `regions[1]`: `Europe` is not a region name: use a name such as eu-west-1"
    );
}

#[test]
fn region_names_accept_known_forms() {
    for region in ["eu-west-1", "us-gov-east-1", "ap-southeast-5", "cn-north-1"] {
        assert!(is_region_name(region), "{region}");
    }
    for region in ["eu-west", "euwest1", "EU-west-1", "e-west-1", "eu--1", ""] {
        assert!(!is_region_name(region), "{region}");
    }
}

#[test]
fn unknown_service_endpoint_is_rejected() {
    let error = AwsConfig::from_json(&json!({"service_endpoints": {"ec2": "http://127.0.0.1:1"}}))
        .unwrap_err();

    assert!(
        error
            .to_string()
            .contains("`service_endpoints.ec2`: unknown service"),
        "{error}"
    );
}

#[test]
fn service_endpoint_overrides_endpoint_url() {
    let config = AwsConfig::from_json(&json!({
        "endpoint_url": "http://127.0.0.1:1",
        "service_endpoints": {"sts": "http://127.0.0.1:2"}
    }))
    .unwrap();

    assert_eq!(config.endpoint_for("sts"), Some("http://127.0.0.1:2"));
    assert_eq!(config.endpoint_for("lambda"), Some("http://127.0.0.1:1"));
}

#[test]
fn role_name_with_space_is_rejected() {
    let error = AwsConfig::from_json(&json!({"role_name": "read only"})).unwrap_err();

    assert!(
        error
            .to_string()
            .starts_with("invalid aws connector config field `role_name`")
    );
}

#[test]
fn secret_type_error_hides_value() {
    let error = AwsSecret::from_json(Some(&json!({
        "access_key_id": "AKIAEXAMPLE",
        "secret_access_key": 12345678
    })))
    .unwrap_err();

    let message = error.to_string();
    assert_eq!(
        message,
        "invalid aws connector secret: invalid type: integer <redacted>"
    );
}

#[test]
fn secret_unknown_field_is_named() {
    let error = AwsSecret::from_json(Some(&json!({
        "access_key_id": "AKIAEXAMPLE",
        "secret_key": "wJalrXUtnFEMI"
    })))
    .unwrap_err();

    assert!(
        error.to_string().contains("unknown field `secret_key`"),
        "{error}"
    );
}

#[test]
fn absent_secret_means_default_chain() {
    assert_eq!(AwsSecret::from_json(None).unwrap(), None);
    assert_eq!(
        AwsSecret::from_json(Some(&serde_json::Value::Null)).unwrap(),
        None
    );
}

#[test]
fn secret_debug_redacts_keys() {
    let secret = AwsSecret::from_json(Some(&json!({
        "access_key_id": "AKIAEXAMPLE",
        "secret_access_key": "wJalrXUtnFEMI",
        "session_token": "token-value"
    })))
    .unwrap()
    .unwrap();

    let debug = format!("{secret:?}");
    assert!(!debug.contains("wJalrXUtnFEMI"), "{debug}");
    assert!(!debug.contains("token-value"), "{debug}");
}
