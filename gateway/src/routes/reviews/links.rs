//! Review links: signed, single-use, time-limited bearer links that let a
//! second person decide one review without an account.
//!
//! A link is `rl1.<claims>.<signature>`, both parts in unpadded base64url.
//! The claims name the tenant, the link, the review, the decisions allowed,
//! the expiry and a random nonce. The signature is HMAC-SHA256 over the
//! claims' bytes under a key derived from the operator's
//! `SECRUNA_SECRET_KEY`. The database stores only the SHA-256 of the nonce,
//! so a database leak yields no usable link, and marks the link used in the
//! transaction of the decision.

use argon2::password_hash::rand_core::{OsRng, RngCore};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use hmac::{Hmac, KeyInit, Mac};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::secrets::SecretKey;

/// Prefix and version of the link format.
const LINK_PREFIX: &str = "rl1";

/// Purpose under which the signing key is derived from the operator's key.
const KEY_PURPOSE: &str = "secruna review link v1";

/// Maximum length of a link, far above any link this server signs.
const MAX_LINK_LEN: usize = 2048;

/// What a link grants, signed into it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct LinkClaims {
    /// Tenant path (ltree text) of the requester.
    pub(crate) tenant: String,
    /// Link id.
    pub(crate) link: Uuid,
    /// The one review the link decides.
    pub(crate) review: Uuid,
    /// Decisions allowed: `approve`, `reject` or both.
    pub(crate) decisions: Vec<String>,
    /// Expiry in seconds since the Unix epoch.
    pub(crate) expires: i64,
    /// 32 random bytes in hex; only their SHA-256 is stored.
    pub(crate) nonce: String,
}

impl LinkClaims {
    /// Builds the claims of a new link with a fresh random nonce.
    pub(crate) fn new(
        tenant: String,
        review: Uuid,
        decisions: Vec<String>,
        expires_at: DateTime<Utc>,
    ) -> LinkClaims {
        let mut nonce = [0u8; 32];
        OsRng.fill_bytes(&mut nonce);
        LinkClaims {
            tenant,
            link: Uuid::new_v4(),
            review,
            decisions,
            expires: expires_at.timestamp(),
            nonce: hex::encode(nonce),
        }
    }

    /// Returns the SHA-256 of the nonce, the link's key in the database.
    pub(crate) fn nonce_hash(&self) -> [u8; 32] {
        Sha256::digest(self.nonce.as_bytes()).into()
    }

    /// Tells whether the expiry has passed at `now`.
    pub(crate) fn is_expired(&self, now: DateTime<Utc>) -> bool {
        self.expires <= now.timestamp()
    }
}

fn mac(key: &SecretKey) -> Hmac<Sha256> {
    <Hmac<Sha256> as KeyInit>::new_from_slice(&key.derive(KEY_PURPOSE))
        .expect("HMAC accepts keys of any length")
}

/// Signs `claims` and returns the link text.
pub(crate) fn sign(key: &SecretKey, claims: &LinkClaims) -> String {
    let payload = serde_json::to_vec(claims).unwrap_or_default();
    let mut mac = mac(key);
    mac.update(&payload);
    let signature = mac.finalize().into_bytes();
    format!(
        "{LINK_PREFIX}.{}.{}",
        URL_SAFE_NO_PAD.encode(&payload),
        URL_SAFE_NO_PAD.encode(signature)
    )
}

/// Checks a link's signature in constant time and returns its claims;
/// `None` for anything this server did not sign unchanged.
pub(crate) fn verify(key: &SecretKey, link: &str) -> Option<LinkClaims> {
    if link.len() > MAX_LINK_LEN {
        return None;
    }
    let mut parts = link.split('.');
    let (Some(LINK_PREFIX), Some(payload), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return None;
    };
    let payload = URL_SAFE_NO_PAD.decode(payload).ok()?;
    let signature = URL_SAFE_NO_PAD.decode(signature).ok()?;
    let mut mac = mac(key);
    mac.update(&payload);
    mac.verify_slice(&signature).ok()?;
    serde_json::from_slice(&payload).ok()
}

#[cfg(test)]
mod tests {
    use base64::engine::general_purpose::STANDARD;

    use super::*;

    fn key(byte: u8) -> SecretKey {
        SecretKey::from_base64(&STANDARD.encode([byte; 32])).unwrap()
    }

    fn claims() -> LinkClaims {
        LinkClaims::new(
            "acme".to_owned(),
            Uuid::new_v4(),
            vec!["approve".to_owned()],
            Utc::now() + chrono::Duration::hours(1),
        )
    }

    #[test]
    fn signed_link_verifies_to_its_claims() {
        let claims = claims();
        let link = sign(&key(1), &claims);
        assert_eq!(verify(&key(1), &link), Some(claims));
    }

    #[test]
    fn link_of_another_key_is_rejected() {
        let link = sign(&key(1), &claims());
        assert_eq!(verify(&key(2), &link), None);
    }

    #[test]
    fn changed_claims_are_rejected() {
        let key = key(1);
        let original = claims();
        let link = sign(&key, &original);
        let signature = link.rsplit('.').next().unwrap();
        let mut widened = original.clone();
        widened.decisions.push("reject".to_owned());
        let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&widened).unwrap());
        let forged = format!("{LINK_PREFIX}.{payload}.{signature}");
        assert_eq!(verify(&key, &forged), None);
    }

    #[test]
    fn malformed_links_are_rejected() {
        let key = key(1);
        for link in [
            "",
            "rl1",
            "rl1..",
            "rl2.e30.AAAA",
            "rl1.!!.AAAA",
            "rl1.e30.AAAA.x",
        ] {
            assert_eq!(verify(&key, link), None, "{link}");
        }
    }

    #[test]
    fn each_link_gets_a_new_nonce_and_id() {
        let first = claims();
        let second = claims();
        assert_ne!(first.nonce, second.nonce);
        assert_ne!(first.link, second.link);
        assert_eq!(first.nonce.len(), 64);
    }
}
