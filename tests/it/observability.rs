//! What reaches the logs: one span per request with a request id, and never a credential.
//!
//! The check reads every log line the process writes, through a process-wide log subscriber at
//! TRACE level. Installed in this binary it would capture every other test's logs too, so the
//! test runs itself again in a child process of this binary (with [`CHILD`] set), where it is
//! the only test and its subscriber sees only its own server.

use std::io::Write;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use crate::common::*;
use serde_json::json;
use wix_app::model::Role;

/// Set in the child process that runs the check.
const CHILD: &str = "WIX_APP_TEST_OBSERVABILITY_CHILD";
/// How long the child may take: it builds a server and waits for one contact sync.
const CHILD_DEADLINE: Duration = Duration::from_secs(120);

#[test]
fn logs_carry_request_context_and_never_credentials() {
    if std::env::var_os(CHILD).is_some() {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(check_logs());
    } else {
        run_in_child("logs_carry_request_context_and_never_credentials");
    }
}

/// Runs the test `name` of this module alone in a child process of this test binary, for at
/// most [`CHILD_DEADLINE`]; fails with the child's output unless it ran and passed.
fn run_in_child(name: &str) {
    // `it::observability` → the test's path as libtest names it, without the crate.
    let module = module_path!().split_once("::").map_or("", |(_, m)| m);
    let test = format!("{module}::{name}");
    let dir = tempfile::tempdir().unwrap();
    let out_path = dir.path().join("output");
    let out = std::fs::File::create(&out_path).unwrap();
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([test.as_str(), "--exact", "--nocapture"])
        .env(CHILD, "1")
        .stdin(Stdio::null())
        .stdout(out.try_clone().unwrap())
        .stderr(out)
        .spawn()
        .unwrap();
    let output = || std::fs::read_to_string(&out_path).unwrap_or_default();
    let deadline = Instant::now() + CHILD_DEADLINE;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "{test} did not finish within {CHILD_DEADLINE:?}:\n{}",
                output()
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let output = output();
    assert!(status.success(), "{test} failed ({status}):\n{output}");
    // libtest passes with no test at all when the name matches none.
    assert!(output.contains("1 passed"), "{test} did not run:\n{output}");
}

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// JSON logs at TRACE level for everything in this test binary, as production would write them.
fn logs() -> &'static Captured {
    static LOGS: OnceLock<Captured> = OnceLock::new();
    LOGS.get_or_init(|| {
        let captured = Captured::default();
        let writer = captured.clone();
        tracing_subscriber::fmt()
            .json()
            .with_current_span(true)
            .with_env_filter("trace")
            .with_writer(move || writer.clone())
            .init();
        captured
    })
}

async fn check_logs() {
    let logs = logs();
    let app = spawn().await;
    let owner = instance(SITE_A, Role::Owner);
    let visitor = instance(SITE_A, Role::Visitor);
    let token = app.fake.mint_access_token(SITE_A, "VISITOR", "v-1", 600);
    let forged = format!("{}AAAA", &owner[..owner.len() - 4]);

    let submitted = app
        .submit_as(
            &visitor,
            json!({ "message": "hello", "email": "log@example.com" }),
        )
        .await;
    assert_eq!(submitted.status, 200, "{}", submitted.body);
    let via_token = app
        .submit_as(&token, json!({ "message": "via token" }))
        .await;
    assert_eq!(via_token.status, 200, "{}", via_token.body);
    let listed = app.list(SITE_A, json!({ "status": "all" })).await;
    assert_eq!(listed.items().len(), 2, "{}", listed.body);
    let summary = app.summary_as(&owner).await;
    assert_eq!(summary.status, 200, "{}", summary.body);
    app.summary_as(&forged)
        .await
        .assert_error(401, "invalid_signature");
    app.summary_as("not-a-real-token.x.y")
        .await
        .assert_error(401, "invalid_access_token");
    let page = app.get(&format!("/dashboard?instance={owner}")).await;
    let request_id = page.headers()["x-request-id"].to_str().unwrap().to_owned();
    let html = page.text().await.unwrap();
    // Wait for the contact-sync worker to sync the email, so its calls (with the app token) are
    // logged too.
    let store = &app.store;
    eventually(
        Duration::from_secs(15),
        Duration::from_millis(50),
        || async {
            match store.contact_sync().totals().await.unwrap() {
                (_, 1, _) => Ok(()),
                totals => Err(format!("the contact was not synced: {totals:?}")),
            }
        },
    )
    .await;

    let text = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    assert!(text.len() > 1000, "logs were captured");
    for (what, secret) in [
        ("app secret", SECRET),
        ("owner instance", owner.as_str()),
        ("visitor instance", visitor.as_str()),
        ("forged instance", forged.as_str()),
        ("access token", token.as_str()),
        ("signature part", owner.split('.').next().unwrap()),
    ] {
        assert!(!text.contains(secret), "{what} reached the logs");
    }
    let (app_token, _) = app
        .store
        .app_tokens()
        .get(SITE_A)
        .await
        .unwrap()
        .expect("an app token was used");
    assert!(!text.contains(&app_token), "an app token reached the logs");
    // The access log line of the page request names its request id and path, not the query.
    assert!(text.contains(&request_id), "request id in logs");
    assert!(text.contains("\"path\":\"/dashboard\""), "path in the span");
    assert!(
        !text.contains("instance=ey") && !text.contains("?instance="),
        "query in logs"
    );
    // Verified requests record the instance and role on their span.
    assert!(
        text.contains(&format!("\"instance_id\":\"{SITE_A}\"")),
        "instance id on spans"
    );
    assert!(text.contains("\"role\":\"owner\""), "role on spans");
    // The page does not echo the credential into the HTML.
    assert!(
        !html.contains(owner.split('.').next().unwrap()),
        "instance echoed into the HTML"
    );
}
