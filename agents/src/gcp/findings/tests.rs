use std::collections::BTreeMap;

use serde_json::json;

use super::*;

const P: &str = "projects/acme-ml/locations/europe-west4";

fn context() -> ProjectContext<'static> {
    ProjectContext {
        scope_id: "gcp:acme-ml",
        project: "acme-ml",
    }
}

fn attributes(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

fn endpoint() -> Endpoint {
    serde_json::from_value(json!({
        "name": format!("{P}/endpoints/77"),
        "displayName": "claims-triage",
        "deployedModels": [
            {
                "id": "501",
                "model": format!("{P}/models/9"),
                "modelVersionId": "2",
                "displayName": "triage-v2",
                "dedicatedResources": {
                    "machineSpec": {"machineType": "n1-standard-8", "acceleratorType": "NVIDIA_TESLA_T4", "acceleratorCount": 1},
                    "minReplicaCount": 1,
                    "maxReplicaCount": 3
                }
            },
            {"id": "502", "model": "publishers/google/models/gemini-2.0-flash-001"}
        ],
        "trafficSplit": {"501": 80, "502": 20}
    }))
    .unwrap()
}

fn model() -> Model {
    serde_json::from_value(json!({
        "name": format!("{P}/models/9"),
        "displayName": "triage-classifier",
        "versionId": "2",
        "artifactUri": "gs://acme-models/triage",
        "containerSpec": {"imageUri": "europe-docker.pkg.dev/vertex-ai/prediction/sklearn-cpu.1-3:latest"},
        "modelSourceInfo": {"sourceType": "CUSTOM"}
    }))
    .unwrap()
}

#[test]
fn endpoint_deployments_and_model_share_root() {
    let findings = context().vertex(&[model()], &[endpoint()]);
    let summary: Vec<(&str, &str, &str)> = findings
        .iter()
        .map(|f| (f.subject.as_str(), f.path.as_str(), f.project_root.as_str()))
        .collect();
    let endpoint_path = format!("{P}/endpoints/77");
    assert_eq!(
        summary,
        vec![
            (
                "vertex-ai-model",
                format!("{P}/models/9").as_str(),
                "vertex-ai/claims-triage"
            ),
            (
                "vertex-ai-endpoint",
                endpoint_path.as_str(),
                "vertex-ai/claims-triage"
            ),
            (
                "vertex-ai-deployed-model",
                format!("{endpoint_path}/deployedModels/501").as_str(),
                "vertex-ai/claims-triage"
            ),
            (
                "vertex-ai-deployed-model",
                format!("{endpoint_path}/deployedModels/502").as_str(),
                "vertex-ai/claims-triage"
            ),
        ]
    );
}

#[test]
fn deployed_model_carries_machine_and_traffic() {
    let findings = context().vertex(&[model()], &[endpoint()]);
    assert_eq!(
        findings[2].attributes,
        attributes(&[
            ("accelerator_count", "1"),
            ("accelerator_type", "NVIDIA_TESLA_T4"),
            ("category", "serving"),
            ("deployed_model_id", "501"),
            ("endpoint", "claims-triage"),
            ("location", "europe-west4"),
            ("machine_type", "n1-standard-8"),
            ("max_replicas", "3"),
            ("min_replicas", "1"),
            ("model", &format!("{P}/models/9")),
            ("model_id", "triage-classifier"),
            ("model_version_id", "2"),
            ("project", "acme-ml"),
            ("provider", "google-vertex"),
            ("resource_name", "triage-v2"),
            ("resource_type", "aiplatform.googleapis.com/DeployedModel"),
            ("service", "vertex-ai"),
            ("traffic_percent", "80"),
        ])
    );
}

#[test]
fn publisher_model_is_gpai() {
    let findings = context().vertex(&[], &[endpoint()]);
    let gemini = &findings[2];
    assert_eq!(gemini.attributes["model_id"], "gemini-2.0-flash-001");
    assert_eq!(gemini.attributes["gpai"], "true");
    assert_eq!(gemini.attributes["resource_name"], "502");
    assert!(!gemini.attributes.contains_key("machine_type"));
}

#[test]
fn model_attributes_follow_response() {
    let findings = context().vertex(&[model()], &[]);
    assert_eq!(
        findings[0].attributes,
        attributes(&[
            ("artifact_uri", "gs://acme-models/triage"),
            ("category", "artefact"),
            (
                "container_image",
                "europe-docker.pkg.dev/vertex-ai/prediction/sklearn-cpu.1-3:latest"
            ),
            ("location", "europe-west4"),
            ("model_id", "triage-classifier"),
            ("project", "acme-ml"),
            ("provider", "google-vertex"),
            ("resource_name", "triage-classifier"),
            ("resource_type", "aiplatform.googleapis.com/Model"),
            ("service", "vertex-ai"),
            ("source_type", "CUSTOM"),
            ("version_id", "2"),
        ])
    );
    assert_eq!(findings[0].project_root, "vertex-ai/triage-classifier");
}

#[test]
fn model_links_to_endpoint_from_its_own_list() {
    let mut model = model();
    model.deployed_models = serde_json::from_value(
        json!([{"endpoint": format!("{P}/endpoints/77"), "deployedModelId": "501"}]),
    )
    .unwrap();
    let mut endpoint = endpoint();
    endpoint.deployed_models.clear();
    let findings = context().vertex(&[model], &[endpoint]);
    assert_eq!(findings[0].project_root, "vertex-ai/claims-triage");
}

#[test]
fn workbench_instance_reads_zone_and_accelerator() {
    let instance: Instance = serde_json::from_value(json!({
        "name": "projects/acme-ml/locations/europe-west4-a/instances/research-nb",
        "state": "ACTIVE",
        "gceSetup": {"machineType": "n1-standard-4", "acceleratorConfigs": [{"type": "NVIDIA_TESLA_T4", "coreCount": "1"}]}
    }))
    .unwrap();
    let finding = context().workbench_instance(&instance);
    assert_eq!(finding.subject, "vertex-ai-workbench-instance");
    assert_eq!(finding.project_root, "workbench/research-nb");
    assert_eq!(
        finding.attributes,
        attributes(&[
            ("accelerator_count", "1"),
            ("accelerator_type", "NVIDIA_TESLA_T4"),
            ("category", "infrastructure"),
            ("location", "europe-west4-a"),
            ("machine_type", "n1-standard-4"),
            ("project", "acme-ml"),
            ("provider", "google-vertex"),
            ("resource_name", "research-nb"),
            ("resource_type", "notebooks.googleapis.com/Instance"),
            ("service", "workbench"),
            ("state", "ACTIVE"),
        ])
    );
}

#[test]
fn gpai_names_cover_foundation_models_only() {
    assert!(is_gpai_model("gemini-1.5-pro-002"));
    assert!(is_gpai_model("Llama-3.1-8B-Instruct"));
    assert!(!is_gpai_model("text-embedding-005"));
    assert!(!is_gpai_model("triage-classifier"));
}
