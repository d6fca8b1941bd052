//! Accounts, regions and credentials against the fake endpoint: Organizations paging,
//! `ListRegions`, assumed roles kept apart from the base credentials, and their failures.

use serde_json::json;
use wiremock::Mock;
use wiremock::matchers::{body_string_contains, header, method, path};

use crate::fake_aws::{ACCOUNT, FakeAws, aws_error, aws_json, rest_json, sts_error, xml};
use crate::support::{crawl, init, scope, source};

const MEMBER: &str = "444455556666";
const US: &str = "us-east-1";

fn assumed_role_xml() -> String {
    format!(
        "<AssumeRoleResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><AssumeRoleResult><Credentials><AccessKeyId>ASIAMEMBEREXAMPLE</AccessKeyId><SecretAccessKey>member-secret</SecretAccessKey><SessionToken>member-token</SessionToken><Expiration>2099-01-01T00:00:00Z</Expiration></Credentials><AssumedRoleUser><Arn>arn:aws:sts::{MEMBER}:assumed-role/SecrunaReadOnly/secruna-scan</Arn><AssumedRoleId>AROAEXAMPLE:secruna-scan</AssumedRoleId></AssumedRoleUser></AssumeRoleResult><ResponseMetadata><RequestId>a1</RequestId></ResponseMetadata></AssumeRoleResponse>"
    )
}

fn assume_role() -> wiremock::MockBuilder {
    Mock::given(method("POST"))
        .and(path("/"))
        .and(body_string_contains("Action=AssumeRole"))
}

fn account(id: &str, state: &str) -> serde_json::Value {
    json!({"Id": id, "Arn": format!("arn:aws:organizations::{ACCOUNT}:account/o-1/{id}"), "Name": id, "State": state})
}

fn list_accounts() -> wiremock::MockBuilder {
    Mock::given(header(
        "x-amz-target",
        "AWSOrganizationsV20161128.ListAccounts",
    ))
}

#[tokio::test]
async fn organisation_accounts_are_read_across_three_pages() {
    let fake = FakeAws::start().await;
    let pages = [
        (
            None,
            json!({"Accounts": [account(ACCOUNT, "ACTIVE")], "NextToken": "a2"}),
        ),
        (
            Some("a2"),
            json!({"Accounts": [account("555566667777", "SUSPENDED")], "NextToken": "a3"}),
        ),
        (Some("a3"), json!({"Accounts": [account(MEMBER, "ACTIVE")]})),
    ];
    for (token, body) in pages {
        let mock = match token {
            Some(token) => list_accounts()
                .and(wiremock::matchers::body_partial_json(
                    json!({"NextToken": token}),
                ))
                .respond_with(aws_json(body))
                .with_priority(1),
            None => list_accounts()
                .respond_with(aws_json(body))
                .with_priority(2),
        };
        fake.mount(mock).await;
    }
    let source = source(json!({"regions": [US], "endpoint_url": fake.server.uri()}));

    let scopes = source.scopes().await.unwrap();

    let ids: Vec<&str> = scopes.iter().map(|scope| scope.id.as_str()).collect();
    assert_eq!(
        ids,
        vec![format!("aws:{ACCOUNT}:{US}"), format!("aws:{MEMBER}:{US}")]
    );
    assert_eq!(fake.count("ListAccounts").await, 3);
}

#[tokio::test]
async fn enabled_regions_come_from_list_regions() {
    let fake = FakeAws::start().await;
    let first = json!({"Regions": [
        {"RegionName": "us-east-1", "RegionOptStatus": "ENABLED_BY_DEFAULT"},
        {"RegionName": "ap-east-1", "RegionOptStatus": "DISABLED"}
    ], "NextToken": "r2"});
    let second = json!({"Regions": [{"RegionName": "eu-south-2", "RegionOptStatus": "ENABLED"}]});
    let list_regions = || Mock::given(method("POST")).and(path("/listRegions"));
    fake.mount(
        list_regions()
            .and(wiremock::matchers::body_partial_json(
                json!({"NextToken": "r2"}),
            ))
            .respond_with(rest_json(second))
            .with_priority(1),
    )
    .await;
    fake.mount(
        list_regions()
            .respond_with(rest_json(first))
            .with_priority(2),
    )
    .await;
    let source = source(json!({"accounts": [ACCOUNT], "endpoint_url": fake.server.uri()}));

    let scopes = source.scopes().await.unwrap();

    let ids: Vec<&str> = scopes.iter().map(|scope| scope.id.as_str()).collect();
    assert_eq!(
        ids,
        vec![
            format!("aws:{ACCOUNT}:eu-south-2"),
            format!("aws:{ACCOUNT}:us-east-1")
        ]
    );
}

#[tokio::test]
async fn denied_region_listing_becomes_a_gap_scope() {
    let fake = FakeAws::start().await;
    let denied = aws_error(
        403,
        "AccessDeniedException",
        "not authorized to perform: account:ListRegions",
    );
    fake.mount(
        Mock::given(method("POST"))
            .and(path("/listRegions"))
            .respond_with(denied),
    )
    .await;
    let source = source(json!({"accounts": [ACCOUNT], "endpoint_url": fake.server.uri()}));

    let scopes = source.scopes().await.unwrap();
    let (report, findings) = crawl(&*source, &scopes[0]).await;

    assert_eq!(scopes.len(), 1);
    assert_eq!(scopes[0].id, format!("aws:{ACCOUNT}:regions"));
    let report = report.unwrap();
    assert_eq!(report.gaps.len(), 1);
    assert_eq!(report.gaps[0].permission, "account:ListRegions");
    assert_eq!(
        report.gaps[0].message,
        "AccessDeniedException: not authorized to perform: account:ListRegions; or name the regions in config `regions`"
    );
    assert_eq!(findings, vec![]);
}

#[tokio::test]
async fn member_calls_use_assumed_credentials_only() {
    let fake = FakeAws::start().await;
    fake.empty_region(US).await;
    let assume = assume_role()
        .and(body_string_contains("RoleSessionName=secruna-scan"))
        .and(body_string_contains("ExternalId=ext-1"))
        .and(body_string_contains(format!(
            "RoleArn=arn%3Aaws%3Aiam%3A%3A{MEMBER}%3Arole%2FSecrunaReadOnly"
        )))
        .respond_with(xml(&assumed_role_xml()));
    fake.mount(assume).await;
    let config =
        json!({"accounts": [ACCOUNT, MEMBER], "regions": [US], "endpoint_url": fake.server.uri()});
    init();
    let spec = agents::ConnectorSpec {
        name: "test-aws".into(),
        kind: "aws".into(),
        config,
        secret: Some(
            json!({"access_key_id": "AKIABASEEXAMPLE", "secret_access_key": "base-secret", "external_id": "ext-1"}),
        ),
    };
    let factory =
        agents_aws::AwsFactory::new(crate::support::fast_limits(), crate::support::fast_policy());
    let source = agents::SourceFactory::build(&factory, &spec).unwrap();
    let scopes = source.scopes().await.unwrap();

    let (member, _) = crawl(&*source, scope(&scopes, &format!("aws:{MEMBER}:{US}"))).await;
    let (base, _) = crawl(&*source, scope(&scopes, &format!("aws:{ACCOUNT}:{US}"))).await;
    let (again, _) = crawl(&*source, scope(&scopes, &format!("aws:{MEMBER}:{US}"))).await;

    assert!(member.unwrap().is_complete());
    assert!(base.unwrap().is_complete());
    assert!(again.unwrap().is_complete());
    // One AssumeRole serves both crawls of the member account.
    assert_eq!(fake.count_body("Action=AssumeRole").await, 1);
    let requests = fake.server.received_requests().await.unwrap();
    let key_of = |request: &wiremock::Request| {
        let authorization = request
            .headers
            .get("authorization")
            .unwrap()
            .to_str()
            .unwrap();
        authorization
            .split("Credential=")
            .nth(1)
            .unwrap()
            .split('/')
            .next()
            .unwrap()
            .to_owned()
    };
    let member_calls = requests
        .iter()
        .filter(|r| key_of(r) == "ASIAMEMBEREXAMPLE")
        .count();
    let base_calls = requests
        .iter()
        .filter(|r| key_of(r) == "AKIABASEEXAMPLE")
        .count();
    // Each crawl makes 12 calls (6 SageMaker listings, 5 Bedrock calls, 1 Lambda listing);
    // GetCallerIdentity and AssumeRole are signed with the base key.
    assert_eq!(member_calls, 24);
    assert_eq!(base_calls, 12 + 2);
}

#[tokio::test]
async fn denied_assume_role_is_a_gap_of_the_scope() {
    let fake = FakeAws::start().await;
    let message = format!(
        "User: arn:aws:iam::{ACCOUNT}:user/scanner is not authorized to perform: sts:AssumeRole"
    );
    fake.mount(assume_role().respond_with(sts_error(403, "AccessDenied", &message)))
        .await;
    let source =
        source(json!({"accounts": [MEMBER], "regions": [US], "endpoint_url": fake.server.uri()}));
    let scopes = source.scopes().await.unwrap();

    let (report, findings) = crawl(&*source, &scopes[0]).await;

    let report = report.unwrap();
    assert_eq!(findings, vec![]);
    assert_eq!(report.gaps.len(), 1);
    assert_eq!(report.gaps[0].permission, "sts:AssumeRole");
    assert_eq!(
        report.gaps[0].message,
        format!(
            "cannot assume `arn:aws:iam::{MEMBER}:role/SecrunaReadOnly`: AccessDenied: {message}; create the role in the account and let the base credentials assume it"
        )
    );
}

#[tokio::test]
async fn rejected_base_credentials_fail_scope_listing() {
    init();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let rejecting = wiremock::MockServer::builder()
        .listener(listener)
        .start()
        .await;
    let invalid = sts_error(
        403,
        "InvalidClientTokenId",
        "The security token included in the request is invalid.",
    );
    Mock::given(method("POST"))
        .respond_with(invalid)
        .mount(&rejecting)
        .await;
    let source =
        source(json!({"accounts": [ACCOUNT], "regions": [US], "endpoint_url": rejecting.uri()}));

    let error = source.scopes().await.unwrap_err();

    assert!(error.permanent);
    assert!(
        error.message.starts_with(
            "connector `test-aws`: the base credentials were not accepted: sts:GetCallerIdentity"
        ),
        "{}",
        error.message
    );
    assert!(
        error
            .message
            .ends_with("check access_key_id and secret_access_key in the connector secret"),
        "{}",
        error.message
    );
}
