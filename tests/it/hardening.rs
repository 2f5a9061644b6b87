//! Limits under abuse: rate limits, body and header sizes, timeouts, load shedding, request ids.

use std::time::Duration;

use crate::common::*;
use serde_json::json;
use wix_app::model::Role;

#[tokio::test]
async fn submissions_are_rate_limited_per_visitor() {
    let app = spawn_with(&[("SUBMIT_RATE_PER_MINUTE", "5"), ("SUBMIT_BURST", "2")]).await;
    let visitor = instance(SITE_A, Role::Visitor);
    for _ in 0..2 {
        let r = app.submit_as(&visitor, json!({ "message": "hi" })).await;
        assert_eq!(r.status, 200, "{}", r.body);
    }
    let limited = app.submit_as(&visitor, json!({ "message": "hi" })).await;
    limited.assert_error(429, "too_many_requests");
    let wait: u64 = limited.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=12).contains(&wait), "retry-after {wait}");

    // Another visitor of the same site, and the same visitor id on another site, are not affected.
    let member = instance(SITE_A, Role::Member);
    let r = app.submit_as(&member, json!({ "message": "hi" })).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = app
        .submit_as(&instance(SITE_B, Role::Visitor), json!({ "message": "hi" }))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    // Nothing was stored for the refused one.
    let page = app.list(SITE_A, json!({ "status": "all" })).await;
    assert_eq!(page.items().len(), 3);
}

#[tokio::test]
async fn failed_authentication_is_rate_limited_per_address() {
    let app = spawn_with(&[("AUTH_FAILURES_PER_MINUTE", "3")]).await;
    let forged = format!("{}x", instance(SITE_A, Role::Owner));
    for _ in 0..3 {
        app.summary_as(&forged)
            .await
            .assert_error(401, "malformed_instance");
    }
    let limited = app.summary_as(&forged).await;
    limited.assert_error(429, "too_many_requests");
    assert!(limited.headers.get("retry-after").is_some());
    // A valid credential from the same address still works.
    let ok = app.summary(SITE_A).await;
    assert_eq!(ok.status, 200, "{}", ok.body);
}

#[tokio::test]
async fn body_and_header_sizes_are_bounded() {
    let app = spawn().await;
    let visitor = instance(SITE_A, Role::Visitor);
    // The largest valid message fits comfortably.
    let max = "é".repeat(2000);
    let r = app.submit_as(&visitor, json!({ "message": max })).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let over = json!({ "message": "x", "padding": "y".repeat(17 * 1024) });
    app.submit_as(&visitor, over)
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
    Reply::read(res)
        .await
        .assert_error(431, "headers_too_large");
}

#[tokio::test]
async fn slow_requests_time_out_with_json() {
    let app = spawn_with(&[("REQUEST_TIMEOUT_SECS", "1")]).await;
    app.fake.set_latency(Duration::from_millis(2500));
    let started = std::time::Instant::now();
    let r = app.summary(SITE_A).await;
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
    let slow = app.summary_as(&owner);
    let fast = async {
        tokio::time::sleep(Duration::from_millis(300)).await;
        Reply::read(app.get("/healthz").await).await
    };
    let (slow, shed) = tokio::join!(slow, fast);
    assert_eq!(slow.status, 200, "{}", slow.body);
    shed.assert_error(503, "overloaded");
    assert!(shed.headers.get("retry-after").is_some());
    // Once the slot is free, requests are served again.
    let res = app.get("/healthz").await;
    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn every_response_carries_a_request_id() {
    let app = spawn().await;
    let res = app.get("/healthz").await;
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
    // Anything but a short plain token is replaced, never echoed or logged.
    for bad in [
        "x".repeat(65),
        "has space".into(),
        "semi;colon".into(),
        "ünïcode".into(),
    ] {
        let res = app
            .client
            .get(app.url("/healthz"))
            .header("x-request-id", bad.as_bytes())
            .send()
            .await
            .unwrap();
        let id = res.headers()["x-request-id"].to_str().unwrap().to_owned();
        assert_ne!(id.as_bytes(), bad.as_bytes());
        assert_eq!(id.len(), 36, "{id}");
    }
}

/// `POST /api/site/summary` as if relayed by a proxy for `client`.
async fn summary_via_proxy(app: &TestApp, client: &str, auth: &str) -> Reply {
    let res = app
        .client
        .post(app.url("/api/site/summary"))
        .header("content-type", "application/json")
        .header("authorization", auth)
        .header("x-forwarded-for", format!("198.51.100.99, {client}"))
        .body("{}")
        .send()
        .await
        .unwrap();
    Reply::read(res).await
}

#[tokio::test]
async fn behind_a_trusted_proxy_each_client_has_its_own_failure_limit() {
    let app = spawn_with(&[
        ("AUTH_FAILURES_PER_MINUTE", "3"),
        ("TRUSTED_PROXIES", "127.0.0.1/32, ::1"),
    ])
    .await;
    let forged = format!("{}x", instance(SITE_A, Role::Owner));
    let valid = instance(SITE_A, Role::Owner);
    let (x, y) = ("203.0.113.5", "203.0.113.6");
    for _ in 0..3 {
        summary_via_proxy(&app, x, &forged)
            .await
            .assert_error(401, "malformed_instance");
    }
    summary_via_proxy(&app, x, &forged)
        .await
        .assert_error(429, "too_many_requests");
    // Another client behind the same proxy keeps its ordinary answers.
    summary_via_proxy(&app, y, &forged)
        .await
        .assert_error(401, "malformed_instance");
    assert_eq!(summary_via_proxy(&app, y, &valid).await.status, 200);
    // The limited client's valid credential is still served (an office behind one NAT).
    assert_eq!(summary_via_proxy(&app, x, &valid).await.status, 200);
    // With a port, and IPv4-mapped: the same client.
    summary_via_proxy(&app, "[::ffff:203.0.113.5]:4444", &forged)
        .await
        .assert_error(429, "too_many_requests");

    // IPv6 clients are keyed by their /64.
    for _ in 0..3 {
        summary_via_proxy(&app, "2001:db8:0:1::1", &forged)
            .await
            .assert_error(401, "malformed_instance");
    }
    summary_via_proxy(&app, "2001:db8:0:1::ffff", &forged)
        .await
        .assert_error(429, "too_many_requests");
    summary_via_proxy(&app, "2001:db8:0:2::1", &forged)
        .await
        .assert_error(401, "malformed_instance");
}

#[tokio::test]
async fn without_trusted_proxies_forwarded_for_is_ignored() {
    let app = spawn_with(&[("AUTH_FAILURES_PER_MINUTE", "3")]).await;
    let forged = format!("{}x", instance(SITE_A, Role::Owner));
    for client in ["203.0.113.1", "203.0.113.2", "203.0.113.3"] {
        summary_via_proxy(&app, client, &forged)
            .await
            .assert_error(401, "malformed_instance");
    }
    // A fresh X-Forwarded-For does not buy a fresh limit: the TCP peer is the client.
    summary_via_proxy(&app, "203.0.113.4", &forged)
        .await
        .assert_error(429, "too_many_requests");
}

#[tokio::test]
async fn submissions_are_limited_per_site_and_address_too() {
    let app = spawn_with(&[
        ("SUBMIT_RATE_PER_ADDRESS_PER_MINUTE", "1"),
        ("SUBMIT_BURST_PER_ADDRESS", "2"),
    ])
    .await;
    // Three different visitors (fresh subjects) from one address.
    let submit = |site: &'static str, n: usize| {
        let app = &app;
        async move {
            let subject = format!("visitor-{n}");
            // Signed now: the server checks signing times against its own clock.
            let credential = wix_app::auth::InstanceClaims::for_role(
                site,
                APP_ID,
                Role::Visitor,
                &subject,
                chrono::Utc::now(),
            )
            .sign(SECRET.as_bytes());
            app.submit_as(&credential, json!({ "message": "hi" })).await
        }
    };
    assert_eq!(submit(SITE_A, 1).await.status, 200);
    assert_eq!(submit(SITE_A, 2).await.status, 200);
    let limited = submit(SITE_A, 3).await;
    limited.assert_error(429, "too_many_requests");
    assert!(limited.headers.get("retry-after").is_some());
    // Another site is another budget.
    assert_eq!(submit(SITE_B, 4).await.status, 200);
    let page = app.list(SITE_A, json!({ "status": "all" })).await;
    assert_eq!(page.items().len(), 2);
}

#[tokio::test]
async fn a_global_token_info_budget_turns_junk_tokens_away_with_503() {
    let app = spawn_with(&[("TOKEN_INFO_PER_MINUTE", "3")]).await;
    for n in 0..3 {
        app.summary_as(&format!("junk-token-{n}"))
            .await
            .assert_error(401, "invalid_access_token");
    }
    let busy = app.summary_as("junk-token-3").await;
    busy.assert_error(503, "auth_unavailable");
    assert!(busy.headers.get("retry-after").is_some());
    assert_eq!(app.fake.token_info_requests(), 3);
    // Cached answers need no budget: a known token still gets its verdict.
    app.summary_as("junk-token-0")
        .await
        .assert_error(401, "invalid_access_token");
    // And signed instances never touch Token Info.
    let ok = app.summary(SITE_A).await;
    assert_eq!(ok.status, 200, "{}", ok.body);
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
        let health = Reply::read(health).await;
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
            Reply::read(res).await
        })
    };
    let fake = &app.fake;
    eventually(
        Duration::from_secs(5),
        Duration::from_millis(20),
        || async {
            match fake.requests("/oauth2/token") {
                0 => Err("the request never reached Wix".to_owned()),
                _ => Ok(()),
            }
        },
    )
    .await;

    let started = std::time::Instant::now();
    let server = app.begin_shutdown().unwrap();
    // New connections are refused soon, while the old ones are still open.
    let addr = app.addr();
    eventually(
        Duration::from_secs(1),
        Duration::from_millis(20),
        || async {
            match tokio::net::TcpStream::connect(addr).await {
                Ok(_) => Err("still accepting connections".to_owned()),
                Err(_) => Ok(()),
            }
        },
    )
    .await;
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
