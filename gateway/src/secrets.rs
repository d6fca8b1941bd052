//! Encryption of connector and webhook secrets at rest with AES-256-GCM.
//!
//! The key comes from the operator (`SECRUNA_SECRET_KEY`, 32 bytes in
//! base64) and is never stored. Every write draws a new random 96-bit nonce,
//! and the id of the owning connector or webhook endpoint is the associated
//! data, so a ciphertext copied onto another row fails to decrypt.

use aes_gcm::aead::{Aead, KeyInit, OsRng, Payload};
use aes_gcm::{AeadCore, Aes256Gcm, Key, Nonce};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use store::connectors::SealedSecret;
use uuid::Uuid;

/// Length of the key in bytes.
pub const SECRET_KEY_LEN: usize = 32;

/// Errors of loading the key and of encrypting or decrypting a secret.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    /// The configured key is not base64.
    #[error("SECRUNA_SECRET_KEY is not valid base64; generate one with `openssl rand -base64 32`")]
    KeyNotBase64,
    /// The configured key has the wrong length.
    #[error(
        "SECRUNA_SECRET_KEY decodes to {len} bytes and must decode to 32; generate one with \
         `openssl rand -base64 32`"
    )]
    KeyLength {
        /// Decoded length in bytes.
        len: usize,
    },
    /// Encryption failed.
    #[error("encrypting the secret failed")]
    Encrypt,
    /// The ciphertext, nonce, key or connector id do not match.
    #[error(
        "decrypting the secret of {owner_id} failed; the key differs from the one it was \
         written with, or the row was altered"
    )]
    Decrypt {
        /// Connector or webhook endpoint whose secret failed to decrypt.
        owner_id: Uuid,
    },
}

/// The key that encrypts connector and webhook secrets. Its `Debug` output hides the bytes.
#[derive(Clone)]
pub struct SecretKey(Key<Aes256Gcm>);

impl std::fmt::Debug for SecretKey {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("SecretKey(..)")
    }
}

impl SecretKey {
    /// Parses a key from standard base64 that decodes to exactly 32 bytes.
    pub fn from_base64(encoded: &str) -> Result<SecretKey, SecretError> {
        let bytes = STANDARD
            .decode(encoded.trim())
            .map_err(|_| SecretError::KeyNotBase64)?;
        if bytes.len() != SECRET_KEY_LEN {
            return Err(SecretError::KeyLength { len: bytes.len() });
        }
        Ok(SecretKey(*Key::<Aes256Gcm>::from_slice(&bytes)))
    }

    /// Encrypts `plaintext` for the connector or webhook endpoint `owner_id`
    /// under a fresh random nonce.
    pub fn seal(&self, owner_id: Uuid, plaintext: &[u8]) -> Result<SealedSecret, SecretError> {
        let cipher = Aes256Gcm::new(&self.0);
        let nonce = Aes256Gcm::generate_nonce(&mut OsRng);
        let payload = Payload {
            msg: plaintext,
            aad: owner_id.as_bytes(),
        };
        let ciphertext = cipher
            .encrypt(&nonce, payload)
            .map_err(|_| SecretError::Encrypt)?;
        Ok(SealedSecret {
            nonce: nonce.to_vec(),
            ciphertext,
        })
    }

    /// Derives a 32-byte key for one `purpose` (HMAC-SHA256 of the purpose
    /// under this key), so signing keys never reuse the encryption key's bytes.
    pub(crate) fn derive(&self, purpose: &str) -> [u8; 32] {
        use hmac::{KeyInit as _, Mac as _};
        let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(self.0.as_slice())
            .expect("HMAC accepts keys of any length");
        mac.update(purpose.as_bytes());
        mac.finalize().into_bytes().into()
    }

    /// Decrypts a secret of the connector or webhook endpoint `owner_id`.
    pub fn open(&self, owner_id: Uuid, sealed: &SealedSecret) -> Result<Vec<u8>, SecretError> {
        let decrypt_error = SecretError::Decrypt { owner_id };
        if sealed.nonce.len() != 12 {
            return Err(decrypt_error);
        }
        let cipher = Aes256Gcm::new(&self.0);
        let payload = Payload {
            msg: &sealed.ciphertext,
            aad: owner_id.as_bytes(),
        };
        cipher
            .decrypt(Nonce::from_slice(&sealed.nonce), payload)
            .map_err(|_| decrypt_error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> SecretKey {
        SecretKey::from_base64(&STANDARD.encode([7u8; 32])).unwrap()
    }

    #[test]
    fn sealed_secret_opens_only_for_its_connector() {
        let id = Uuid::new_v4();
        let sealed = key().seal(id, b"hunter2").unwrap();
        assert_eq!(key().open(id, &sealed).unwrap(), b"hunter2");
        let other = Uuid::new_v4();
        assert!(matches!(
            key().open(other, &sealed),
            Err(SecretError::Decrypt { owner_id }) if owner_id == other
        ));
    }

    #[test]
    fn each_seal_draws_a_new_nonce() {
        let id = Uuid::new_v4();
        let first = key().seal(id, b"same").unwrap();
        let second = key().seal(id, b"same").unwrap();
        assert_ne!(first.nonce, second.nonce);
        assert_ne!(first.ciphertext, second.ciphertext);
    }

    #[test]
    fn key_must_be_32_bytes_of_base64() {
        assert!(matches!(
            SecretKey::from_base64("not base64!"),
            Err(SecretError::KeyNotBase64)
        ));
        assert!(matches!(
            SecretKey::from_base64(&STANDARD.encode([1u8; 16])),
            Err(SecretError::KeyLength { len: 16 })
        ));
    }

    #[test]
    fn key_debug_hides_bytes() {
        assert_eq!(format!("{:?}", key()), "SecretKey(..)");
    }
}
