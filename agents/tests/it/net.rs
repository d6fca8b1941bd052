//! The shared network layer against local HTTP servers: paging, every wait format,
//! retries, secondary limits, denials, timeouts and malformed responses.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use agents::net::{
    CallError, HttpClient, JsonPage, PageGuard, PageStep, Quota, RateLimits, RetryPolicy,
};
use wiremock::matchers::{method, path, query_param, query_param_is_missing};
use wiremock::{Mock, MockServer, ResponseTemplate};

const OPERATION: &str = "test:ListModels";
const SECONDARY_WAIT: Duration = Duration::from_millis(600);

fn policy() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 4,
        base_delay: Duration::from_millis(20),
        max_delay: Duration::from_millis(100),
        attempt_timeout: Duration::from_secs(3),
        operation_timeout: Duration::from_secs(10),
    }
}

fn client_with(policy: RetryPolicy) -> HttpClient {
    let limits = RateLimits::new([("test".to_owned(), Quota::per_second(100))].into());
    HttpClient::new(limits, policy).with_secondary_limit_wait(SECONDARY_WAIT)
}

fn client() -> HttpClient {
    client_with(policy())
}

async fn get(
    client: &HttpClient,
    server: &MockServer,
    route: &str,
    scope: &str,
) -> Result<JsonPage, CallError> {
    let url = format!("{}{route}", server.uri());
    let request = || client.client().get(&url).bearer_auth("test-token");
    client.get_json("test", scope, OPERATION, &request).await
}

async fn requests_to(server: &MockServer, route: &str) -> usize {
    let requests = server.received_requests().await.unwrap_or_default();
    requests
        .iter()
        .filter(|request| request.url.path() == route)
        .count()
}

fn ok_json(body: serde_json::Value) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(body)
}

/// Mounts `first` once on `/models`, then a success.
async fn once_then_ok(server: &MockServer, first: ResponseTemplate) {
    Mock::given(method("GET"))
        .and(path("/models"))
        .respond_with(first)
        .up_to_n_times(1)
        .with_priority(1)
        .mount(server)
        .await;
    Mock::given(method("GET"))
        .and(path("/models"))
        .respond_with(ok_json(serde_json::json!({"items": [1]})))
        .mount(server)
        .await;
}

/// Sends one call that is throttled once with `first`, checks that it succeeds on the
/// second request, and returns how long it took.
async fn elapsed_after_throttle(first: ResponseTemplate) -> Duration {
    let server = MockServer::start().await;
    once_then_ok(&server, first).await;
    let client = client();
    let started = Instant::now();

    let page = get(&client, &server, "/models", "scope-a")
        .await
        .expect("second attempt succeeds");

    assert_eq!(page.body["items"][0], 1);
    assert_eq!(requests_to(&server, "/models").await, 2);
    started.elapsed()
}

fn epoch_seconds_in(seconds: u64) -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + seconds
}

/// Crawls `/pages` with a [`PageGuard`], returning the items and the stop reason, if any.
async fn crawl_pages(client: &HttpClient, server: &MockServer) -> (Vec<i64>, Option<String>) {
    let mut guard = PageGuard::new("test-pages", 10);
    let mut items = Vec::new();
    let mut route = "/pages".to_owned();
    loop {
        let page = get(client, server, &route, "scope-a").await.expect("page");
        for item in page.body["items"].as_array().expect("items") {
            items.push(item.as_i64().expect("number"));
        }
        match guard.next(page.body["next"].as_str()) {
            PageStep::Continue(token) => route = format!("/pages?token={token}"),
            PageStep::Done => return (items, None),
            PageStep::Stop(reason) => return (items, Some(reason)),
        }
    }
}

/// Mounts `/pages` serving the first page with `first_next` and each page named in
/// `links` (`token`, `next token`) with its own next token.
async fn mount_pages(server: &MockServer, first_next: &str, links: &[(&str, Option<&str>)]) {
    Mock::given(path("/pages"))
        .and(query_param_is_missing("token"))
        .respond_with(ok_json(
            serde_json::json!({"items": [0], "next": first_next}),
        ))
        .mount(server)
        .await;
    for (index, (token, next)) in links.iter().enumerate() {
        Mock::given(path("/pages"))
            .and(query_param("token", *token))
            .respond_with(ok_json(
                serde_json::json!({"items": [index + 1], "next": next}),
            ))
            .mount(server)
            .await;
    }
}

#[tokio::test]
async fn three_pages_are_followed() {
    let server = MockServer::start().await;
    mount_pages(&server, "p1", &[("p1", Some("p2")), ("p2", None)]).await;

    let (items, stop) = crawl_pages(&client(), &server).await;

    assert_eq!(items, vec![0, 1, 2]);
    assert_eq!(stop, None);
}

#[tokio::test]
async fn looping_token_stops_listing() {
    let server = MockServer::start().await;
    mount_pages(&server, "p1", &[("p1", Some("p2")), ("p2", Some("p1"))]).await;

    let (items, stop) = crawl_pages(&client(), &server).await;

    assert_eq!(items, vec![0, 1, 2]);
    let reason = stop.expect("a stop reason");
    assert!(reason.contains("`test-pages`"), "{reason}");
    assert!(reason.contains("loops back to an earlier page"), "{reason}");
}

#[tokio::test]
async fn repeated_token_stops_listing() {
    let server = MockServer::start().await;
    mount_pages(&server, "p1", &[("p1", Some("p1"))]).await;

    let (items, stop) = crawl_pages(&client(), &server).await;

    assert_eq!(items, vec![0, 1]);
    assert!(
        stop.expect("a stop reason")
            .contains("repeats the previous one")
    );
}

#[tokio::test]
async fn empty_token_stops_listing() {
    let server = MockServer::start().await;
    mount_pages(&server, "", &[]).await;

    let (items, stop) = crawl_pages(&client(), &server).await;

    assert_eq!(items, vec![0]);
    assert!(stop.expect("a stop reason").contains("is empty"));
}

#[tokio::test]
async fn retry_after_seconds_is_honoured() {
    let first = ResponseTemplate::new(429).insert_header("retry-after", "1");
    let elapsed = elapsed_after_throttle(first).await;
    assert!(elapsed >= Duration::from_secs(1), "{elapsed:?}");
    assert!(elapsed < Duration::from_secs(2), "{elapsed:?}");
}

#[tokio::test]
async fn retry_after_http_date_is_honoured() {
    let at = httpdate::fmt_http_date(UNIX_EPOCH + Duration::from_secs(epoch_seconds_in(2)));
    let first = ResponseTemplate::new(503).insert_header("retry-after", at.as_str());
    let elapsed = elapsed_after_throttle(first).await;
    // The date has whole seconds, so the wait is between 1 and 2 seconds.
    assert!(elapsed >= Duration::from_secs(1), "{elapsed:?}");
    assert!(elapsed < Duration::from_secs(3), "{elapsed:?}");
}

#[tokio::test]
async fn github_rate_limit_reset_is_honoured() {
    let reset = epoch_seconds_in(2).to_string();
    let first = ResponseTemplate::new(403)
        .insert_header("x-ratelimit-remaining", "0")
        .insert_header("x-ratelimit-reset", reset.as_str())
        .set_body_json(serde_json::json!({"message": "API rate limit exceeded for user ID 1."}));
    let elapsed = elapsed_after_throttle(first).await;
    assert!(elapsed >= Duration::from_secs(1), "{elapsed:?}");
    assert!(elapsed < Duration::from_secs(3), "{elapsed:?}");
}

#[tokio::test]
async fn azure_subscription_reads_retry_after_is_honoured() {
    let first = ResponseTemplate::new(429)
        .insert_header("x-ms-ratelimit-remaining-subscription-reads", "0")
        .insert_header("retry-after", "1");
    let elapsed = elapsed_after_throttle(first).await;
    assert!(elapsed >= Duration::from_secs(1), "{elapsed:?}");
    assert!(elapsed < Duration::from_secs(2), "{elapsed:?}");
}

#[tokio::test]
async fn azure_resets_after_is_honoured() {
    let first = ResponseTemplate::new(429)
        .insert_header("x-ms-user-quota-remaining", "0")
        .insert_header("x-ms-user-quota-resets-after", "00:00:01");
    let elapsed = elapsed_after_throttle(first).await;
    assert!(elapsed >= Duration::from_secs(1), "{elapsed:?}");
    assert!(elapsed < Duration::from_secs(2), "{elapsed:?}");
}

#[tokio::test]
async fn azure_retry_after_ms_is_honoured() {
    let first = ResponseTemplate::new(429).insert_header("x-ms-retry-after-ms", "700");
    let elapsed = elapsed_after_throttle(first).await;
    assert!(elapsed >= Duration::from_millis(700), "{elapsed:?}");
    assert!(elapsed < Duration::from_millis(1_700), "{elapsed:?}");
}

#[tokio::test]
async fn gcp_retry_delay_is_honoured() {
    let first = ResponseTemplate::new(429).set_body_json(serde_json::json!({
        "error": {
            "code": 429,
            "status": "RESOURCE_EXHAUSTED",
            "message": "Quota exceeded for aiplatform.googleapis.com/resource_management_requests",
            "details": [{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "0.8s"}]
        }
    }));
    let elapsed = elapsed_after_throttle(first).await;
    assert!(elapsed >= Duration::from_millis(800), "{elapsed:?}");
    assert!(elapsed < Duration::from_millis(1_800), "{elapsed:?}");
}

#[tokio::test]
async fn aws_throttling_code_backs_off() {
    let first = ResponseTemplate::new(400).set_body_json(
        serde_json::json!({"__type": "ThrottlingException", "message": "Rate exceeded"}),
    );
    let elapsed = elapsed_after_throttle(first).await;
    // Backoff before the second attempt: half to all of the 20 ms base delay.
    assert!(elapsed >= Duration::from_millis(10), "{elapsed:?}");
}

#[tokio::test]
async fn server_errors_then_success() {
    let server = MockServer::start().await;
    Mock::given(path("/models"))
        .respond_with(ResponseTemplate::new(500))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(path("/models"))
        .respond_with(ResponseTemplate::new(502))
        .up_to_n_times(1)
        .with_priority(2)
        .mount(&server)
        .await;
    Mock::given(path("/models"))
        .respond_with(ok_json(serde_json::json!({"items": [7]})))
        .with_priority(3)
        .mount(&server)
        .await;

    let page = get(&client(), &server, "/models", "scope-a")
        .await
        .expect("third attempt");

    assert_eq!(page.body["items"][0], 7);
    assert_eq!(requests_to(&server, "/models").await, 3);
}

#[tokio::test]
async fn persistent_server_error_is_reported() {
    let server = MockServer::start().await;
    Mock::given(path("/models"))
        .respond_with(ResponseTemplate::new(500).set_body_string("internal failure"))
        .mount(&server)
        .await;

    let error = get(&client(), &server, "/models", "scope-a")
        .await
        .unwrap_err();

    let expected = CallError::Status {
        operation: OPERATION.to_owned(),
        status: 500,
        message: "internal failure".to_owned(),
    };
    assert_eq!(error, expected);
    assert_eq!(requests_to(&server, "/models").await, 4);
}

#[tokio::test]
async fn secondary_limit_pauses_other_endpoints_of_the_token() {
    let server = MockServer::start().await;
    let limited = ResponseTemplate::new(403).set_body_json(serde_json::json!({
        "message": "You have exceeded a secondary rate limit. Please wait a few minutes before you try again."
    }));
    once_then_ok(&server, limited).await;
    Mock::given(path("/repos"))
        .respond_with(ok_json(serde_json::json!({"items": [2]})))
        .mount(&server)
        .await;
    let client = Arc::new(client());

    // The first call meets the secondary limit and waits for the default pause.
    let started = Instant::now();
    let first = tokio::spawn({
        let client = Arc::clone(&client);
        let server_uri = server.uri();
        async move {
            let url = format!("{server_uri}/models");
            let request = || client.client().get(&url);
            client
                .get_json("test", "token-a", OPERATION, &request)
                .await
        }
    });
    while requests_to(&server, "/models").await == 0 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    tokio::time::sleep(Duration::from_millis(50)).await;

    // Another endpoint of the same token waits for the pause; another token does not.
    let other_token_started = Instant::now();
    get(&client, &server, "/repos", "token-b")
        .await
        .expect("other token");
    let other_token_took = other_token_started.elapsed();
    get(&client, &server, "/repos", "token-a")
        .await
        .expect("same token");
    let same_token_done = started.elapsed();

    assert!(first.await.unwrap().is_ok());
    assert!(
        other_token_took < Duration::from_millis(300),
        "{other_token_took:?}"
    );
    assert!(same_token_done >= SECONDARY_WAIT, "{same_token_done:?}");
    assert_eq!(requests_to(&server, "/models").await, 2);
}

#[tokio::test]
async fn secondary_limit_with_retry_after_waits_that_long() {
    let limited = ResponseTemplate::new(429)
        .insert_header("retry-after", "1")
        .set_body_json(serde_json::json!({"message": "You have exceeded a secondary rate limit."}));
    let elapsed = elapsed_after_throttle(limited).await;
    assert!(elapsed >= Duration::from_secs(1), "{elapsed:?}");
}

#[tokio::test]
async fn plain_forbidden_is_denied_without_retry() {
    let server = MockServer::start().await;
    Mock::given(path("/models"))
        .respond_with(
            ResponseTemplate::new(403).set_body_json(
                serde_json::json!({"message": "Must have admin rights to Repository."}),
            ),
        )
        .mount(&server)
        .await;

    let error = get(&client(), &server, "/models", "scope-a")
        .await
        .unwrap_err();

    let expected = CallError::Denied {
        operation: OPERATION.to_owned(),
        permission: OPERATION.to_owned(),
        message: "Must have admin rights to Repository.".to_owned(),
    };
    assert_eq!(error, expected);
    assert_eq!(requests_to(&server, "/models").await, 1);
    assert!(error.coverage_gap().is_some());
}

#[tokio::test]
async fn missing_resource_is_not_found_without_retry() {
    let server = MockServer::start().await;
    Mock::given(path("/models"))
        .respond_with(
            ResponseTemplate::new(404).set_body_json(serde_json::json!({"message": "Not Found"})),
        )
        .mount(&server)
        .await;

    let error = get(&client(), &server, "/models", "scope-a")
        .await
        .unwrap_err();

    assert!(matches!(error, CallError::NotFound { .. }), "{error:?}");
    assert_eq!(requests_to(&server, "/models").await, 1);
}

#[tokio::test]
async fn slow_attempts_time_out() {
    let server = MockServer::start().await;
    Mock::given(path("/models"))
        .respond_with(ok_json(serde_json::json!({})).set_delay(Duration::from_secs(2)))
        .mount(&server)
        .await;
    let mut policy = policy();
    policy.max_attempts = 2;
    policy.attempt_timeout = Duration::from_millis(150);

    let error = get(&client_with(policy), &server, "/models", "scope-a")
        .await
        .unwrap_err();

    let expected = CallError::Timeout {
        operation: OPERATION.to_owned(),
        after: Duration::from_millis(150),
    };
    assert_eq!(error, expected);
    assert_eq!(requests_to(&server, "/models").await, 2);
}

#[tokio::test]
async fn operation_timeout_stops_retrying() {
    let server = MockServer::start().await;
    Mock::given(path("/models"))
        .respond_with(ok_json(serde_json::json!({})).set_delay(Duration::from_secs(2)))
        .mount(&server)
        .await;
    let mut policy = policy();
    policy.operation_timeout = Duration::from_millis(300);
    let started = Instant::now();

    let error = get(&client_with(policy), &server, "/models", "scope-a")
        .await
        .unwrap_err();

    let expected = CallError::Timeout {
        operation: OPERATION.to_owned(),
        after: Duration::from_millis(300),
    };
    assert_eq!(error, expected);
    assert!(started.elapsed() < Duration::from_secs(1));
}

#[tokio::test]
async fn malformed_json_names_the_operation() {
    let server = MockServer::start().await;
    Mock::given(path("/models"))
        .respond_with(ResponseTemplate::new(200).set_body_string("{\"items\": ["))
        .mount(&server)
        .await;

    let error = get(&client(), &server, "/models", "scope-a")
        .await
        .unwrap_err();

    assert!(matches!(&error, CallError::Malformed { operation, .. } if operation == OPERATION));
    assert!(
        error
            .to_string()
            .starts_with("test:ListModels returned a malformed answer")
    );
    assert_eq!(requests_to(&server, "/models").await, 1);
}

#[tokio::test]
async fn exhausted_rate_limit_on_success_pauses_scope() {
    let server = MockServer::start().await;
    let reset = epoch_seconds_in(2).to_string();
    let last_call = ok_json(serde_json::json!({"items": [1]}))
        .insert_header("x-ratelimit-remaining", "0")
        .insert_header("x-ratelimit-reset", reset.as_str());
    once_then_ok(&server, last_call).await;
    let client = client();
    let started = Instant::now();

    get(&client, &server, "/models", "token-a")
        .await
        .expect("first call");
    get(&client, &server, "/models", "token-a")
        .await
        .expect("call after reset");

    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn transport_error_hides_url_and_token() {
    // A port that was just free refuses the connection.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!(
        "http://{}/models?access_token=secret-value",
        listener.local_addr().unwrap()
    );
    drop(listener);
    let mut policy = policy();
    policy.max_attempts = 2;
    let client = client_with(policy);

    let request = || client.client().get(&url).bearer_auth("secret-value");
    let error = client
        .get_json("test", "scope-a", OPERATION, &request)
        .await
        .unwrap_err();

    assert!(matches!(error, CallError::Transport { .. }), "{error:?}");
    let message = error.to_string();
    assert!(!message.contains("secret-value"), "{message}");
    assert!(!message.contains("access_token"), "{message}");
}
