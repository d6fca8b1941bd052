//! The health endpoint answers over real HTTP.

use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[tokio::test]
async fn healthz_returns_ok() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(gateway::serve(listener, async {
        let _ = stop_rx.await;
    }));

    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();

    assert!(response.starts_with("HTTP/1.1 200"), "unexpected response: {response}");
    assert!(response.ends_with("ok"), "unexpected body: {response}");
    stop_tx.send(()).unwrap();
    server.await.unwrap().unwrap();
}
