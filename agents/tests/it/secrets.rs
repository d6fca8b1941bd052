//! AI provider API keys: reported with prefix and hash, the value itself never.

use sha2::{Digest, Sha256};

use crate::support::{Tree, attribute, row};

/// Returns a deterministic pseudo-random alphanumeric string, so no key-shaped literal is
/// stored in the repository.
fn random_alphanumeric(seed: u64, length: usize) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut state = seed;
    (0..length)
        .map(|_| {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            char::from(ALPHABET[((state >> 33) % ALPHABET.len() as u64) as usize])
        })
        .collect()
}

struct Keys {
    openai: String,
    anthropic: String,
    huggingface: String,
    google: String,
}

fn keys() -> Keys {
    Keys {
        openai: format!("sk-proj-{}", random_alphanumeric(1, 48)),
        anthropic: format!("sk-ant-api03-{}", random_alphanumeric(2, 93)),
        huggingface: format!("hf_{}", random_alphanumeric(3, 34)),
        google: format!("AIza{}", random_alphanumeric(4, 35)),
    }
}

fn secret_tree(keys: &Keys) -> Tree {
    let tree = Tree::new();
    tree.file(
        "svc/.env",
        format!("OPENAI_API_KEY={}\nANTHROPIC_API_KEY={}\nPLACEHOLDER=sk-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n", keys.openai, keys.anthropic),
    );
    tree.file(
        "svc/settings.py",
        format!("GOOGLE_KEY = \"{}\"\n", keys.google),
    );
    tree.file(
        "svc/notes.md",
        format!("Token for the hub: {}\n", keys.huggingface),
    );
    tree
}

#[test]
fn provider_keys_are_found_with_their_format() {
    let keys = keys();
    let tree = secret_tree(&keys);
    let scan = tree.scan();
    scan.assert_rows(vec![
        row("svc/.env", 1, "secret", "openai-api-key"),
        row("svc/.env", 2, "secret", "anthropic-api-key"),
        row("svc/notes.md", 1, "secret", "huggingface-token"),
        row("svc/settings.py", 1, "secret", "google-api-key"),
    ]);
}

#[test]
fn secret_value_never_appears_in_a_finding() {
    let keys = keys();
    let tree = secret_tree(&keys);
    let scan = tree.scan();
    let serialised = serde_json::to_string(&scan.findings).expect("findings serialise");
    for key in [
        &keys.openai,
        &keys.anthropic,
        &keys.huggingface,
        &keys.google,
    ] {
        assert!(
            !serialised.contains(key.as_str()),
            "a finding contains the key {}…",
            &key[..8]
        );
    }
}

#[test]
fn secret_carries_prefix_hash_and_redacted_evidence() {
    let keys = keys();
    let tree = secret_tree(&keys);
    let scan = tree.scan();
    let anthropic = scan.get("svc/.env", "secret", "anthropic-api-key");
    assert_eq!(attribute(anthropic, "prefix"), "sk-ant-a");
    assert_eq!(
        attribute(anthropic, "sha256"),
        hex::encode(Sha256::digest(keys.anthropic.as_bytes()))
    );
    assert_eq!(attribute(anthropic, "provider"), "anthropic");
    assert_eq!(attribute(anthropic, "category"), "hosted_api");
    assert_eq!(
        anthropic.evidence.as_deref(),
        Some("ANTHROPIC_API_KEY=sk-ant-a…[redacted]")
    );
}
