use proto::FindingKind;
use serde_json::json;

use super::*;

const SUB: &str = "11111111-2222-3333-4444-555555555555";

fn context() -> SubscriptionContext<'static> {
    SubscriptionContext {
        scope_id: "azure:11111111-2222-3333-4444-555555555555",
        subscription: SUB,
    }
}

fn attributes(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

fn account(kind: &str) -> Account {
    serde_json::from_value(json!({
        "id": format!("/subscriptions/{SUB}/resourceGroups/rg-ai/providers/Microsoft.CognitiveServices/accounts/chat"),
        "name": "chat",
        "type": "Microsoft.CognitiveServices/accounts",
        "location": "swedencentral",
        "kind": kind,
        "sku": {"name": "S0"},
        "properties": {"endpoint": "https://chat.openai.azure.com/", "publicNetworkAccess": "Enabled"}
    }))
    .unwrap()
}

#[test]
fn openai_deployment_names_model_and_account() {
    let deployment: Deployment = serde_json::from_value(json!({
        "id": format!("/subscriptions/{SUB}/resourceGroups/rg-ai/providers/Microsoft.CognitiveServices/accounts/chat/deployments/gpt4o"),
        "name": "gpt4o",
        "type": "Microsoft.CognitiveServices/accounts/deployments",
        "sku": {"name": "GlobalStandard", "capacity": 50},
        "properties": {
            "model": {"format": "OpenAI", "name": "gpt-4o", "version": "2024-08-06"},
            "raiPolicyName": "Microsoft.DefaultV2",
            "versionUpgradeOption": "OnceNewDefaultVersionAvailable"
        }
    }))
    .unwrap();
    let finding = context().deployment(&account("OpenAI"), &deployment);

    assert_eq!(finding.subject, "azure-openai-deployment");
    assert_eq!(finding.kind, FindingKind::CloudResource);
    assert_eq!(finding.project_root, "cognitive-services/chat");
    assert_eq!(finding.path, deployment.id);
    assert_eq!(
        finding.external_id,
        Finding::stable_id(
            context().scope_id,
            &deployment.id,
            FindingKind::CloudResource,
            "azure-openai-deployment"
        )
    );
    assert_eq!(
        finding.attributes,
        attributes(&[
            ("account", "chat"),
            ("capacity", "50"),
            ("category", "hosted_api"),
            ("gpai", "true"),
            ("location", "swedencentral"),
            ("model_format", "OpenAI"),
            ("model_id", "gpt-4o"),
            ("model_version", "2024-08-06"),
            ("provider", "azure-openai"),
            ("rai_policy", "Microsoft.DefaultV2"),
            ("resource_group", "rg-ai"),
            ("resource_name", "gpt4o"),
            (
                "resource_type",
                "Microsoft.CognitiveServices/accounts/deployments"
            ),
            ("service", "cognitive-services"),
            ("sku", "GlobalStandard"),
            ("subscription", SUB),
            ("version_upgrade", "OnceNewDefaultVersionAvailable"),
        ])
    );
}

#[test]
fn other_model_format_is_ai_services_deployment() {
    let deployment: Deployment = serde_json::from_value(json!({
        "id": "/subscriptions/s/resourceGroups/rg/providers/Microsoft.CognitiveServices/accounts/hub/deployments/embed",
        "name": "embed",
        "properties": {"model": {"format": "Cohere", "name": "Cohere-embed-v3-english", "version": "1"}}
    }))
    .unwrap();
    let finding = context().deployment(&account("AIServices"), &deployment);
    assert_eq!(finding.subject, "azure-ai-services-deployment");
    assert_eq!(finding.attributes["provider"], "azure-ai-services");
    assert!(!finding.attributes.contains_key("gpai"));
    assert!(!finding.attributes.contains_key("sku"));
}

#[test]
fn account_without_optional_fields_has_fewer_attributes() {
    let account: Account = serde_json::from_value(json!({
        "id": "/subscriptions/s/resourceGroups/rg/providers/Microsoft.CognitiveServices/accounts/bare",
        "name": "bare",
        "kind": "OpenAI"
    }))
    .unwrap();
    let finding = context().account(&account);
    assert_eq!(finding.subject, "azure-openai-account");
    assert_eq!(
        finding.attributes,
        attributes(&[
            ("category", "infrastructure"),
            ("kind", "OpenAI"),
            ("provider", "azure-openai"),
            ("resource_group", "rg"),
            ("resource_name", "bare"),
            ("service", "cognitive-services"),
            ("subscription", SUB),
        ])
    );
}

#[test]
fn online_deployment_joins_its_endpoint_root() {
    let deployment: OnlineDeployment = serde_json::from_value(json!({
        "id": "/subscriptions/s/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/ws/onlineEndpoints/score/deployments/blue",
        "name": "blue",
        "sku": {"name": "Default", "capacity": 2},
        "properties": {
            "endpointComputeType": "Managed",
            "model": "azureml://registries/azureml-meta/models/Llama-2-7b-chat/versions/24",
            "instanceType": "Standard_NC24ads_A100_v4"
        }
    }))
    .unwrap();
    let finding = context().online_deployment("ws", "score", &deployment);
    assert_eq!(finding.project_root, "machine-learning/ws/score");
    assert_eq!(finding.attributes["model_id"], "Llama-2-7b-chat");
    assert_eq!(finding.attributes["model_version"], "24");
    assert_eq!(finding.attributes["gpai"], "true");
    assert_eq!(finding.attributes["capacity"], "2");
    assert_eq!(finding.attributes["compute_type"], "Managed");
    assert_eq!(finding.attributes["endpoint"], "score");
}

#[test]
fn endpoint_traffic_is_listed_in_name_order() {
    let endpoint: OnlineEndpoint = serde_json::from_value(json!({
        "id": "/subscriptions/s/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/ws/onlineEndpoints/score",
        "name": "score",
        "properties": {"authMode": "Key", "traffic": {"green": 10, "blue": 90}}
    }))
    .unwrap();
    let finding = context().online_endpoint("ws", &endpoint);
    assert_eq!(finding.attributes["traffic"], "blue=90,green=10");
    assert_eq!(finding.attributes["auth_mode"], "Key");
    assert_eq!(finding.attributes["category"], "serving");
}

#[test]
fn gpai_names_cover_chat_models_only() {
    assert!(is_gpai_model("gpt-4o-mini"));
    assert!(is_gpai_model("o3-mini"));
    assert!(is_gpai_model("Meta-Llama-3.1-70B-Instruct"));
    assert!(is_gpai_model("Phi-4"));
    assert!(!is_gpai_model("text-embedding-3-large"));
    assert!(!is_gpai_model("whisper"));
    assert!(!is_gpai_model("fraud-detector"));
}
