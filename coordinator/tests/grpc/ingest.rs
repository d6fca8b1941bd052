//! `Ingest.StreamFindings`: acknowledgements, idempotency, resumption, poison findings
//! and backpressure.

use std::time::{Duration, Instant};

use proto::v1;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;

use crate::support::{Options, Server, batch, finding, ingest_client, send_all};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn ingest_acks_each_batch_after_storing_it() {
    let server = Server::start().await;
    let token = server.token("acme", "write").await;
    let mut client = ingest_client(&server, &token).await;

    let acks = send_all(
        &mut client,
        vec![
            batch(
                1,
                vec![
                    finding("repo-a", ".", "openai"),
                    finding("repo-a", "svc", "anthropic"),
                ],
            ),
            batch(2, vec![finding("repo-b", ".", "cohere")]),
        ],
    )
    .await;

    assert_eq!(acks.len(), 2);
    assert_eq!(acks[0].sequence, 1);
    assert_eq!(acks[0].num_accepted, 2);
    assert!(acks[0].errors.is_empty(), "{:?}", acks[0].errors);
    assert_eq!(acks[1].sequence, 2);
    assert_eq!(acks[1].num_accepted, 1);
    assert_eq!(
        server
            .count("SELECT count(*) FROM findings WHERE source = 'partner'")
            .await,
        3
    );
    assert_eq!(
        server
            .count("SELECT count(*) FROM ai_systems WHERE source = 'partner'")
            .await,
        3
    );
    let statuses = server
        .query_strings("SELECT status FROM scans WHERE source = 'ingest'")
        .await;
    assert_eq!(statuses, vec!["completed".to_owned()]);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn ingest_merges_later_batches_into_the_same_system() {
    let server = Server::start().await;
    let token = server.token("acme", "write").await;
    let mut client = ingest_client(&server, &token).await;

    send_all(
        &mut client,
        vec![batch(1, vec![finding("repo-a", ".", "openai")])],
    )
    .await;
    send_all(
        &mut client,
        vec![batch(1, vec![finding("repo-a", ".", "torch")])],
    )
    .await;

    assert_eq!(server.count("SELECT count(*) FROM ai_systems").await, 1);
    assert_eq!(
        server
            .count("SELECT count(*) FROM findings WHERE status = 'open'")
            .await,
        2
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn replayed_batch_changes_no_row() {
    let server = Server::start().await;
    let token = server.token("acme", "write").await;
    let mut client = ingest_client(&server, &token).await;
    let findings = vec![
        finding("repo-a", ".", "openai"),
        finding("repo-a", ".", "langchain"),
    ];

    send_all(&mut client, vec![batch(1, findings.clone())]).await;
    let versions_sql = "SELECT id::text || ':' || xmin::text FROM findings \
         UNION ALL SELECT id::text || ':' || xmin::text FROM ai_systems \
         UNION ALL SELECT id::text || ':' || xmin::text FROM evaluations ORDER BY 1";
    let before = server.query_strings(versions_sql).await;
    let acks = send_all(&mut client, vec![batch(1, findings)]).await;
    let after = server.query_strings(versions_sql).await;

    assert_eq!(acks[0].num_accepted, 2);
    assert!(!before.is_empty());
    assert_eq!(before, after);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn stream_cut_midway_resumes_without_duplicates() {
    let server = Server::start().await;
    let token = server.token("acme", "write").await;
    let mut client = ingest_client(&server, &token).await;
    let batches: Vec<v1::FindingBatch> = (1..=6)
        .map(|sequence| {
            let findings = (0..5)
                .map(|index| finding("repo-a", &format!("svc{sequence}"), &format!("lib{index}")))
                .collect();
            batch(sequence, findings)
        })
        .collect();

    // First connection: send everything, read three acknowledgements, then cut it.
    let (batch_tx, batch_rx) = mpsc::channel(16);
    for batch in batches.clone() {
        batch_tx.send(batch).await.unwrap();
    }
    let mut acks = client
        .stream_findings(ReceiverStream::new(batch_rx))
        .await
        .unwrap()
        .into_inner();
    let mut last_acked = 0;
    for _ in 0..3 {
        last_acked = acks.message().await.unwrap().unwrap().sequence;
    }
    drop(acks);
    drop(batch_tx);
    drop(client);

    // Second connection: resend every batch after the last acknowledgement.
    let mut client = ingest_client(&server, &token).await;
    let remaining: Vec<v1::FindingBatch> = batches
        .into_iter()
        .filter(|batch| batch.sequence > last_acked)
        .collect();
    let resent = send_all(&mut client, remaining).await;

    assert_eq!(last_acked, 3);
    assert_eq!(
        resent.iter().map(|ack| ack.sequence).collect::<Vec<_>>(),
        vec![4, 5, 6]
    );
    assert_eq!(server.count("SELECT count(*) FROM findings").await, 30);
    assert_eq!(
        server
            .count("SELECT count(DISTINCT external_id) FROM findings")
            .await,
        30
    );
    assert_eq!(server.count("SELECT count(*) FROM ai_systems").await, 6);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn poison_findings_are_rejected_alone() {
    let server = Server::start().await;
    let token = server.token("acme", "write").await;
    let mut client = ingest_client(&server, &token).await;
    let mut unknown_kind = finding("repo-a", ".", "bad-kind");
    unknown_kind.kind = "rumour".to_owned();
    let mut no_external_id = finding("repo-a", ".", "no-id");
    no_external_id.external_id = String::new();
    let mut oversized = finding("repo-a", ".", "huge");
    oversized.evidence = "x".repeat(proto::MAX_FINDING_BYTES + 1);
    let mut bad_confidence = finding("repo-a", ".", "sure");
    bad_confidence.confidence = 7.0;
    let first = batch(
        1,
        vec![
            finding("repo-a", ".", "openai"),
            unknown_kind,
            no_external_id,
            oversized,
            bad_confidence,
            finding("repo-a", ".", "torch"),
        ],
    );
    let second = batch(2, vec![finding("repo-b", ".", "cohere")]);

    let acks = send_all(&mut client, vec![first, second]).await;

    assert_eq!(acks.len(), 2);
    assert_eq!(acks[0].num_accepted, 2);
    let rejected: Vec<(u32, &str)> = acks[0]
        .errors
        .iter()
        .map(|error| (error.index, error.field.as_str()))
        .collect();
    assert_eq!(
        rejected,
        vec![
            (1, "finding.kind"),
            (2, "finding.external_id"),
            (3, ""),
            (4, "finding.confidence")
        ]
    );
    assert!(
        acks[0].errors[2].message.contains("bytes encoded"),
        "{}",
        acks[0].errors[2].message
    );
    assert_eq!(acks[1].num_accepted, 1);
    assert!(acks[1].errors.is_empty());
    assert_eq!(server.count("SELECT count(*) FROM findings").await, 3);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn batch_with_repeated_sequence_is_rejected_whole() {
    let server = Server::start().await;
    let token = server.token("acme", "write").await;
    let mut client = ingest_client(&server, &token).await;

    let acks = send_all(
        &mut client,
        vec![
            batch(5, vec![finding("repo-a", ".", "openai")]),
            batch(5, vec![finding("repo-a", ".", "torch")]),
        ],
    )
    .await;

    assert_eq!(acks[1].sequence, 5);
    assert_eq!(acks[1].num_accepted, 0);
    assert!(
        acks[1].batch_error.contains("`sequence`"),
        "{}",
        acks[1].batch_error
    );
    assert_eq!(server.count("SELECT count(*) FROM findings").await, 1);
    server.stop().await;
}

/// With a writer that commits slowly, a client that sends as fast as it can is held back:
/// it never gets far ahead of the acknowledgements, and every finding is stored.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn slow_writer_holds_the_client_back() {
    let server = Server::start_with(Options {
        writer_batch_delay: Duration::from_millis(150),
        ..Options::default()
    })
    .await;
    let token = server.token("acme", "write").await;
    let mut client = ingest_client(&server, &token).await;
    let num_batches: u64 = 40;
    // About 200 KB per batch, so the 1 MiB stream window fits about five of them. With the
    // client's send buffer, the channel and the batch being written, an estimated 10 to 12
    // batches can be in flight; a server that read ahead without bound would let the
    // client run up to all 40 ahead.
    let big_batch = |sequence: u64| {
        let findings = (0..50)
            .map(|index| {
                let mut item = finding("repo-a", &format!("svc{sequence}"), &format!("lib{index}"));
                item.evidence = "e".repeat(4000);
                item
            })
            .collect();
        batch(sequence, findings)
    };

    let (batch_tx, batch_rx) = mpsc::channel(1);
    let sent = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let sent_by_producer = sent.clone();
    let producer = tokio::spawn(async move {
        for sequence in 1..=num_batches {
            batch_tx.send(big_batch(sequence)).await.unwrap();
            sent_by_producer.store(sequence, std::sync::atomic::Ordering::SeqCst);
        }
    });
    let started = Instant::now();
    let mut acks = client
        .stream_findings(ReceiverStream::new(batch_rx))
        .await
        .unwrap()
        .into_inner();
    let mut max_ahead = 0;
    let mut num_acked = 0;
    while let Some(ack) = acks.message().await.unwrap() {
        num_acked += 1;
        assert_eq!(ack.sequence, num_acked);
        assert!(ack.errors.is_empty());
        let ahead = sent.load(std::sync::atomic::Ordering::SeqCst) - num_acked;
        max_ahead = max_ahead.max(ahead);
    }
    producer.await.unwrap();

    assert_eq!(num_acked, num_batches);
    assert!(
        max_ahead <= 14,
        "the client got {max_ahead} batches ahead of the acknowledgements"
    );
    assert!(started.elapsed() >= Duration::from_millis(150 * num_batches / 2));
    assert_eq!(
        server.count("SELECT count(*) FROM findings").await,
        50 * num_batches as i64
    );
    server.stop().await;
}

/// The per-call deadline bounds the time to a response, not the life of a stream.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn stream_outlives_the_call_deadline() {
    let mut options = Options::default();
    options.grpc.request_timeout = Duration::from_millis(300);
    let server = Server::start_with(options).await;
    let token = server.token("acme", "write").await;
    let mut client = ingest_client(&server, &token).await;

    let (batch_tx, batch_rx) = mpsc::channel(4);
    let mut acks = client
        .stream_findings(ReceiverStream::new(batch_rx))
        .await
        .unwrap()
        .into_inner();
    for sequence in 1..=3 {
        batch_tx
            .send(batch(
                sequence,
                vec![finding("repo-a", ".", &format!("lib{sequence}"))],
            ))
            .await
            .unwrap();
        let ack = acks.message().await.unwrap().unwrap();
        assert_eq!(ack.sequence, sequence);
        tokio::time::sleep(Duration::from_millis(400)).await;
    }
    drop(batch_tx);

    assert!(acks.message().await.unwrap().is_none());
    assert_eq!(server.count("SELECT count(*) FROM findings").await, 3);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn first_stream_subscribes_tenant_without_frameworks() {
    let server = Server::start().await;
    let token = server.token("acme", "write").await;
    let mut tx = server
        .db
        .store
        .begin(&crate::support::context("acme"))
        .await
        .unwrap();
    store::subscriptions::set(&mut tx, &[]).await.unwrap();
    tx.commit().await.unwrap();
    let mut client = ingest_client(&server, &token).await;

    send_all(
        &mut client,
        vec![batch(1, vec![finding("repo-a", ".", "openai")])],
    )
    .await;

    let subscribed = server
        .query_strings("SELECT framework_slug FROM framework_subscriptions")
        .await;
    assert_eq!(subscribed, vec!["eu-ai-act".to_owned()]);
    assert!(server.count("SELECT count(*) FROM evaluations").await > 0);
    server.stop().await;
}

/// A batch over the message size limit ends the stream with an error status, so the
/// client learns that the batch was not stored instead of seeing a clean close.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn oversized_batch_ends_stream_with_error() {
    let server = Server::start().await;
    let token = server.token("acme", "write").await;
    let mut client = ingest_client(&server, &token)
        .await
        .max_encoding_message_size(4 * proto::MAX_MESSAGE_BYTES);
    let num_findings = proto::MAX_MESSAGE_BYTES / 60_000 + 1;
    let findings = (0..num_findings)
        .map(|index| {
            let mut large = finding("repo-a", ".", &format!("model-{index}"));
            large.evidence = "x".repeat(60_000);
            large
        })
        .collect();
    let outbound = tokio_stream::iter(vec![batch(1, findings)]);

    let mut acks = client.stream_findings(outbound).await.unwrap().into_inner();
    let first = acks.message().await;

    let status = first.expect_err("an oversized batch must end the stream with an error");
    assert_eq!(status.code(), tonic::Code::OutOfRange, "{status:?}");
    assert_eq!(server.count("SELECT count(*) FROM findings").await, 0);
    server.stop().await;
}

/// Streams that send findings of one system at the same time take turns, so the system's
/// stored classification covers every stream's findings, as one batch with all of them
/// gives.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_streams_classify_shared_system_from_all_findings() {
    let server = Server::start().await;
    let acme = server.token("acme", "write").await;
    let reference = server.token("reference", "write").await;
    let stream_findings = |stream: usize| -> Vec<v1::Finding> {
        (0..20)
            .map(|index| finding("shared", ".", &format!("lib-{stream}-{index}")))
            .collect()
    };

    let mut streams = Vec::new();
    for stream in 0..6 {
        let mut client = ingest_client(&server, &acme).await;
        let findings = stream_findings(stream);
        streams.push(tokio::spawn(async move {
            send_all(&mut client, vec![batch(1, findings)]).await
        }));
    }
    for stream in streams {
        let acks = stream.await.unwrap();
        assert_eq!(acks[0].num_accepted, 20);
    }
    let mut client = ingest_client(&server, &reference).await;
    let all: Vec<v1::Finding> = (0..6).flat_map(stream_findings).collect();
    send_all(&mut client, vec![batch(1, all)]).await;

    let reasons = server
        .query_strings("SELECT reasons::text FROM ai_systems ORDER BY tenant_path")
        .await;
    assert_eq!(reasons.len(), 2);
    assert_eq!(reasons[0], reasons[1]);
    assert_eq!(server.count("SELECT count(*) FROM findings").await, 240);
}

/// Streams whose systems share external ids, sent in opposite orders, store every finding
/// with no rejection. Writer transactions that conflict here are run again.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn streams_sharing_external_ids_store_without_rejections() {
    let server = Server::start().await;
    let token = server.token("acme", "write").await;
    let batches_of = |stream: usize| -> Vec<v1::FindingBatch> {
        let mut ids: Vec<usize> = (0..4000).collect();
        if stream % 2 == 1 {
            ids.reverse();
        }
        ids.chunks(1000)
            .enumerate()
            .map(|(sequence, chunk)| {
                let findings = chunk
                    .iter()
                    .map(|id| {
                        let mut shared =
                            finding(&format!("scope-{stream}"), ".", &format!("lib-{id}"));
                        shared.external_id = format!("shared-{id}");
                        shared
                    })
                    .collect();
                batch(sequence as u64 + 1, findings)
            })
            .collect()
    };

    let mut streams = Vec::new();
    for stream in 0..8 {
        let mut client = ingest_client(&server, &token).await;
        let batches = batches_of(stream);
        streams.push(tokio::spawn(
            async move { send_all(&mut client, batches).await },
        ));
    }
    let mut acks = Vec::new();
    for stream in streams {
        acks.extend(stream.await.unwrap());
    }

    assert_eq!(acks.len(), 32);
    for ack in &acks {
        assert!(ack.errors.is_empty(), "{:?}", ack.errors.first());
        assert_eq!(ack.num_accepted, 1000);
    }
    assert_eq!(server.count("SELECT count(*) FROM findings").await, 4000);
}
