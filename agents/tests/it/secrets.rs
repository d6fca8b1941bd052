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

#[test]
fn key_on_a_client_line_is_redacted_everywhere() {
    let key = format!("sk-proj-{}", random_alphanumeric(5, 48));
    let tree = Tree::new();
    tree.file(
        "app.py",
        format!("import openai\nclient = openai.OpenAI(api_key=\"{key}\")\n"),
    );
    let scan = tree.scan();
    scan.assert_rows(vec![
        row("app.py", 1, "import", "openai"),
        row("app.py", 2, "client", "openai"),
        row("app.py", 2, "secret", "openai-api-key"),
    ]);
    let client = scan.get("app.py", "client", "openai");
    assert_eq!(
        client.evidence.as_deref(),
        Some("client = openai.OpenAI(api_key=\"sk-proj-…[redacted]\")")
    );
    let serialised = serde_json::to_string(&scan.findings).expect("findings serialise");
    assert!(!serialised.contains(&key), "a finding contains the key");
}

#[test]
fn key_cut_short_in_evidence_is_still_redacted() {
    let key = format!("sk-proj-{}", random_alphanumeric(6, 48));
    // The excerpt keeps 200 characters, so it ends 16 characters into the key.
    let padding = "x".repeat(150);
    let tree = Tree::new();
    tree.file(
        "long.py",
        format!("client = OpenAI(note=\"{padding}\", api_key=\"{key}\")\n"),
    );
    let scan = tree.scan();
    let client = scan.get("long.py", "client", "openai");
    let evidence = client.evidence.as_deref().unwrap_or_default();
    assert!(
        !evidence.contains(&key[8..20]),
        "evidence keeps part of the key: {evidence}"
    );
    assert!(
        evidence.ends_with("sk-proj-…[redacted]…") || evidence.ends_with("[redacted]"),
        "{evidence}"
    );
}

#[test]
fn two_keys_of_one_format_are_two_findings() {
    let first = format!("sk-proj-{}", random_alphanumeric(7, 48));
    let second = format!("sk-proj-{}", random_alphanumeric(8, 48));
    let tree = Tree::new();
    tree.file(
        ".env",
        format!("# service keys\nOPENAI_PRIMARY={first}\nOPENAI_FALLBACK={second}\n"),
    );
    let scan = tree.scan();
    scan.assert_rows(vec![
        row(".env", 2, "secret", "openai-api-key"),
        row(".env", 3, "secret", "openai-api-key"),
    ]);
    let ids: std::collections::BTreeSet<&str> = scan
        .findings
        .iter()
        .map(|finding| finding.external_id.as_str())
        .collect();
    assert_eq!(ids.len(), 2);
}

#[test]
fn keys_without_a_known_prefix_are_redacted() {
    let azure_key = random_alphanumeric(9, 32).to_lowercase();
    let js_key = random_alphanumeric(10, 32);
    let mistral_key = random_alphanumeric(11, 32);
    let tree = Tree::new();
    tree.file(
        "app/azure.py",
        format!(
            "from openai import AzureOpenAI\naz = AzureOpenAI(api_key=\"{azure_key}\", azure_endpoint=\"https://x.openai.azure.com\")\n"
        ),
    );
    tree.file(
        "web/chat.ts",
        format!(
            "import {{ Mistral }} from \"@mistralai/mistralai\";\nconst client = new Mistral({{ apiKey: \"{js_key}\" }});\n"
        ),
    );
    tree.file("app/.env", format!("MISTRAL_API_KEY={mistral_key}\n"));
    let scan = tree.scan();
    let azure_client = scan.get("app/azure.py", "client", "azure-openai");
    assert_eq!(
        azure_client.evidence.as_deref(),
        Some(
            "az = AzureOpenAI(api_key=\"[redacted]\", azure_endpoint=\"https://x.openai.azure.com\")"
        )
    );
    let serialised = serde_json::to_string(&scan.findings).expect("findings serialise");
    for key in [&azure_key, &js_key, &mistral_key] {
        assert!(
            !serialised.contains(key.as_str()),
            "a finding contains the key {}…",
            &key[..4]
        );
    }
    scan.assert_rows(vec![
        row("app/azure.py", 1, "import", "openai"),
        row("app/azure.py", 2, "api_endpoint", "azure-openai"),
        row("app/azure.py", 2, "client", "azure-openai"),
        row("web/chat.ts", 1, "import", "mistral"),
        row("web/chat.ts", 2, "client", "mistral"),
    ]);
    let azure_endpoint = scan.get("app/azure.py", "api_endpoint", "azure-openai");
    assert_eq!(azure_endpoint.evidence, azure_client.evidence);
    let mistral_client = scan.get("web/chat.ts", "client", "mistral");
    assert_eq!(
        mistral_client.evidence.as_deref(),
        Some("const client = new Mistral({ apiKey: \"[redacted]\" });")
    );
}
