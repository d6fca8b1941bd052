//! Quota benchmark: crawls many scopes concurrently against a fake provider that enforces
//! an exact sliding-window quota per scope, and reports how much of the quota the crawl
//! used and how often the provider throttled it.
//!
//! The fake provider listens on 127.0.0.1 only. For each scope it keeps the arrival times
//! of the calls it served and responds with 429 to a call that would make any window of
//! `--window-ms` carry more than `--calls` calls. The engine is what a connector runs:
//! [`HttpClient`] with one [`RateLimits`] registry, [`with_retries`] inside it, and a
//! [`PageGuard`] per listing, with several listings of a scope paged concurrently.
//!
//! Run it in release: `cargo run --release -p agents --example quota_bench`, or
//! `load-tests/quota-bench.sh`. The last line is `quota utilisation: U%, throttled: T`,
//! where U is the calls served divided by the calls the quota allowed each scope over the
//! run's duration (`calls * duration / window`, summed over scopes) and T is the number of
//! 429 responses the provider sent.
//!
//! [`with_retries`]: agents::net::with_retries

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use agents::net::{CallError, HttpClient, PageGuard, PageStep, Quota, RateLimits, RetryPolicy};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::serve::ListenerExt;

/// Benchmark settings, from `--name value` arguments.
#[derive(Debug, Clone)]
struct Settings {
    scopes: usize,
    calls: u32,
    window: Duration,
    listings: usize,
    pages: u32,
    items_per_page: usize,
}

impl Settings {
    fn from_args() -> Result<Settings, String> {
        let mut settings = Settings {
            scopes: 1_000,
            calls: 4,
            window: Duration::from_secs(1),
            listings: 3,
            pages: 40,
            items_per_page: 5,
        };
        let args: Vec<String> = std::env::args().skip(1).collect();
        for pair in args.chunks(2) {
            let [name, value] = pair else {
                return Err(format!("option `{}` has no value", pair[0]));
            };
            let number: u64 = value
                .parse()
                .map_err(|_| format!("option `{name}` needs a whole number, got `{value}`"))?;
            match name.as_str() {
                "--scopes" => settings.scopes = number as usize,
                "--calls" => settings.calls = number as u32,
                "--window-ms" => settings.window = Duration::from_millis(number),
                "--listings" => settings.listings = number as usize,
                "--pages" => settings.pages = number as u32,
                "--items-per-page" => settings.items_per_page = number as usize,
                _ => {
                    return Err(format!(
                        "unknown option `{name}`: use --scopes, --calls, --window-ms, --listings, --pages or --items-per-page"
                    ));
                }
            }
        }
        if settings.scopes == 0
            || settings.calls == 0
            || settings.listings == 0
            || settings.pages == 0
        {
            return Err("--scopes, --calls, --listings and --pages must be at least 1".to_owned());
        }
        Ok(settings)
    }
}

/// The fake provider's state: served-call times per scope and the totals.
struct Provider {
    quota: Quota,
    pages: u32,
    items_per_page: usize,
    served: Vec<Mutex<VecDeque<Instant>>>,
    served_total: AtomicU64,
    throttled_total: AtomicU64,
}

impl Provider {
    /// Admits a call of `scope` arriving now if the last window holds fewer than the
    /// quota's calls; the window is `(now - window, now]`.
    fn admit(&self, scope: usize) -> bool {
        let now = Instant::now();
        let mut served = self.served[scope].lock().unwrap();
        while served
            .front()
            .is_some_and(|at| now.duration_since(*at) >= self.quota.window)
        {
            served.pop_front();
        }
        if served.len() >= self.quota.calls as usize {
            return false;
        }
        served.push_back(now);
        true
    }
}

async fn list_page(
    State(provider): State<Arc<Provider>>,
    Path((scope, listing)): Path<(usize, usize)>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    if scope >= provider.served.len() {
        return StatusCode::NOT_FOUND.into_response();
    }
    if !provider.admit(scope) {
        provider.throttled_total.fetch_add(1, Ordering::Relaxed);
        let body = r#"{"message":"quota exceeded"}"#;
        return (StatusCode::TOO_MANY_REQUESTS, [("retry-after", "1")], body).into_response();
    }
    provider.served_total.fetch_add(1, Ordering::Relaxed);

    let page: u32 = query
        .get("page")
        .and_then(|page| page.parse().ok())
        .unwrap_or(1);
    let items: Vec<String> = (0..provider.items_per_page)
        .map(|item| format!("s{scope}-l{listing}-p{page}-i{item}"))
        .collect();
    let mut body = serde_json::json!({ "items": items });
    if page < provider.pages {
        body["next"] = serde_json::Value::String((page + 1).to_string());
    }
    ([("content-type", "application/json")], body.to_string()).into_response()
}

/// Starts the fake provider on its own runtime and returns its address.
fn start_provider(provider: Arc<Provider>) -> SocketAddr {
    let (address_tx, address_rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("provider runtime");
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                .await
                .expect("bind 127.0.0.1");
            address_tx
                .send(listener.local_addr().expect("local address"))
                .expect("send address");
            // Responses go out at once, as a provider's would, instead of waiting on Nagle's
            // algorithm for the client's delayed acknowledgement.
            let listener = listener.tap_io(|stream| {
                let _ = stream.set_nodelay(true);
            });
            let router = axum::Router::new()
                .route(
                    "/scopes/{scope}/listings/{listing}",
                    axum::routing::get(list_page),
                )
                .with_state(provider);
            axum::serve(listener, router).await.expect("serve");
        });
    });
    address_rx.recv().expect("provider address")
}

/// What one scope's crawl read.
#[derive(Debug, Default)]
struct ScopeResult {
    items: u64,
    incomplete: Vec<String>,
    errors: Vec<CallError>,
}

/// Crawls every listing of one scope concurrently, as a connector does.
async fn crawl_scope(
    client: Arc<HttpClient>,
    base: String,
    scope: usize,
    settings: Settings,
) -> ScopeResult {
    let listings = (0..settings.listings).map(|listing| {
        let client = Arc::clone(&client);
        let base = base.clone();
        async move { crawl_listing(&client, &base, scope, listing, settings.pages + 1).await }
    });
    let mut result = ScopeResult::default();
    for (items, stop, error) in futures::future::join_all(listings).await {
        result.items += items;
        result.incomplete.extend(stop);
        result.errors.extend(error);
    }
    result
}

async fn crawl_listing(
    client: &HttpClient,
    base: &str,
    scope: usize,
    listing: usize,
    max_pages: u32,
) -> (u64, Option<String>, Option<CallError>) {
    let scope_id = format!("scope-{scope}");
    let mut guard = PageGuard::new(&format!("listing-{listing}"), max_pages);
    let mut url = format!("{base}/scopes/{scope}/listings/{listing}");
    let mut items = 0;
    loop {
        let request = || client.client().get(&url);
        let page = match client
            .get_json("bench", &scope_id, "bench:List", &request)
            .await
        {
            Ok(page) => page,
            Err(error) => return (items, None, Some(error)),
        };
        items += page.body["items"].as_array().map_or(0, Vec::len) as u64;
        match guard.next(page.body["next"].as_str()) {
            PageStep::Continue(token) => {
                url = format!("{base}/scopes/{scope}/listings/{listing}?page={token}");
            }
            PageStep::Done => return (items, None, None),
            PageStep::Stop(reason) => return (items, Some(reason), None),
        }
    }
}

fn main() -> Result<(), String> {
    let settings = Settings::from_args()?;
    let quota = Quota::new(settings.calls, settings.window);
    let provider = Arc::new(Provider {
        quota,
        pages: settings.pages,
        items_per_page: settings.items_per_page,
        served: (0..settings.scopes)
            .map(|_| Mutex::new(VecDeque::new()))
            .collect(),
        served_total: AtomicU64::new(0),
        throttled_total: AtomicU64::new(0),
    });
    let address = start_provider(Arc::clone(&provider));

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|error| format!("engine runtime failed to start: {error}"))?;
    let (elapsed, results) = runtime.block_on(run_engine(&settings, quota, address));

    report(&settings, &provider, elapsed, &results);
    Ok(())
}

async fn run_engine(
    settings: &Settings,
    quota: Quota,
    address: SocketAddr,
) -> (Duration, Vec<ScopeResult>) {
    let limits = RateLimits::new([("bench".to_owned(), quota)].into());
    let client = Arc::new(HttpClient::new(limits, RetryPolicy::default()));
    let base = format!("http://{address}");

    let started = Instant::now();
    let crawls: Vec<_> = (0..settings.scopes)
        .map(|scope| {
            tokio::spawn(crawl_scope(
                Arc::clone(&client),
                base.clone(),
                scope,
                settings.clone(),
            ))
        })
        .collect();
    let mut results = Vec::with_capacity(crawls.len());
    for crawl in crawls {
        results.push(crawl.await.expect("scope crawl task"));
    }
    (started.elapsed(), results)
}

fn report(settings: &Settings, provider: &Provider, elapsed: Duration, results: &[ScopeResult]) {
    let served = provider.served_total.load(Ordering::Relaxed);
    let throttled = provider.throttled_total.load(Ordering::Relaxed);
    let items: u64 = results.iter().map(|result| result.items).sum();
    let incomplete: usize = results.iter().map(|result| result.incomplete.len()).sum();
    let failed: Vec<&CallError> = results.iter().flat_map(|result| &result.errors).collect();
    let allowed_per_scope =
        f64::from(settings.calls) * elapsed.as_secs_f64() / settings.window.as_secs_f64();
    let allowed = allowed_per_scope * settings.scopes as f64;
    let utilisation = 100.0 * served as f64 / allowed;
    let expected_calls =
        settings.scopes as u64 * settings.listings as u64 * u64::from(settings.pages);
    // The strictest bound: a client could fire a full quota at the start of every window
    // the run touches, one window more than the rate allows.
    let windows_touched = (elapsed.as_secs_f64() / settings.window.as_secs_f64()).floor() + 1.0;
    let strict_allowed = f64::from(settings.calls) * windows_touched * settings.scopes as f64;

    println!(
        "scopes: {}, quota per scope: {} calls per {} ms, listings per scope: {}, pages per listing: {}",
        settings.scopes,
        settings.calls,
        settings.window.as_millis(),
        settings.listings,
        settings.pages
    );
    println!("duration: {:.2} s", elapsed.as_secs_f64());
    println!("calls served: {served} of {expected_calls} needed, items read: {items}");
    println!(
        "calls the quota allowed: {allowed:.0} ({allowed_per_scope:.1} per scope), aggregate rate: {:.0} calls/s",
        served as f64 / elapsed.as_secs_f64()
    );
    println!(
        "calls a full quota at each window start would allow: {strict_allowed:.0} (served {:.1}% of it)",
        100.0 * served as f64 / strict_allowed
    );
    println!(
        "listings cut short: {incomplete}, failed listings: {}",
        failed.len()
    );
    if let Some(error) = failed.first() {
        println!("first failure: {error}");
    }
    println!("quota utilisation: {utilisation:.1}%, throttled: {throttled}");
}
