//! The connector against a fake AWS endpoint: paging, throttling, server errors, denied
//! calls, absent regions, malformed and minimal responses, and the Bedrock listings moto
//! does not emulate.

use agents::CoverageGap;
use serde_json::json;

use crate::fake_aws::{ACCOUNT, FakeAws, aws_error, aws_json, rest, rest_json, sagemaker};
use crate::support::{attributes, crawl, scope, source};

const US: &str = "us-east-1";
const EU: &str = "eu-west-1";

fn sagemaker_arn(resource: &str) -> String {
    format!("arn:aws:sagemaker:{US}:{ACCOUNT}:{resource}")
}

fn model(name: &str) -> serde_json::Value {
    json!({"ModelName": name, "ModelArn": sagemaker_arn(&format!("model/{name}")), "CreationTime": 1733300000})
}

async fn crawl_us(
    fake: &FakeAws,
) -> (
    Result<agents::CrawlReport, agents::CrawlError>,
    Vec<proto::Finding>,
) {
    let source = source(fake.config(&[US]));
    let scopes = source.scopes().await.unwrap();
    crawl(&*source, scope(&scopes, &format!("aws:{ACCOUNT}:{US}"))).await
}

#[tokio::test]
async fn sagemaker_listing_follows_three_pages_and_links_endpoint() {
    let fake = FakeAws::start().await;
    fake.empty_region(US).await;
    let first = sagemaker(US, "ListModels").respond_with(aws_json(
        json!({"Models": [model("model-a")], "NextToken": "page-2"}),
    ));
    fake.mount(first.with_priority(3)).await;
    for (token, body) in [
        (
            "page-2",
            json!({"Models": [model("model-b")], "NextToken": "page-3"}),
        ),
        ("page-3", json!({"Models": [model("model-c")]})),
    ] {
        let page = sagemaker(US, "ListModels").and(wiremock::matchers::body_partial_json(
            json!({"NextToken": token}),
        ));
        fake.mount(page.respond_with(aws_json(body)).with_priority(1))
            .await;
    }
    let endpoint = json!({"EndpointName": "fraud", "EndpointArn": sagemaker_arn("endpoint/fraud"), "EndpointStatus": "InService", "CreationTime": 1733300000, "LastModifiedTime": 1733300500});
    fake.mount(
        sagemaker(US, "ListEndpoints").respond_with(aws_json(json!({"Endpoints": [endpoint]}))),
    )
    .await;
    fake.mount(sagemaker(US, "DescribeEndpoint").respond_with(aws_json(
        json!({"EndpointName": "fraud", "EndpointConfigName": "fraud-config"}),
    )))
    .await;
    let variants = json!({
        "EndpointConfigName": "fraud-config",
        "ProductionVariants": [{"VariantName": "AllTraffic", "ModelName": "model-a"}],
        "ShadowProductionVariants": [{"VariantName": "Shadow", "ModelName": "model-c"}]
    });
    fake.mount(sagemaker(US, "DescribeEndpointConfig").respond_with(aws_json(variants)))
        .await;

    let (report, findings) = crawl_us(&fake).await;

    let report = report.unwrap();
    let rows: Vec<(&str, &str, &str)> = findings
        .iter()
        .map(|f| (f.subject.as_str(), f.path.as_str(), f.project_root.as_str()))
        .collect();
    assert_eq!(
        rows,
        vec![
            (
                "sagemaker-endpoint",
                sagemaker_arn("endpoint/fraud").as_str(),
                "sagemaker/fraud"
            ),
            (
                "sagemaker-model",
                sagemaker_arn("model/model-a").as_str(),
                "sagemaker/fraud"
            ),
            (
                "sagemaker-model",
                sagemaker_arn("model/model-b").as_str(),
                "sagemaker/model-b"
            ),
            (
                "sagemaker-model",
                sagemaker_arn("model/model-c").as_str(),
                "sagemaker/fraud"
            ),
        ]
    );
    assert_eq!(
        attributes(&findings[0]),
        vec![
            format!("account={ACCOUNT}"),
            "category=serving".to_owned(),
            "created=2024-12-04T08:13:20Z".to_owned(),
            "endpoint_config=fraud-config".to_owned(),
            "last_modified=2024-12-04T08:21:40Z".to_owned(),
            "models=model-a,model-c".to_owned(),
            "provider=aws-sagemaker".to_owned(),
            format!("region={US}"),
            "resource_name=fraud".to_owned(),
            "resource_type=AWS::SageMaker::Endpoint".to_owned(),
            "service=sagemaker".to_owned(),
            "status=InService".to_owned(),
        ]
    );
    assert_eq!(fake.count("ListModels").await, 3);
    assert_eq!(report.num_items, 4);
    assert!(report.is_complete(), "{report:?}");
}

#[tokio::test]
async fn throttling_codes_are_retried_until_success() {
    let fake = FakeAws::start().await;
    fake.empty_region(US).await;
    let throttled = sagemaker(US, "ListTrainingJobs").respond_with(aws_error(
        400,
        "ThrottlingException",
        "Rate exceeded",
    ));
    fake.mount(throttled.up_to_n_times(2).with_priority(1))
        .await;
    let job = json!({"TrainingJobName": "ranker", "TrainingJobArn": sagemaker_arn("training-job/ranker"), "TrainingJobStatus": "Completed", "CreationTime": 1733300000});
    fake.mount(
        sagemaker(US, "ListTrainingJobs")
            .respond_with(aws_json(json!({"TrainingJobSummaries": [job]})))
            .with_priority(2),
    )
    .await;
    let too_many = rest(US, "GET", "/2015-03-31/functions").respond_with(aws_error(
        429,
        "TooManyRequestsException",
        "Rate exceeded",
    ));
    fake.mount(too_many.up_to_n_times(1).with_priority(1)).await;
    let bedrock = rest(US, "GET", "/custom-models").respond_with(aws_error(
        400,
        "ThrottlingException",
        "Too many requests",
    ));
    fake.mount(bedrock.up_to_n_times(3).with_priority(1)).await;

    let (report, findings) = crawl_us(&fake).await;

    let report = report.unwrap();
    let subjects: Vec<&str> = findings.iter().map(|f| f.subject.as_str()).collect();
    assert_eq!(subjects, vec!["sagemaker-training-job"]);
    assert_eq!(findings[0].attributes["status"], "Completed");
    assert_eq!(fake.count("ListTrainingJobs").await, 3);
    assert_eq!(fake.count("/2015-03-31/functions").await, 2);
    assert_eq!(fake.count("/custom-models").await, 4);
    assert!(report.is_complete(), "{report:?}");
}

#[tokio::test]
async fn endless_throttling_marks_listing_incomplete() {
    let fake = FakeAws::start().await;
    fake.empty_region(US).await;
    let throttled = sagemaker(US, "ListNotebookInstances").respond_with(aws_error(
        400,
        "ThrottlingException",
        "Rate exceeded",
    ));
    fake.mount(throttled.with_priority(1)).await;

    let (report, findings) = crawl_us(&fake).await;

    let report = report.unwrap();
    assert_eq!(findings, vec![]);
    assert_eq!(
        report.incomplete,
        vec![
            "sagemaker:ListNotebookInstances was throttled on each of 4 attempts: lower the quota for this scope or retry the scan later"
        ]
    );
    assert_eq!(fake.count("ListNotebookInstances").await, 4);
}

#[tokio::test]
async fn server_error_then_success_is_retried() {
    let fake = FakeAws::start().await;
    fake.empty_region(US).await;
    let failing = rest(US, "GET", "/custom-models").respond_with(aws_error(
        500,
        "InternalServerException",
        "try again",
    ));
    fake.mount(failing.up_to_n_times(1).with_priority(1)).await;
    let custom = json!({
        "modelArn": format!("arn:aws:bedrock:{US}:{ACCOUNT}:custom-model/amazon.titan-text-express-v1:0:8k/abc123"),
        "modelName": "claims-titan",
        "creationTime": "2024-11-01T10:00:00Z",
        "baseModelArn": format!("arn:aws:bedrock:{US}::foundation-model/amazon.titan-text-express-v1:0:8k"),
        "baseModelName": "Titan Text G1 - Express",
        "customizationType": "FINE_TUNING",
        "modelStatus": "Active"
    });
    fake.mount(
        rest(US, "GET", "/custom-models")
            .respond_with(rest_json(json!({"modelSummaries": [custom]})))
            .with_priority(2),
    )
    .await;

    let (report, findings) = crawl_us(&fake).await;

    assert!(report.unwrap().is_complete());
    assert_eq!(fake.count("/custom-models").await, 2);
    // The custom model and the logging configuration that now applies to it.
    assert_eq!(findings.len(), 2);
    let model = findings
        .iter()
        .find(|f| f.subject == "bedrock-custom-model")
        .unwrap();
    assert_eq!(
        attributes(model),
        vec![
            format!("account={ACCOUNT}"),
            "base_model=Titan Text G1 - Express".to_owned(),
            format!(
                "base_model_arn=arn:aws:bedrock:{US}::foundation-model/amazon.titan-text-express-v1:0:8k"
            ),
            "category=training".to_owned(),
            "created=2024-11-01T10:00:00Z".to_owned(),
            "customization_type=FINE_TUNING".to_owned(),
            "gpai=true".to_owned(),
            "model_id=amazon.titan-text-express-v1:0:8k".to_owned(),
            "provider=aws-bedrock".to_owned(),
            format!("region={US}"),
            "resource_name=claims-titan".to_owned(),
            "resource_type=AWS::Bedrock::CustomModel".to_owned(),
            "service=bedrock".to_owned(),
            "status=Active".to_owned(),
        ]
    );
    assert_eq!(model.project_root, "bedrock/claims-titan");
}

#[tokio::test]
async fn denied_listing_in_one_region_is_a_gap() {
    let fake = FakeAws::start().await;
    fake.empty_region(US).await;
    fake.empty_region(EU).await;
    let message = format!(
        "User: arn:aws:iam::{ACCOUNT}:user/scanner is not authorized to perform: sagemaker:ListEndpoints"
    );
    fake.mount(
        sagemaker(EU, "ListEndpoints")
            .respond_with(aws_error(400, "AccessDeniedException", &message))
            .with_priority(1),
    )
    .await;
    let source = source(fake.config(&[US, EU]));
    let scopes = source.scopes().await.unwrap();

    let (eu, _) = crawl(&*source, scope(&scopes, &format!("aws:{ACCOUNT}:{EU}"))).await;
    let (us, _) = crawl(&*source, scope(&scopes, &format!("aws:{ACCOUNT}:{US}"))).await;

    assert_eq!(
        eu.unwrap().gaps,
        vec![CoverageGap {
            service: "sagemaker:ListEndpoints".into(),
            permission: "sagemaker:ListEndpoints".into(),
            message: format!("AccessDeniedException: {message}"),
        }]
    );
    assert_eq!(us.unwrap().gaps, vec![]);
}

#[tokio::test]
async fn region_not_enabled_is_skipped() {
    let fake = FakeAws::start().await;
    let refused = crate::fake_aws::in_region("ap-east-2").respond_with(aws_error(
        400,
        "UnrecognizedClientException",
        "The security token included in the request is invalid.",
    ));
    fake.mount(refused).await;
    let source = source(fake.config(&["ap-east-2"]));
    let scopes = source.scopes().await.unwrap();

    let (report, findings) = crawl(&*source, &scopes[0]).await;

    let report = report.unwrap();
    assert_eq!(findings, vec![]);
    assert_eq!(report.gaps, vec![]);
    assert_eq!(report.incomplete, Vec::<String>::new());
    let skipped = report.skipped.expect("the scope is skipped");
    assert!(
        skipped.starts_with("the region is not enabled or offers none of the services: "),
        "{skipped}"
    );
    assert!(skipped.contains("UnrecognizedClientException"), "{skipped}");
}

#[tokio::test]
async fn malformed_json_fails_the_scope_without_leaking_values() {
    let fake = FakeAws::start().await;
    fake.empty_region(US).await;
    let truncated = r#"{"Functions": [{"FunctionName": "summarise", "Environment": {"Variables": {"OPENAI_API_KEY": "sk-leak-check"#;
    let broken = rest(US, "GET", "/2015-03-31/functions").respond_with(
        wiremock::ResponseTemplate::new(200).set_body_raw(truncated, "application/json"),
    );
    fake.mount(broken.with_priority(1)).await;

    let (report, findings) = crawl_us(&fake).await;

    let error = report.unwrap_err();
    assert!(error.permanent);
    assert!(
        error.message.starts_with(&format!(
            "scope `aws:{ACCOUNT}:{US}` failed: lambda:ListFunctions returned a malformed answer"
        )),
        "{}",
        error.message
    );
    assert!(
        !error.message.contains("sk-leak-check"),
        "{}",
        error.message
    );
    assert_eq!(findings, vec![]);
}

#[tokio::test]
async fn missing_optional_fields_leave_attributes_absent() {
    let fake = FakeAws::start().await;
    fake.empty_region(US).await;
    fake.mount(
        sagemaker(US, "ListEndpoints")
            .respond_with(aws_json(json!({"Endpoints": [{"EndpointName": "bare"}]}))),
    )
    .await;
    fake.mount(
        sagemaker(US, "DescribeEndpoint").respond_with(aws_json(json!({"EndpointName": "bare"}))),
    )
    .await;

    let (report, findings) = crawl_us(&fake).await;

    assert!(report.unwrap().is_complete());
    assert_eq!(findings.len(), 1);
    assert_eq!(findings[0].path, sagemaker_arn("endpoint/bare"));
    assert_eq!(
        attributes(&findings[0]),
        vec![
            format!("account={ACCOUNT}"),
            "category=serving".to_owned(),
            "provider=aws-sagemaker".to_owned(),
            format!("region={US}"),
            "resource_name=bare".to_owned(),
            "resource_type=AWS::SageMaker::Endpoint".to_owned(),
            "service=sagemaker".to_owned(),
        ]
    );
}

#[tokio::test]
async fn repeated_page_token_marks_listing_incomplete() {
    let fake = FakeAws::start().await;
    fake.empty_region(US).await;
    let config = json!({"EndpointConfigName": "loop", "EndpointConfigArn": sagemaker_arn("endpoint-config/loop")});
    let looping = sagemaker(US, "ListEndpointConfigs").respond_with(aws_json(
        json!({"EndpointConfigs": [config], "NextToken": "same"}),
    ));
    fake.mount(looping.with_priority(1)).await;

    let (report, findings) = crawl_us(&fake).await;

    let report = report.unwrap();
    assert_eq!(
        report.incomplete,
        vec![
            "listing `sagemaker:ListEndpointConfigs` stopped after page 2 because the page token after page 2 repeats the previous one; later pages were not read"
        ]
    );
    // The config came on both pages and is reported once.
    assert_eq!(findings.len(), 1);
    assert_eq!(fake.count("ListEndpointConfigs").await, 2);
}
