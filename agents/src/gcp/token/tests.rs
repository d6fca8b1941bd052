use jsonwebtoken::{DecodingKey, Validation};
use serde_json::json;

use std::time::Instant;

use super::*;
use crate::net::token::{describe_token_error, parse_token};

const KEY_FILE: &str = include_str!("../../../tests/fixtures/gcp/service-account.json");
const PUBLIC_KEY: &str = include_str!("../../../tests/fixtures/gcp/service-account.pub.pem");

fn key() -> ServiceAccountKey {
    let secret: serde_json::Value = serde_json::from_str(KEY_FILE).unwrap();
    ServiceAccountKey::from_secret(&secret).unwrap()
}

#[test]
fn assertion_verifies_with_public_key() {
    let issued_at = SystemTime::now();
    let token = key()
        .assertion("http://127.0.0.1:1/token", issued_at)
        .unwrap();

    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_audience(&["http://127.0.0.1:1/token"]);
    validation.set_issuer(&["crawler@secruna-test.iam.gserviceaccount.com"]);
    let decoding = DecodingKey::from_rsa_pem(PUBLIC_KEY.as_bytes()).unwrap();
    let data = jsonwebtoken::decode::<serde_json::Value>(&token, &decoding, &validation).unwrap();

    let iat = issued_at.duration_since(UNIX_EPOCH).unwrap().as_secs();
    assert_eq!(
        data.header.kid.as_deref(),
        Some("0123456789abcdef0123456789abcdef01234567")
    );
    assert_eq!(data.claims["scope"], CLOUD_PLATFORM_SCOPE);
    assert_eq!(data.claims["iat"], iat);
    assert_eq!(data.claims["exp"], iat + 3600);
}

#[test]
fn key_may_be_a_json_string() {
    let secret = serde_json::Value::String(KEY_FILE.to_owned());
    let key = ServiceAccountKey::from_secret(&secret).unwrap();
    assert_eq!(
        key.client_email,
        "crawler@secruna-test.iam.gserviceaccount.com"
    );
    assert_eq!(
        key.token_uri.as_deref(),
        Some("https://oauth2.googleapis.com/token")
    );
}

#[test]
fn missing_private_key_is_named() {
    let secret = json!({"type": "service_account", "client_email": "a@b"});
    let err = ServiceAccountKey::from_secret(&secret).unwrap_err();
    assert!(err.contains("missing field `private_key`"), "{err}");
}

#[test]
fn user_credentials_are_rejected() {
    let secret = json!({"type": "authorized_user", "client_email": "a@b", "private_key": "x"});
    let err = ServiceAccountKey::from_secret(&secret).unwrap_err();
    assert!(err.contains("not `service_account`"), "{err}");
}

#[test]
fn bad_private_key_is_rejected_without_echo() {
    let secret = json!({"client_email": "a@b", "private_key": "not-a-pem-secret-text"});
    let err = ServiceAccountKey::from_secret(&secret).unwrap_err();
    assert!(err.contains("not a PEM RSA private key"), "{err}");
    assert!(!err.contains("not-a-pem-secret-text"), "{err}");
}

#[test]
fn debug_redacts_private_key() {
    let text = format!("{:?}", key());
    assert!(!text.contains("PRIVATE KEY"), "{text}");
    assert!(text.contains("<redacted>"), "{text}");
}

#[test]
fn form_carries_grant_and_assertion() {
    assert_eq!(
        token_form("a.b.c"),
        "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion=a.b.c"
    );
}

#[test]
fn token_expiry_counts_from_now() {
    let now = Instant::now();
    let token = parse_token(
        br#"{"access_token":"ya29.x","expires_in":3599,"token_type":"Bearer"}"#,
        now,
    )
    .unwrap();
    assert_eq!(token.value, "ya29.x");
    assert_eq!(token.expires_at, now + Duration::from_secs(3599));
    assert!(token.is_fresh(now));
    assert!(!token.is_fresh(now + Duration::from_secs(3400)));
}

#[test]
fn token_error_keeps_code_and_description() {
    let body = br#"{"error":"invalid_grant","error_description":"Invalid JWT Signature."}"#;
    assert_eq!(
        describe_token_error(400, body),
        "HTTP 400 invalid_grant: Invalid JWT Signature."
    );
}
