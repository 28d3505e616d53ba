//! What only a real server shows: `serve` and `wrap` under `warp::serve`.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use lookout_core::testing::TestLookout;
use sentry_core::protocol::SpanStatus;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpListener;
use tokio::sync::Notify;
use warp::Filter;

use crate::{layer, status_of, test_lookout};

async fn listener() -> (TcpListener, SocketAddr) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    (listener, addr)
}

/// Waits (up to 10 s) until `test` captured `count` transactions.
async fn transactions(
    test: &TestLookout,
    count: usize,
) -> Vec<sentry_core::protocol::Transaction<'static>> {
    for _ in 0..100 {
        let transactions = test.transactions();
        if transactions.len() >= count {
            return transactions;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    test.transactions()
}

fn peer() -> impl Filter<Extract = (String,), Error = warp::Rejection> + Clone {
    warp::path!("peer")
        .and(lookout_warp::route("/peer"))
        .and(lookout_warp::remote_addr())
        .and(warp::addr::remote())
        .map(|ours: Option<SocketAddr>, warps: Option<SocketAddr>| {
            format!("{} {}", ours.is_some(), warps.is_some())
        })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrap_under_warp_serve_keeps_the_body_length_and_the_peer_address() {
    let test = test_lookout(&[]);
    let routes = warp::path!("len")
        .and(lookout_warp::route("/len"))
        .map(|| "12345")
        .or(peer());
    let (listener, addr) = listener().await;
    let server = tokio::spawn(
        warp::serve(layer(&test).wrap(routes))
            .incoming(listener)
            .run(),
    );
    let http = reqwest_client::Client::new();
    let response = http.get(format!("http://{addr}/len")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.headers().contains_key("x-request-id"));
    assert_eq!(response.text().await.unwrap(), "12345");
    // A HEAD answer has no body to count: its length is the one the body
    // knew, kept through the stream warp's response type needs.
    let head = http
        .head(format!("http://{addr}/len"))
        .send()
        .await
        .unwrap();
    assert_eq!(head.status(), 200);
    assert_eq!(
        head.headers()
            .get("content-length")
            .map(|v| v.to_str().unwrap().to_owned()),
        Some("5".to_owned()),
        "{:?}",
        head.headers()
    );
    let seen = http
        .get(format!("http://{addr}/peer"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        seen.text().await.unwrap(),
        "true false",
        "remote_addr sees the peer inside wrap, warp's own filter does not"
    );
    let mut names: Vec<String> = transactions(&test, 3)
        .await
        .iter()
        .map(|tx| tx.name.clone().unwrap_or_default())
        .collect();
    names.sort();
    assert_eq!(names, ["GET /len", "GET /peer", "HEAD /len"]);
    server.abort();
}

/// Without aborting the wrapped filter's task when warp drops the request,
/// the handler below would sleep on and its transaction never end.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_dropped_under_wrap_ends_as_cancelled() {
    let test = test_lookout(&[]);
    let started = Arc::new(Notify::new());
    let notify = Arc::clone(&started);
    let routes = warp::path!("hang")
        .and(lookout_warp::route("/hang"))
        .and_then(move || {
            let notify = Arc::clone(&notify);
            async move {
                notify.notify_one();
                tokio::time::sleep(Duration::from_secs(3600)).await;
                Ok::<_, warp::Rejection>("late")
            }
        });
    let (listener, addr) = listener().await;
    let server = tokio::spawn(
        warp::serve(layer(&test).wrap(routes))
            .incoming(listener)
            .run(),
    );
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(b"GET /hang HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .await
        .unwrap();
    tokio::time::timeout(Duration::from_secs(10), started.notified())
        .await
        .expect("the handler started");
    drop(stream);
    let transactions = transactions(&test, 1).await;
    assert_eq!(
        transactions.len(),
        1,
        "the dropped request ended its transaction"
    );
    assert_eq!(transactions[0].name.as_deref(), Some("GET /hang"));
    assert_eq!(status_of(&transactions[0]), Some(SpanStatus::Cancelled));
    server.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_sees_the_peer_and_finishes_requests_in_flight_on_shutdown() {
    let test = test_lookout(&[]);
    let started = Arc::new(Notify::new());
    let notify = Arc::clone(&started);
    let slow = warp::path!("slow")
        .and(lookout_warp::route("/slow"))
        .and_then(move || {
            let notify = Arc::clone(&notify);
            async move {
                notify.notify_one();
                tokio::time::sleep(Duration::from_millis(300)).await;
                Ok::<_, warp::Rejection>("done")
            }
        });
    let (listener, addr) = listener().await;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(
        layer(&test)
            .serve(slow.or(peer()))
            .graceful(async {
                let _ = stopped.await;
            })
            .run_incoming(listener),
    );
    let http = reqwest_client::Client::new();
    let seen = http
        .get(format!("http://{addr}/peer"))
        .send()
        .await
        .unwrap();
    assert_eq!(seen.text().await.unwrap(), "true false");

    let in_flight = tokio::spawn({
        let http = http.clone();
        async move { http.get(format!("http://{addr}/slow")).send().await }
    });
    tokio::time::timeout(Duration::from_secs(10), started.notified())
        .await
        .expect("the slow handler started");
    stop.send(()).unwrap();
    let response = in_flight
        .await
        .unwrap()
        .expect("answered despite the shutdown");
    assert_eq!(response.status(), 200);
    assert_eq!(response.text().await.unwrap(), "done");
    tokio::time::timeout(Duration::from_secs(10), server)
        .await
        .expect("run_incoming returns once the requests in flight are done")
        .unwrap();
    assert!(
        tokio::net::TcpStream::connect(addr).await.is_err(),
        "no longer accepting"
    );
    let names: Vec<String> = transactions(&test, 2)
        .await
        .iter()
        .map(|tx| tx.name.clone().unwrap_or_default())
        .collect();
    assert!(names.contains(&"GET /slow".to_owned()), "{names:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_reports_a_port_it_cannot_bind() {
    let (_taken, addr) = listener().await;
    let error = lookout_warp::serve(warp::any().map(|| "ok"))
        .run(addr)
        .await
        .expect_err("the port is taken");
    assert_eq!(error.kind(), std::io::ErrorKind::AddrInUse);
}
