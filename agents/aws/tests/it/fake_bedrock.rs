//! Bedrock listings moto does not emulate (guardrails, provisioned throughput) and the
//! links between agents, guardrails and custom models; Lambda variable names and layers.

use serde_json::json;

use crate::fake_aws::{ACCOUNT, FakeAws, aws_error, rest, rest_json};
use crate::support::{attributes, crawl, scope, source};

const US: &str = "us-east-1";

fn bedrock_arn(resource: &str) -> String {
    format!("arn:aws:bedrock:{US}:{ACCOUNT}:{resource}")
}

async fn crawl_us(fake: &FakeAws) -> (agents::CrawlReport, Vec<proto::Finding>) {
    let source = source(fake.config(&[US]));
    let scopes = source.scopes().await.unwrap();
    let (report, findings) = crawl(&*source, scope(&scopes, &format!("aws:{ACCOUNT}:{US}"))).await;
    (report.unwrap(), findings)
}

async fn mount_bedrock(fake: &FakeAws) {
    let custom_arn = bedrock_arn("custom-model/claims");
    let custom = json!({
        "modelArn": custom_arn, "modelName": "claims", "creationTime": "2024-11-01T10:00:00Z",
        "baseModelArn": format!("arn:aws:bedrock:{US}::foundation-model/meta.llama3-8b-instruct-v1:0"),
        "baseModelName": "Llama 3 8B Instruct"
    });
    fake.mount(
        rest(US, "GET", "/custom-models")
            .respond_with(rest_json(json!({"modelSummaries": [custom]}))),
    )
    .await;
    let provisioned = json!({
        "provisionedModelName": "claims-pt", "provisionedModelArn": bedrock_arn("provisioned-model/pt1"),
        "modelArn": custom_arn, "desiredModelArn": custom_arn,
        "foundationModelArn": format!("arn:aws:bedrock:{US}::foundation-model/meta.llama3-8b-instruct-v1:0"),
        "modelUnits": 2, "desiredModelUnits": 2, "status": "InService", "commitmentDuration": "OneMonth",
        "commitmentExpirationTime": "2025-01-01T00:00:00Z",
        "creationTime": "2024-12-01T00:00:00Z", "lastModifiedTime": "2024-12-01T00:00:00Z"
    });
    let throughputs = json!({"provisionedModelSummaries": [provisioned]});
    fake.mount(
        rest(US, "GET", "/provisioned-model-throughputs").respond_with(rest_json(throughputs)),
    )
    .await;
    let guardrails = json!({"guardrails": [
        {"id": "gr1", "arn": bedrock_arn("guardrail/gr1"), "status": "READY", "name": "pii-filter", "version": "DRAFT",
         "createdAt": "2024-10-01T00:00:00Z", "updatedAt": "2024-10-02T00:00:00Z"},
        {"id": "gr2", "arn": bedrock_arn("guardrail/gr2"), "status": "READY", "name": "unused", "version": "1",
         "description": "spare", "createdAt": "2024-10-01T00:00:00Z", "updatedAt": "2024-10-01T00:00:00Z"}
    ]});
    fake.mount(rest(US, "GET", "/guardrails").respond_with(rest_json(guardrails)))
        .await;
    let agents = json!({"agentSummaries": [{
        "agentId": "AG1", "agentName": "claims-helper", "agentStatus": "PREPARED", "updatedAt": "2024-12-02T00:00:00Z",
        "latestAgentVersion": "3", "guardrailConfiguration": {"guardrailIdentifier": "gr1", "guardrailVersion": "DRAFT"}
    }]});
    fake.mount(rest(US, "POST", "/agents").respond_with(rest_json(agents)))
        .await;
    let agent = json!({"agent": {
        "agentId": "AG1", "agentName": "claims-helper", "agentArn": bedrock_arn("agent/AG1"), "agentVersion": "DRAFT",
        "agentStatus": "PREPARED", "foundationModel": "anthropic.claude-3-5-sonnet-20240620-v1:0",
        "idleSessionTTLInSeconds": 600, "agentResourceRoleArn": format!("arn:aws:iam::{ACCOUNT}:role/agent"),
        "createdAt": "2024-12-01T00:00:00Z", "updatedAt": "2024-12-02T00:00:00Z"
    }});
    fake.mount(rest(US, "GET", "/agents/AG1").respond_with(rest_json(agent)))
        .await;
    let logging = json!({"loggingConfig": {
        "cloudWatchConfig": {"logGroupName": "bedrock-invocations", "roleArn": format!("arn:aws:iam::{ACCOUNT}:role/logs")},
        "textDataDeliveryEnabled": true
    }});
    fake.mount(rest(US, "GET", "/logging/modelinvocations").respond_with(rest_json(logging)))
        .await;
}

#[tokio::test]
async fn bedrock_resources_are_linked_into_systems() {
    let fake = FakeAws::start().await;
    fake.empty_region(US).await;
    mount_bedrock(&fake).await;

    let (report, findings) = crawl_us(&fake).await;

    assert!(report.is_complete(), "{report:?}");
    let rows: Vec<(&str, &str, &str)> = findings
        .iter()
        .map(|f| (f.subject.as_str(), f.path.as_str(), f.project_root.as_str()))
        .collect();
    let (agent, claims, gr1, gr2, logging, pt1) = (
        bedrock_arn("agent/AG1"),
        bedrock_arn("custom-model/claims"),
        bedrock_arn("guardrail/gr1"),
        bedrock_arn("guardrail/gr2"),
        bedrock_arn("model-invocation-logging"),
        bedrock_arn("provisioned-model/pt1"),
    );
    assert_eq!(
        rows,
        vec![
            ("bedrock-agent", agent.as_str(), "bedrock/claims-helper"),
            ("bedrock-custom-model", claims.as_str(), "bedrock/claims"),
            ("bedrock-guardrail", gr1.as_str(), "bedrock/claims-helper"),
            ("bedrock-guardrail", gr2.as_str(), "bedrock/unused"),
            (
                "bedrock-invocation-logging",
                logging.as_str(),
                "bedrock/model-invocation-logging"
            ),
            (
                "bedrock-provisioned-throughput",
                pt1.as_str(),
                "bedrock/claims"
            ),
        ]
    );
    let attribute = |index: usize, key: &str| findings[index].attributes.get(key).cloned();
    assert_eq!(
        attribute(0, "model_id").as_deref(),
        Some("anthropic.claude-3-5-sonnet-20240620-v1:0")
    );
    assert_eq!(attribute(0, "category").as_deref(), Some("agent_tooling"));
    assert_eq!(attribute(0, "guardrail").as_deref(), Some("gr1"));
    assert_eq!(attribute(2, "description"), None);
    assert_eq!(attribute(3, "description").as_deref(), Some("spare"));
    assert_eq!(attribute(5, "category").as_deref(), Some("hosted_api"));
    assert_eq!(
        attribute(5, "model_id").as_deref(),
        Some("meta.llama3-8b-instruct-v1:0")
    );
    assert_eq!(attribute(5, "model_units").as_deref(), Some("2"));
    assert_eq!(
        attribute(5, "commitment_expiration").as_deref(),
        Some("2025-01-01T00:00:00Z")
    );
    assert_eq!(
        attributes(&findings[4]),
        vec![
            format!("account={ACCOUNT}"),
            "category=infrastructure".to_owned(),
            "log_destinations=cloudwatch".to_owned(),
            "log_group=bedrock-invocations".to_owned(),
            "logging_enabled=true".to_owned(),
            "provider=aws-bedrock".to_owned(),
            format!("region={US}"),
            "resource_name=model-invocation-logging".to_owned(),
            "resource_type=AWS::Bedrock::ModelInvocationLoggingConfiguration".to_owned(),
            "service=bedrock".to_owned(),
            "text_data_delivery=true".to_owned(),
        ]
    );
}

#[tokio::test]
async fn denied_get_agent_keeps_the_agent_and_records_one_gap() {
    let fake = FakeAws::start().await;
    fake.empty_region(US).await;
    let agents = json!({"agentSummaries": [
        {"agentId": "AG1", "agentName": "first", "agentStatus": "PREPARED", "updatedAt": "2024-12-02T00:00:00Z"},
        {"agentId": "AG2", "agentName": "second", "agentStatus": "PREPARED", "updatedAt": "2024-12-02T00:00:00Z"}
    ]});
    fake.mount(rest(US, "POST", "/agents").respond_with(rest_json(agents)))
        .await;
    let denied = aws_error(
        403,
        "AccessDeniedException",
        "not authorized to perform: bedrock:GetAgent",
    );
    fake.mount(rest(US, "GET", "/agents/AG1").respond_with(denied))
        .await;

    let (report, findings) = crawl_us(&fake).await;

    let gaps: Vec<&str> = report
        .gaps
        .iter()
        .map(|gap| gap.permission.as_str())
        .collect();
    assert_eq!(gaps, vec!["bedrock:GetAgent"]);
    let agents: Vec<(&str, Option<&String>)> = findings
        .iter()
        .filter(|f| f.subject == "bedrock-agent")
        .map(|f| (f.path.as_str(), f.attributes.get("model_id")))
        .collect();
    let (first, second) = (bedrock_arn("agent/AG1"), bedrock_arn("agent/AG2"));
    assert_eq!(
        agents,
        vec![(first.as_str(), None), (second.as_str(), None)]
    );
    assert_eq!(fake.count("/agents/AG2").await, 0);
}

#[tokio::test]
async fn lambda_names_and_layers_show_providers_without_values() {
    let fake = FakeAws::start().await;
    fake.empty_region(US).await;
    let layer = format!("arn:aws:lambda:{US}:{ACCOUNT}:layer:langchain-py312:4");
    let functions = json!({"Functions": [
        {"FunctionName": "triage", "FunctionArn": format!("arn:aws:lambda:{US}:{ACCOUNT}:function:triage"),
         "Runtime": "python3.12", "CodeSize": 10,
         "Environment": {"Variables": {"ANTHROPIC_API_KEY": "sk-ant-value-check", "STAGE": "prod"}},
         "Layers": [{"Arn": layer, "CodeSize": 100}]},
        {"FunctionName": "embed", "CodeSize": 10, "Layers": [{"Arn": format!("arn:aws:lambda:{US}:{ACCOUNT}:layer:hf-transformers:2")}]},
        {"FunctionName": "billing", "FunctionArn": format!("arn:aws:lambda:{US}:{ACCOUNT}:function:billing"),
         "Environment": {"Variables": {"DATABASE_URL": "postgres://x"}}}
    ]});
    fake.mount(rest(US, "GET", "/2015-03-31/functions").respond_with(rest_json(functions)))
        .await;

    let (report, findings) = crawl_us(&fake).await;

    assert_eq!(report.num_items, 3);
    let rows: Vec<(&str, &str, &str)> = findings
        .iter()
        .map(|f| {
            (
                f.path.as_str(),
                f.attributes["provider"].as_str(),
                f.attributes["category"].as_str(),
            )
        })
        .collect();
    let (embed, triage) = (
        format!("arn:aws:lambda:{US}:{ACCOUNT}:function:embed"),
        format!("arn:aws:lambda:{US}:{ACCOUNT}:function:triage"),
    );
    assert_eq!(
        rows,
        vec![
            (embed.as_str(), "huggingface", "ml_library"),
            (triage.as_str(), "anthropic", "hosted_api")
        ]
    );
    let triage = &findings[1];
    assert_eq!(triage.attributes["providers"], "anthropic,langchain");
    assert_eq!(triage.attributes["env_var_names"], "ANTHROPIC_API_KEY");
    assert_eq!(triage.attributes["ai_layers"], layer);
    assert_eq!(triage.attributes["gpai"], "true");
    assert_eq!(findings[0].attributes.get("gpai"), None);
    assert_eq!(findings[0].attributes.get("runtime"), None);
    let serialised = serde_json::to_string(&findings).unwrap();
    assert!(
        !serialised.contains("sk-ant-value-check"),
        "a variable value leaked"
    );
    assert!(
        !serialised.contains("STAGE"),
        "an unrelated variable name was reported"
    );
}
