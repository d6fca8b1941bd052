//! The connector against moto in server mode: an organisation with a member account whose
//! role is assumed, and SageMaker and Lambda resources in it.

use serde_json::json;

use crate::support::{Moto, attributes, crawl, scope, source};

const SETUP: &str = include_str!("moto_setup.py");

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn organisation_member_resources_are_found_through_role() {
    let moto = Moto::start();
    let member = moto.run_setup(SETUP);
    let source = source(json!({
        "regions": ["us-east-1", "eu-west-1"],
        "endpoint_url": moto.url,
        "external_id": "scan-7",
    }));

    let scopes = source.scopes().await.unwrap();
    let mut ids: Vec<&str> = scopes.iter().map(|scope| scope.id.as_str()).collect();
    ids.sort_unstable();
    let mut expected = vec![
        "aws:123456789012:eu-west-1".to_owned(),
        "aws:123456789012:us-east-1".to_owned(),
        format!("aws:{member}:eu-west-1"),
        format!("aws:{member}:us-east-1"),
    ];
    expected.sort();
    assert_eq!(ids, expected);
    assert_eq!(
        scope(&scopes, "aws:123456789012:us-east-1").param("access"),
        Some("base")
    );
    assert_eq!(
        scope(&scopes, &format!("aws:{member}:us-east-1")).param("access"),
        Some("role")
    );

    let (report, findings) =
        crawl(&*source, scope(&scopes, &format!("aws:{member}:us-east-1"))).await;
    let report = report.unwrap();
    let summary: Vec<(String, String, String)> = findings
        .iter()
        .map(|f| (f.subject.clone(), f.path.clone(), f.project_root.clone()))
        .collect();
    let arn = |resource: &str| format!("arn:aws:sagemaker:us-east-1:{member}:{resource}");
    let row = |subject: &str, path: String, root: &str| (subject.to_owned(), path, root.to_owned());
    assert_eq!(
        summary,
        vec![
            row(
                "lambda-function",
                format!("arn:aws:lambda:us-east-1:{member}:function:summarise"),
                "lambda/summarise"
            ),
            row(
                "sagemaker-endpoint-config",
                arn("endpoint-config/churn-config"),
                "sagemaker/churn-endpoint"
            ),
            row(
                "sagemaker-endpoint",
                arn("endpoint/churn-endpoint"),
                "sagemaker/churn-endpoint"
            ),
            row(
                "sagemaker-model",
                arn("model/churn"),
                "sagemaker/churn-endpoint"
            ),
            row("sagemaker-model", arn("model/orphan"), "sagemaker/orphan"),
        ]
    );
    // Endpoint, endpoint config, two models and two functions.
    assert_eq!(report.num_items, 6);
    assert_eq!(report.gaps, vec![]);
    assert_eq!(report.skipped, None);
    // moto 5.2.5 does not implement these two listings and returns HTTP 500.
    assert_eq!(report.incomplete.len(), 2, "{:?}", report.incomplete);
    assert!(
        report.incomplete[0]
            .starts_with("bedrock:ListProvisionedModelThroughputs failed with HTTP 500")
    );
    assert!(report.incomplete[1].starts_with("bedrock:ListGuardrails failed with HTTP 500"));

    let function = &findings[0];
    assert_eq!(
        attributes(function)
            .into_iter()
            .filter(|line| !line.starts_with("last_modified="))
            .collect::<Vec<_>>(),
        vec![
            format!("account={member}"),
            "category=hosted_api".to_owned(),
            "env_var_names=OPENAI_API_KEY".to_owned(),
            "gpai=true".to_owned(),
            "provider=openai".to_owned(),
            "providers=openai".to_owned(),
            "region=us-east-1".to_owned(),
            "resource_name=summarise".to_owned(),
            "resource_type=AWS::Lambda::Function".to_owned(),
            "runtime=python3.12".to_owned(),
            "service=lambda".to_owned(),
        ]
    );
    assert_eq!(
        function.evidence.as_deref(),
        Some("environment variable names: OPENAI_API_KEY")
    );
    let endpoint = &findings[2];
    assert_eq!(endpoint.attributes["endpoint_config"], "churn-config");
    assert_eq!(endpoint.attributes["models"], "churn");
    let serialised = serde_json::to_string(&findings).unwrap();
    assert!(
        !serialised.contains("sk-moto-secret-value"),
        "a variable value leaked"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn base_account_does_not_see_member_resources() {
    let moto = Moto::start();
    moto.run_setup(SETUP);
    let source = source(json!({"regions": ["us-east-1"], "endpoint_url": moto.url}));

    let scopes = source.scopes().await.unwrap();
    let (report, findings) = crawl(&*source, scope(&scopes, "aws:123456789012:us-east-1")).await;

    assert_eq!(findings, vec![]);
    assert_eq!(report.unwrap().num_items, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn explicit_accounts_skip_organisation_listing() {
    let moto = Moto::start();
    let member = moto.run_setup(SETUP);
    let source = source(json!({
        "accounts": [member],
        "regions": ["us-east-1"],
        "endpoint_url": moto.url,
    }));

    let scopes = source.scopes().await.unwrap();

    let ids: Vec<&str> = scopes.iter().map(|scope| scope.id.as_str()).collect();
    assert_eq!(ids, vec![format!("aws:{member}:us-east-1")]);
    let (report, findings) = crawl(&*source, &scopes[0]).await;
    assert_eq!(report.unwrap().num_items, 6);
    assert_eq!(findings.len(), 5);
}
