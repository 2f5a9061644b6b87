//! Limits under abuse: rate limits, body and header sizes, timeouts, load shedding, request ids.

mod common;

use std::time::Duration;

use common::*;
use serde_json::json;
use wix_app::model::Role;

#[tokio::test]
async fn submissions_are_rate_limited_per_visitor() {
    let app = spawn_with(&[("SUBMIT_RATE_PER_MINUTE", "5"), ("SUBMIT_BURST", "2")]).await;
    let visitor = instance(SITE_A, Role::Visitor);
    for _ in 0..2 {
        let r = app
            .call(
                "/api/feedback/submit",
                Some(&visitor),
                json!({ "message": "hi" }),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
    }
    let limited = app
        .call(
            "/api/feedback/submit",
            Some(&visitor),
            json!({ "message": "hi" }),
        )
        .await;
    limited.assert_error(429, "too_many_requests");
    let wait: u64 = limited.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=12).contains(&wait), "retry-after {wait}");

    // Another visitor of the same site, and the same visitor id on another site, are not affected.
    let member = instance(SITE_A, Role::Member);
    let r = app
        .call(
            "/api/feedback/submit",
            Some(&member),
            json!({ "message": "hi" }),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = app
        .call(
            "/api/feedback/submit",
            Some(&instance(SITE_B, Role::Visitor)),
            json!({ "message": "hi" }),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    // Nothing was stored for the refused one.
    let page = app.list(SITE_A, json!({ "status": "all" })).await;
    assert_eq!(page.body["items"].as_array().unwrap().len(), 3);
}

#[tokio::test]
async fn failed_authentication_is_rate_limited_per_address() {
    let app = spawn_with(&[("AUTH_FAILURES_PER_MINUTE", "3")]).await;
    let forged = format!("{}x", instance(SITE_A, Role::Owner));
    for _ in 0..3 {
        app.call("/api/site/summary", Some(&forged), json!({}))
            .await
            .assert_error(401, "malformed_instance");
    }
    let limited = app
        .call("/api/site/summary", Some(&forged), json!({}))
        .await;
    limited.assert_error(429, "too_many_requests");
    assert!(limited.headers.get("retry-after").is_some());
    // A valid credential from the same address still works.
    let ok = app
        .call(
            "/api/site/summary",
            Some(&instance(SITE_A, Role::Owner)),
            json!({}),
        )
        .await;
    assert_eq!(ok.status, 200, "{}", ok.body);
}

#[tokio::test]
async fn body_and_header_sizes_are_bounded() {
    let app = spawn().await;
    let visitor = instance(SITE_A, Role::Visitor);
    // The largest valid message fits comfortably.
    let max = "é".repeat(2000);
    let r = app
        .call(
            "/api/feedback/submit",
            Some(&visitor),
            json!({ "message": max }),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let over = json!({ "message": "x", "padding": "y".repeat(17 * 1024) });
    app.call("/api/feedback/submit", Some(&visitor), over)
        .await
        .assert_error(413, "payload_too_large");

    let res = app
        .client
        .post(app.url("/api/feedback/submit"))
        .header("authorization", &visitor)
        .header("content-type", "application/json")
        .header("x-padding", "z".repeat(17 * 1024))
        .body(r#"{"message":"hi"}"#)
        .send()
        .await
        .unwrap();
    TestApp::reply(res)
        .await
        .assert_error(431, "headers_too_large");
}

#[tokio::test]
async fn slow_requests_time_out_with_json() {
    let app = spawn_with(&[("REQUEST_TIMEOUT_SECS", "1")]).await;
    app.fake.set_latency(Duration::from_millis(2500));
    let started = std::time::Instant::now();
    let r = app
        .call(
            "/api/site/summary",
            Some(&instance(SITE_A, Role::Owner)),
            json!({}),
        )
        .await;
    r.assert_error(503, "timeout");
    assert!(
        started.elapsed() < Duration::from_millis(2400),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn load_beyond_the_concurrency_limit_is_shed() {
    let app = spawn_with(&[("MAX_CONCURRENT_REQUESTS", "1")]).await;
    app.fake.set_latency(Duration::from_millis(1500));
    let owner = instance(SITE_A, Role::Owner);
    let slow = app.call("/api/site/summary", Some(&owner), json!({}));
    let fast = async {
        tokio::time::sleep(Duration::from_millis(300)).await;
        TestApp::reply(app.client.get(app.url("/healthz")).send().await.unwrap()).await
    };
    let (slow, shed) = tokio::join!(slow, fast);
    assert_eq!(slow.status, 200, "{}", slow.body);
    shed.assert_error(503, "overloaded");
    assert!(shed.headers.get("retry-after").is_some());
    // Once the slot is free, requests are served again.
    let res = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn every_response_carries_a_request_id() {
    let app = spawn().await;
    let res = app.client.get(app.url("/healthz")).send().await.unwrap();
    let id = res.headers()["x-request-id"].to_str().unwrap().to_owned();
    assert_eq!(id.len(), 36, "{id}");
    let r = app.call("/api/site/summary", None, json!({})).await;
    assert!(r.headers.get("x-request-id").is_some());
    let res = app
        .client
        .get(app.url("/healthz"))
        .header("x-request-id", "trace-me-123")
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["x-request-id"], "trace-me-123");
}

// ----- slow clients -----

/// Connections dribbling their request head: without a header timeout each holds its socket and
/// task for as long as the client likes.
const SLOW_HEADER_CLIENTS: usize = 400;
/// Slow-body connections: well above `MAX_CONCURRENT_REQUESTS` (64 here), so if a slow body held
/// a concurrency permit while it waited, every other request would be shed with 503.
const SLOW_BODY_CLIENTS: usize = 300;
/// How often a slow client sends its next byte.
const DRIBBLE: Duration = Duration::from_millis(1000);
/// The slow clients' first connections are spread over this long, as an attack ramps up (all at
/// once, the debug-build server's accept queue alone can take a second on a busy machine).
const RAMP_UP: Duration = Duration::from_millis(1000);

/// What a slow client sends quickly, after which it sends one byte per [`DRIBBLE`] forever.
fn slow_opening(body: bool, owner: &str) -> String {
    if body {
        format!(
            "POST /api/feedback/list HTTP/1.1\r\nHost: test\r\nAuthorization: {owner}\r\n\
             Content-Type: application/json\r\nContent-Length: 16000\r\n\r\n{{"
        )
    } else {
        "GET /healthz HTTP/1.1\r\nHost: test\r\nX-Slow: ".to_owned()
    }
}

/// After `start_after`, connects, sends `opening`, then dribbles bytes until the server answers
/// or closes, and then starts over, until `stop`. Reports on `ready` once, after its first
/// opening was sent.
async fn slow_client(
    addr: String,
    opening: String,
    start_after: Duration,
    ready: tokio::sync::mpsc::Sender<()>,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut ready = Some(ready);
    tokio::time::sleep(start_after).await;
    while !*stop.borrow() {
        let connected = std::time::Instant::now();
        let Ok(mut stream) = tokio::net::TcpStream::connect(&addr).await else {
            // Past the connection cap the connect itself waits; a failure means we are done.
            return;
        };
        if stream.write_all(opening.as_bytes()).await.is_ok() {
            if let Some(ready) = ready.take() {
                let _ = ready.send(()).await;
            }
            let mut buf = [0u8; 1024];
            loop {
                tokio::select! {
                    _ = stop.changed() => return,
                    // An answer (408) or a close: this connection is over.
                    _ = stream.read(&mut buf) => break,
                    () = tokio::time::sleep(DRIBBLE) => {
                        if stream.write_all(b" ").await.is_err() {
                            break;
                        }
                    }
                }
            }
        }
        // At most one new connection per DRIBBLE each, even if answered at once.
        tokio::select! {
            _ = stop.changed() => return,
            () = tokio::time::sleep(DRIBBLE.saturating_sub(connected.elapsed())) => {}
        }
    }
}

#[tokio::test]
async fn slow_clients_cannot_starve_health_checks_or_owners() {
    let app = spawn_with(&[
        ("MAX_CONCURRENT_REQUESTS", "64"),
        ("HEADER_READ_TIMEOUT_SECS", "2"),
        ("BODY_READ_TIMEOUT_SECS", "2"),
    ])
    .await;
    let addr = app.addr().to_owned();
    let owner = instance(SITE_A, Role::Owner);
    let (ready_tx, mut ready_rx) = tokio::sync::mpsc::channel(64);
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let mut clients = tokio::task::JoinSet::new();
    let total = SLOW_HEADER_CLIENTS + SLOW_BODY_CLIENTS;
    for i in 0..total {
        // Both kinds interleaved: SLOW_BODY_CLIENTS of every `total`.
        let body = i * SLOW_BODY_CLIENTS / total != (i + 1) * SLOW_BODY_CLIENTS / total;
        clients.spawn(slow_client(
            addr.clone(),
            slow_opening(body, &owner),
            RAMP_UP * i as u32 / total as u32,
            ready_tx.clone(),
            stop_rx.clone(),
        ));
    }
    drop(ready_tx);
    for n in 0..total {
        tokio::time::timeout(Duration::from_secs(10), ready_rx.recv())
            .await
            .unwrap_or_else(|_| panic!("only {n} slow clients connected"))
            .expect("a slow client gave up");
    }
    // Queued behind every slow connection: once it is answered (whatever the answer), the server
    // has taken them all in.
    tokio::time::timeout(
        Duration::from_secs(10),
        app.client.get(app.url("/healthz")).send(),
    )
    .await
    .expect("the server takes in the slow clients")
    .unwrap();

    // For about two header/body timeouts: the slow clients are cut off and come back meanwhile.
    let within = Duration::from_secs(1);
    for round in 0..8 {
        let started = std::time::Instant::now();
        let health = tokio::time::timeout(within, app.client.get(app.url("/healthz")).send())
            .await
            .unwrap_or_else(|_| panic!("round {round}: /healthz took over {within:?}"))
            .unwrap();
        let health = TestApp::reply(health).await;
        assert_eq!(health.status, 200, "round {round}: {}", health.body);
        let list = tokio::time::timeout(within, app.list(SITE_A, json!({})))
            .await
            .unwrap_or_else(|_| panic!("round {round}: list took over {within:?}"));
        assert_eq!(list.status, 200, "round {round}: {}", list.body);
        // Pace the probes across the slow clients' cycles.
        tokio::time::sleep(Duration::from_millis(500).saturating_sub(started.elapsed())).await;
    }
    let _ = stop_tx.send(true);
    clients.shutdown().await;
}

/// The rest of an HTTP/1.1 response from a raw socket: status and body (by `Content-Length`).
async fn read_response(stream: &mut tokio::net::tcp::OwnedReadHalf) -> (u16, String) {
    use tokio::io::AsyncReadExt;
    let mut raw = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let text = String::from_utf8_lossy(&raw).into_owned();
        if let Some((head, body)) = text.split_once("\r\n\r\n") {
            let length = head
                .lines()
                .find_map(|l| {
                    let (name, value) = l.split_once(':')?;
                    name.eq_ignore_ascii_case("content-length")
                        .then(|| value.trim().parse::<usize>().ok())?
                })
                .unwrap_or(0);
            if body.len() >= length {
                let status = head.split(' ').nth(1).unwrap().parse().unwrap();
                return (status, body.to_owned());
            }
        }
        let n = stream.read(&mut buf).await.expect("read the response");
        assert!(n > 0, "closed before a whole response: {:?}", text);
        raw.extend_from_slice(&buf[..n]);
    }
}

#[tokio::test]
async fn a_body_that_takes_too_long_gets_408() {
    use tokio::io::AsyncWriteExt;
    let app = spawn_with(&[("BODY_READ_TIMEOUT_SECS", "1")]).await;
    let stream = tokio::net::TcpStream::connect(app.addr()).await.unwrap();
    let (mut read, mut write) = stream.into_split();
    let opening = slow_opening(true, &instance(SITE_A, Role::Owner));
    write.write_all(opening.as_bytes()).await.unwrap();
    let started = std::time::Instant::now();
    let dribble = async {
        // Still sending, just too slowly: the deadline is for the whole body.
        loop {
            tokio::time::sleep(Duration::from_millis(200)).await;
            if write.write_all(b" ").await.is_err() {
                std::future::pending::<()>().await;
            }
        }
    };
    let (status, body) = tokio::select! {
        () = dribble => unreachable!(),
        answer = tokio::time::timeout(Duration::from_secs(5), read_response(&mut read)) => {
            answer.expect("an answer within 5 s")
        }
    };
    let elapsed = started.elapsed();
    assert_eq!(status, 408, "{body}");
    let body: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(body["error"], "request_timeout", "{body}");
    assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()));
    assert!(
        (Duration::from_millis(900)..Duration::from_millis(3000)).contains(&elapsed),
        "{elapsed:?}"
    );
}

#[tokio::test]
async fn a_connection_that_never_finishes_its_headers_is_closed() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let app = spawn_with(&[("HEADER_READ_TIMEOUT_SECS", "1")]).await;
    let mut stream = tokio::net::TcpStream::connect(app.addr()).await.unwrap();
    stream
        .write_all(slow_opening(false, "").as_bytes())
        .await
        .unwrap();
    let started = std::time::Instant::now();
    let mut buf = [0u8; 1024];
    let closed = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            // Dribbling does not extend the deadline: it is for the whole head.
            tokio::select! {
                read = stream.read(&mut buf) => return read.map_or(0, |n| n),
                () = tokio::time::sleep(Duration::from_millis(200)) => {
                    let _ = stream.write_all(b"x").await;
                }
            }
        }
    })
    .await
    .expect("closed within 5 s");
    let elapsed = started.elapsed();
    assert_eq!(closed, 0, "no answer, just a close");
    assert!(
        (Duration::from_millis(900)..Duration::from_millis(3000)).contains(&elapsed),
        "{elapsed:?}"
    );
}

#[tokio::test]
async fn shutdown_finishes_requests_in_flight_and_is_bounded() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut app = spawn_with(&[
        ("SHUTDOWN_GRACE_SECS", "2"),
        ("HEADER_READ_TIMEOUT_SECS", "30"),
        ("BODY_READ_TIMEOUT_SECS", "30"),
    ])
    .await;
    // A client that would keep its connection for 30 s, and a request that takes ~0.6 s.
    let mut slow = tokio::net::TcpStream::connect(app.addr()).await.unwrap();
    let opening = slow_opening(true, &instance(SITE_A, Role::Owner));
    slow.write_all(opening.as_bytes()).await.unwrap();
    app.fake.set_latency(Duration::from_millis(300));
    let in_flight = {
        let call = app.client.post(app.url("/api/site/summary"));
        let owner = instance(SITE_A, Role::Owner);
        tokio::spawn(async move {
            let res = call
                .header("authorization", owner)
                .header("content-type", "application/json")
                .body("{}")
                .send()
                .await
                .unwrap();
            TestApp::reply(res).await
        })
    };
    let mut waited = 0;
    while app.fake.requests("/oauth2/token") == 0 {
        waited += 1;
        assert!(waited < 250, "the request never reached Wix");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    let started = std::time::Instant::now();
    let server = app.begin_shutdown().unwrap();
    // New connections are refused soon, while the old ones are still open.
    let mut attempts = 0;
    while tokio::net::TcpStream::connect(app.addr()).await.is_ok() {
        attempts += 1;
        assert!(attempts < 50, "still accepting connections");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(started.elapsed() < Duration::from_secs(1));
    let reply = in_flight.await.unwrap();
    assert_eq!(reply.status, 200, "{}", reply.body);

    tokio::time::timeout(Duration::from_secs(5), server)
        .await
        .expect("the server stops within the grace period")
        .unwrap();
    let elapsed = started.elapsed();
    assert!(
        (Duration::from_millis(1800)..Duration::from_millis(3500)).contains(&elapsed),
        "{elapsed:?}"
    );
    // The slow client was cut off: no answer, just the end of the connection.
    let mut buf = [0u8; 256];
    let read = tokio::time::timeout(Duration::from_secs(1), slow.read(&mut buf))
        .await
        .expect("the slow connection is closed");
    assert!(!matches!(read, Ok(n) if n > 0), "{read:?}");
}

#[tokio::test]
async fn connections_past_the_cap_wait_until_one_closes() {
    use tokio::io::AsyncWriteExt;
    let app = spawn_with(&[("MAX_CONNECTIONS", "2"), ("HEADER_READ_TIMEOUT_SECS", "30")]).await;
    let mut held = Vec::new();
    for _ in 0..2 {
        let mut stream = tokio::net::TcpStream::connect(app.addr()).await.unwrap();
        stream
            .write_all(slow_opening(false, "").as_bytes())
            .await
            .unwrap();
        held.push(stream);
    }
    // A third client is not served while both slots are taken (it waits in the backlog)...
    let client = reqwest::Client::new();
    let mut third = Box::pin(client.get(app.url("/healthz")).send());
    assert!(
        tokio::time::timeout(Duration::from_millis(500), &mut third)
            .await
            .is_err(),
        "served past the connection cap"
    );
    // ...and is as soon as one of them goes away.
    drop(held.pop());
    let res = tokio::time::timeout(Duration::from_secs(3), third)
        .await
        .expect("served once a slot is free")
        .unwrap();
    assert_eq!(res.status(), 200);
}
