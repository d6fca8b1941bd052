//! Turns a good inventory row into its two findings.

use std::collections::BTreeMap;

use proto::{Declaration, Finding, FindingKind, HumanOversight, ModelSource, Role};

use super::InventoryEntry;

/// Builds the `inventory_entry` and `declaration` findings of one row.
///
/// Both findings have `path` = the row's [`InventoryEntry::key`] and the project root
/// `<vendor>/<product>`, so each tool becomes one AI system. The external ids derive from
/// the scope, the key and the kind only, so a re-import of the same list, in any row order
/// or letter case, yields the same ids.
pub(crate) fn entry_findings(scope: &str, file_name: &str, entry: &InventoryEntry) -> [Finding; 2] {
    let key = entry.key();
    let project_root = format!(
        "{}/{}",
        entry.vendor.replace('/', "-"),
        entry.product.replace('/', "-")
    );
    let listed = Finding {
        source: "inventory".to_owned(),
        scope: scope.to_owned(),
        external_id: Finding::stable_id(scope, &key, FindingKind::InventoryEntry, &key),
        kind: FindingKind::InventoryEntry,
        subject: entry.name(),
        path: key.clone(),
        line: None,
        confidence: 1.0,
        project_root: project_root.clone(),
        attributes: entry_attributes(entry),
        evidence: None,
    };
    let mut declared_attributes = declaration(entry).to_attributes();
    declared_attributes.insert("category".to_owned(), "declaration".to_owned());
    let declared = Finding {
        external_id: Finding::stable_id(scope, &key, FindingKind::Declaration, &key),
        kind: FindingKind::Declaration,
        subject: file_name.to_owned(),
        attributes: declared_attributes,
        ..listed.clone()
    };
    [listed, declared]
}

fn entry_attributes(entry: &InventoryEntry) -> BTreeMap<String, String> {
    let data_categories: Vec<&str> = entry
        .data_categories
        .iter()
        .map(|category| category.as_str())
        .collect();
    let mut attributes = BTreeMap::from([
        ("category".to_owned(), "hosted_api".to_owned()),
        ("vendor".to_owned(), entry.vendor.clone()),
        ("product".to_owned(), entry.product.clone()),
        ("purpose".to_owned(), entry.purpose.clone()),
        (
            "use_category".to_owned(),
            entry.use_category.as_str().to_owned(),
        ),
        ("human_review".to_owned(), entry.human_review.to_string()),
        ("client_facing".to_owned(), entry.client_facing.to_string()),
    ]);
    if !data_categories.is_empty() {
        attributes.insert("data_categories".to_owned(), data_categories.join(","));
    }
    if let Some(owner) = &entry.owner {
        attributes.insert("owner".to_owned(), owner.clone());
    }
    if let Some(provider) = provider(entry) {
        attributes.insert("provider".to_owned(), provider.to_owned());
    }
    attributes
}

/// Builds the facts a row states about its tool.
///
/// The firm bought the tool, so it is a deployer and the model is embedded in a bought
/// product. `client facing: no` leaves `interacts_with_people` unknown, because staff who
/// use an internal tool still interact with it.
pub(crate) fn declaration(entry: &InventoryEntry) -> Declaration {
    let processes_personal_data = if entry.data_categories.is_empty() {
        None
    } else {
        Some(
            entry
                .data_categories
                .iter()
                .any(|category| category.is_personal()),
        )
    };
    let human_oversight = if entry.human_review {
        HumanOversight::InTheLoop
    } else {
        HumanOversight::None
    };
    Declaration {
        name: Some(entry.name()),
        purpose: Some(entry.purpose.clone()),
        role: Some(Role::Deployer),
        human_oversight: Some(human_oversight),
        interacts_with_people: entry.client_facing.then_some(true),
        processes_personal_data,
        model_source: Some(ModelSource::EmbeddedSaas),
        ..Declaration::default()
    }
}

/// Names the model provider when the vendor or product names a known one.
fn provider(entry: &InventoryEntry) -> Option<&'static str> {
    let text = format!("{} {}", entry.vendor, entry.product).to_lowercase();
    let words: Vec<&str> = text
        .split(|character: char| !character.is_alphanumeric())
        .filter(|word| !word.is_empty())
        .collect();
    let has = |word: &str| words.contains(&word);
    let provider = if has("azure") && has("openai") {
        "azure-openai"
    } else if has("openai") || has("chatgpt") {
        "openai"
    } else if has("anthropic") || has("claude") {
        "anthropic"
    } else if has("gemini") || has("vertex") {
        "google"
    } else if has("bedrock") {
        "aws-bedrock"
    } else if has("cohere") {
        "cohere"
    } else if has("mistral") {
        "mistral"
    } else if has("huggingface") || (has("hugging") && has("face")) {
        "huggingface"
    } else if has("llama") {
        "meta"
    } else {
        return None;
    };
    Some(provider)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inventory::{DataCategory, UseCategory};

    fn entry(vendor: &str, product: &str) -> InventoryEntry {
        InventoryEntry {
            row: 2,
            vendor: vendor.to_owned(),
            product: product.to_owned(),
            purpose: "drafts valuation reports".to_owned(),
            use_category: UseCategory::Drafting,
            data_categories: vec![DataCategory::ClientConfidential, DataCategory::Personal],
            human_review: true,
            client_facing: false,
            owner: Some("Valuation team".to_owned()),
        }
    }

    #[test]
    fn provider_is_recognised_from_whole_words() {
        assert_eq!(provider(&entry("OpenAI", "ChatGPT Team")), Some("openai"));
        assert_eq!(
            provider(&entry("Microsoft", "Azure OpenAI")),
            Some("azure-openai")
        );
        assert_eq!(
            provider(&entry("Acme", "Claude for Work")),
            Some("anthropic")
        );
        assert_eq!(provider(&entry("Claudette Ltd", "Survey Pro")), None);
    }

    #[test]
    fn declaration_states_role_oversight_and_personal_data() {
        let declared = declaration(&entry("Acme", "Report Writer"));
        assert_eq!(declared.name.as_deref(), Some("Acme Report Writer"));
        assert_eq!(declared.role, Some(Role::Deployer));
        assert_eq!(declared.human_oversight, Some(HumanOversight::InTheLoop));
        assert_eq!(declared.interacts_with_people, None);
        assert_eq!(declared.processes_personal_data, Some(true));
    }

    #[test]
    fn findings_share_root_and_differ_in_id() {
        let [listed, declared] =
            entry_findings("inventory:tools.csv", "tools.csv", &entry("Acme", "A/B"));
        assert_eq!(listed.project_root, "Acme/A-B");
        assert_eq!(declared.project_root, "Acme/A-B");
        assert_eq!(listed.path, "acme/a%2fb");
        assert_ne!(listed.external_id, declared.external_id);
        assert_eq!(declared.subject, "tools.csv");
        let read_back =
            Declaration::from_attributes(&declared.attributes).expect("valid attributes");
        assert_eq!(read_back, declaration(&entry("Acme", "A/B")));
    }
}
