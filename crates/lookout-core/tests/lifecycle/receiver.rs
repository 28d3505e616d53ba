//! A local HTTP endpoint that accepts envelopes (as Spotlight or Sentry would)
//! and parses each body with sentry-types.
#![allow(unreachable_pub)]

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use sentry_core::Envelope;

/// Envelopes received so far, parsed.
#[derive(Clone, Default)]
pub struct Received(Arc<Mutex<Vec<Envelope>>>);

impl Received {
    pub fn len(&self) -> usize {
        self.0.lock().unwrap().len()
    }

    pub fn envelopes(&self) -> Vec<Envelope> {
        self.0.lock().unwrap().clone()
    }
}

/// Serves on `addr` in the background of `runtime`, until the runtime ends.
pub fn serve(runtime: &tokio::runtime::Runtime, addr: SocketAddr) -> Received {
    let received = Received::default();
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind(addr))
        .expect("bind the receiver");
    let store = received.clone();
    runtime.spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let store = store.clone();
            tokio::spawn(async move {
                let service = service_fn(move |request: Request<hyper::body::Incoming>| {
                    let store = store.clone();
                    async move {
                        let content_type = request
                            .headers()
                            .get("content-type")
                            .and_then(|v| v.to_str().ok())
                            .unwrap_or_default()
                            .to_owned();
                        let body = request.into_body().collect().await?.to_bytes();
                        assert_eq!(content_type, "application/x-sentry-envelope");
                        let envelope = Envelope::from_slice(&body).expect("a valid envelope");
                        store.0.lock().unwrap().push(envelope);
                        Ok::<_, hyper::Error>(Response::new(Full::new(Bytes::from_static(b"{}"))))
                    }
                });
                let _ = http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    received
}
