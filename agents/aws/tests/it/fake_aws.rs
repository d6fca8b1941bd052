//! A fake AWS endpoint on wiremock, bound to 127.0.0.1, responding with the documented JSON
//! and XML shapes. Requests are told apart by the SigV4 credential scope (the region), the
//! `X-Amz-Target` header (SageMaker) or the path (Bedrock, Lambda, Account).

use serde_json::{Value, json};
use wiremock::matchers::{body_string_contains, header, header_regex, method, path};
use wiremock::{Mock, MockBuilder, MockServer, ResponseTemplate};

/// Account of the base credentials.
pub(crate) const ACCOUNT: &str = "111122223333";

/// Priority of the empty responses every test mounts first; lower numbers win in wiremock.
const FALLBACK: u8 = 50;

/// SageMaker listings and the JSON member holding their items.
const SAGEMAKER_LISTINGS: [(&str, &str); 6] = [
    ("ListEndpoints", "Endpoints"),
    ("ListEndpointConfigs", "EndpointConfigs"),
    ("ListModels", "Models"),
    ("ListNotebookInstances", "NotebookInstances"),
    ("ListTrainingJobs", "TrainingJobSummaries"),
    ("ListModelPackageGroups", "ModelPackageGroupSummaryList"),
];

/// Bedrock and Lambda listings: method, path, and the empty response.
fn rest_listings() -> Vec<(&'static str, &'static str, Value)> {
    vec![
        ("GET", "/custom-models", json!({"modelSummaries": []})),
        (
            "GET",
            "/provisioned-model-throughputs",
            json!({"provisionedModelSummaries": []}),
        ),
        ("GET", "/guardrails", json!({"guardrails": []})),
        ("GET", "/logging/modelinvocations", json!({})),
        ("POST", "/agents", json!({"agentSummaries": []})),
        ("GET", "/2015-03-31/functions", json!({"Functions": []})),
    ]
}

/// The fake endpoint.
pub(crate) struct FakeAws {
    /// The wiremock server.
    pub(crate) server: MockServer,
}

impl FakeAws {
    /// Starts the server on 127.0.0.1 and answers `GetCallerIdentity` for [`ACCOUNT`].
    pub(crate) async fn start() -> FakeAws {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
        let server = MockServer::builder().listener(listener).start().await;
        let fake = FakeAws { server };
        Mock::given(method("POST"))
            .and(path("/"))
            .and(body_string_contains("Action=GetCallerIdentity"))
            .respond_with(xml(&format!(
                "<GetCallerIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><GetCallerIdentityResult><Arn>arn:aws:iam::{ACCOUNT}:user/scanner</Arn><UserId>AIDAEXAMPLE</UserId><Account>{ACCOUNT}</Account></GetCallerIdentityResult><ResponseMetadata><RequestId>7a62c49f</RequestId></ResponseMetadata></GetCallerIdentityResponse>"
            )))
            .mount(&fake.server)
            .await;
        fake
    }

    /// Connector config for the base account in `regions`.
    pub(crate) fn config(&self, regions: &[&str]) -> Value {
        json!({"accounts": [ACCOUNT], "regions": regions, "endpoint_url": self.server.uri()})
    }

    /// Answers every listing in `region` with an empty page, below any test's own mocks.
    pub(crate) async fn empty_region(&self, region: &str) {
        for (operation, member) in SAGEMAKER_LISTINGS {
            sagemaker(region, operation)
                .respond_with(aws_json(json!({ member: [] })))
                .with_priority(FALLBACK)
                .mount(&self.server)
                .await;
        }
        for (verb, route, body) in rest_listings() {
            in_region(region)
                .and(method(verb))
                .and(path(route))
                .respond_with(rest_json(body))
                .with_priority(FALLBACK)
                .mount(&self.server)
                .await;
        }
    }

    /// Mounts `mock`.
    pub(crate) async fn mount(&self, mock: Mock) {
        mock.mount(&self.server).await;
    }

    /// Requests received whose form body contains `fragment` (STS).
    pub(crate) async fn count_body(&self, fragment: &str) -> usize {
        let requests = self.server.received_requests().await.unwrap_or_default();
        requests
            .iter()
            .filter(|request| String::from_utf8_lossy(&request.body).contains(fragment))
            .count()
    }

    /// Requests received whose `X-Amz-Target` or path names `operation`.
    pub(crate) async fn count(&self, operation: &str) -> usize {
        let requests = self.server.received_requests().await.unwrap_or_default();
        requests
            .iter()
            .filter(|request| {
                let target = request
                    .headers
                    .get("x-amz-target")
                    .and_then(|value| value.to_str().ok())
                    .unwrap_or_default();
                target.ends_with(&format!(".{operation}")) || request.url.path() == operation
            })
            .count()
    }
}

/// Matches requests signed for `region`.
pub(crate) fn in_region(region: &str) -> MockBuilder {
    Mock::given(header_regex("authorization", &format!("/{region}/")))
}

/// Matches one SageMaker operation in `region`.
pub(crate) fn sagemaker(region: &str, operation: &str) -> MockBuilder {
    in_region(region).and(method("POST")).and(header(
        "x-amz-target",
        format!("SageMaker.{operation}").as_str(),
    ))
}

/// Matches one REST (Bedrock, Lambda) route in `region`.
pub(crate) fn rest(region: &str, verb: &str, route: &str) -> MockBuilder {
    in_region(region).and(method(verb)).and(path(route))
}

/// Builds a 200 response of the AWS JSON 1.1 protocol (SageMaker, Organizations).
pub(crate) fn aws_json(body: Value) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_raw(body.to_string(), "application/x-amz-json-1.1")
}

/// Builds a 200 response of the REST JSON protocol (Bedrock, Lambda, Account).
pub(crate) fn rest_json(body: Value) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_raw(body.to_string(), "application/json")
}

/// Builds an error response as AWS sends it for JSON protocols, with the code in both the
/// `X-Amzn-ErrorType` header (REST JSON) and the `__type` member (JSON 1.1).
pub(crate) fn aws_error(status: u16, code: &str, message: &str) -> ResponseTemplate {
    ResponseTemplate::new(status)
        .insert_header("x-amzn-errortype", code)
        .set_body_raw(
            json!({"__type": code, "message": message}).to_string(),
            "application/x-amz-json-1.1",
        )
}

/// Builds an XML response (STS).
pub(crate) fn xml(body: &str) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_raw(body.to_owned(), "text/xml")
}

/// Builds an STS error response.
pub(crate) fn sts_error(status: u16, code: &str, message: &str) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_raw(
        format!(
            "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><Error><Type>Sender</Type><Code>{code}</Code><Message>{message}</Message></Error><RequestId>c6104cbe</RequestId></ErrorResponse>"
        ),
        "text/xml",
    )
}
