//! Vertex AI listings against drongo, a REST emulator of Google Cloud (PyPI `drongo==0.8.0`),
//! started on 127.0.0.1 for each test. The token exchange and Workbench, which drongo does
//! not serve, go to a local server with the documented shapes.

use std::collections::BTreeMap;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::{EU, PROJECT, US, crawl, mount_token, scope, source_for, spec};

const VENV_BINARY: &str = "/var/tmp/secruna-py/bin/drongo";

/// A drongo server process, killed when dropped.
struct Drongo {
    child: Child,
    url: String,
}

impl Drop for Drongo {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Finds drongo through the `DRONGO` variable or the project's Python virtual environment.
fn drongo_binary() -> PathBuf {
    if let Some(path) = std::env::var_os("DRONGO") {
        let path = PathBuf::from(path);
        assert!(
            path.is_file(),
            "DRONGO names {}, which is not a file: install drongo with `pip install 'drongo==0.8.0'` \
             and point DRONGO at its binary",
            path.display()
        );
        return path;
    }
    if Path::new(VENV_BINARY).is_file() {
        return PathBuf::from(VENV_BINARY);
    }
    panic!(
        "drongo is not installed: run `python3 -m venv /var/tmp/secruna-py && \
         /var/tmp/secruna-py/bin/pip install 'drongo==0.8.0'`, or set DRONGO to the drongo binary"
    );
}

fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("a free local port");
    listener.local_addr().unwrap().port()
}

impl Drongo {
    /// Starts drongo and waits until it responds, for at most 20 seconds.
    async fn start() -> Drongo {
        let binary = drongo_binary();
        let port = free_port();
        let child = Command::new(&binary)
            .args(["server", "--host", "127.0.0.1", "--port", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|err| panic!("cannot start {}: {err}", binary.display()));
        let drongo = Drongo {
            child,
            url: format!("http://127.0.0.1:{port}"),
        };
        let probe = format!("{}/v1/projects/probe/locations/{US}/models", drongo.url);
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if reqwest::get(&probe)
                .await
                .is_ok_and(|r| r.status().is_success())
            {
                return drongo;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("drongo did not answer on {} within 20 s", drongo.url);
    }

    async fn post(&self, route: &str, body: Value) -> Value {
        let response = reqwest::Client::new()
            .post(format!("{}{route}", self.url))
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
            .await
            .unwrap();
        assert!(
            response.status().is_success(),
            "{route}: {}",
            response.status()
        );
        serde_json::from_slice(&response.bytes().await.unwrap()).unwrap()
    }

    /// Uploads a model and returns its resource name from the finished operation.
    async fn upload_model(&self, location: &str, model: Value) -> String {
        let route = format!("/v1/projects/{PROJECT}/locations/{location}/models:upload");
        let operation = self.post(&route, json!({"model": model})).await;
        assert_eq!(operation["done"], true);
        operation["response"]["model"].as_str().unwrap().to_owned()
    }
}

fn attributes(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    let common = [
        ("project", PROJECT),
        ("provider", "google-vertex"),
        ("service", "vertex-ai"),
    ];
    common
        .iter()
        .chain(pairs)
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

#[tokio::test]
async fn vertex_inventory_matches_emulator() {
    let drongo = Drongo::start().await;
    let server = MockServer::start().await;
    mount_token(&server).await;
    // Google leaves the item list out of an empty page.
    Mock::given(method("GET"))
        .and(path(format!(
            "/v2/projects/{PROJECT}/locations/-/instances"
        )))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({})))
        .mount(&server)
        .await;
    drongo
        .post(
            "/v3/projects",
            json!({"projectId": PROJECT, "displayName": "ACME ML"}),
        )
        .await;
    let image = "us-docker.pkg.dev/vertex-ai/prediction/sklearn-cpu.1-3:latest";
    let triage = json!({"displayName": "claims-triage", "artifactUri": "gs://acme/triage", "containerSpec": {"imageUri": image}});
    let triage = drongo.upload_model(US, triage).await;
    let gemma = drongo
        .upload_model(US, json!({"displayName": "gemma-2-9b-it"}))
        .await;
    let churn = drongo
        .upload_model(
            EU,
            json!({"displayName": "churn-model", "description": "Monthly churn"}),
        )
        .await;
    let endpoint_route = format!("/v1/projects/{PROJECT}/locations/{US}/endpoints");
    let created = drongo
        .post(&endpoint_route, json!({"displayName": "claims-endpoint"}))
        .await;
    let endpoint = created["response"]["name"].as_str().unwrap().to_owned();
    let deployed = json!({"deployedModel": {
        "model": triage, "displayName": "triage-live",
        "dedicatedResources": {"machineSpec": {"machineType": "n1-standard-4"}, "minReplicaCount": 1}
    }});
    let deploy = drongo
        .post(&format!("/v1/{endpoint}:deployModel"), deployed)
        .await;
    let deployed_id = deploy["response"]["deployedModel"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let source = source_for(&spec(&drongo.url, &server.uri(), &[], &[US, EU]));

    let scopes = source.scopes().await.unwrap();
    let (result, findings) = crawl(&source, &scope(PROJECT)).await;

    assert_eq!(scopes, [scope(PROJECT)]);
    let report = result.unwrap();
    assert_eq!(report.num_items, 5);
    assert!(
        report.is_complete() && report.issues.is_empty(),
        "{report:?}"
    );
    let rows: Vec<(&str, &str, &str, &BTreeMap<String, String>)> = findings
        .iter()
        .map(|f| {
            (
                f.subject.as_str(),
                f.path.as_str(),
                f.project_root.as_str(),
                &f.attributes,
            )
        })
        .collect();
    let deployed_path = format!("{endpoint}/deployedModels/{deployed_id}");
    let id = |name: &str| name.rsplit('/').next().unwrap().to_owned();
    let expected = [
        (
            "vertex-ai-model",
            churn.as_str(),
            "vertex-ai/churn-model",
            attributes(&[
                ("category", "artefact"),
                ("description", "Monthly churn"),
                ("location", EU),
                ("model_id", "churn-model"),
                ("resource_name", "churn-model"),
                ("resource_type", "aiplatform.googleapis.com/Model"),
            ]),
        ),
        (
            "vertex-ai-endpoint",
            endpoint.as_str(),
            "vertex-ai/claims-endpoint",
            attributes(&[
                ("category", "serving"),
                ("location", US),
                ("resource_name", "claims-endpoint"),
                ("resource_type", "aiplatform.googleapis.com/Endpoint"),
            ]),
        ),
        (
            "vertex-ai-deployed-model",
            deployed_path.as_str(),
            "vertex-ai/claims-endpoint",
            attributes(&[
                ("category", "serving"),
                ("deployed_model_id", &deployed_id),
                ("endpoint", "claims-endpoint"),
                ("location", US),
                ("machine_type", "n1-standard-4"),
                ("min_replicas", "1"),
                ("model", &triage),
                ("model_id", "claims-triage"),
                ("resource_name", "triage-live"),
                ("resource_type", "aiplatform.googleapis.com/DeployedModel"),
            ]),
        ),
        (
            "vertex-ai-model",
            triage.as_str(),
            "vertex-ai/claims-endpoint",
            attributes(&[
                ("artifact_uri", "gs://acme/triage"),
                ("category", "artefact"),
                ("container_image", image),
                ("location", US),
                ("model_id", "claims-triage"),
                ("resource_name", "claims-triage"),
                ("resource_type", "aiplatform.googleapis.com/Model"),
            ]),
        ),
        (
            "vertex-ai-model",
            gemma.as_str(),
            "vertex-ai/gemma-2-9b-it",
            attributes(&[
                ("category", "artefact"),
                ("gpai", "true"),
                ("location", US),
                ("model_id", "gemma-2-9b-it"),
                ("resource_name", "gemma-2-9b-it"),
                ("resource_type", "aiplatform.googleapis.com/Model"),
            ]),
        ),
    ];
    let mut expected: Vec<_> = expected
        .iter()
        .map(|(s, p, r, a)| (*s, *p, *r, a))
        .collect();
    expected.sort_by(|a, b| (a.1, a.0).cmp(&(b.1, b.0)));
    assert_eq!(
        rows,
        expected,
        "model ids {} {} {}",
        id(&triage),
        id(&gemma),
        id(&churn)
    );
}
