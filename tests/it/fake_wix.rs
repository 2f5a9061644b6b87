//! The fake Wix over real loopback HTTP: every endpoint, the Wix error shape, fault injection,
//! latency, outage, revocation and counters. The real Wix client is tested against this fake, so
//! the fake itself must behave like Wix does.

use std::time::{Duration, Instant};

use crate::common::{Reply, APP_ID, SECRET, SITE_A, SITE_B};
use serde_json::{json, Value};
use wix_app::wix::fake::{FakeContact, FakeWix};

struct Fake {
    wix: FakeWix,
    base: String,
    http: reqwest::Client,
}

async fn fake() -> Fake {
    let wix = FakeWix::new(APP_ID, SECRET);
    let base = wix.spawn().await;
    Fake {
        wix,
        base,
        http: reqwest::Client::new(),
    }
}

impl Fake {
    async fn post(&self, path: &str, auth: Option<&str>, body: Value) -> Reply {
        let mut request = self.http.post(format!("{}{path}", self.base)).json(&body);
        if let Some(auth) = auth {
            request = request.header("Authorization", auth);
        }
        Reply::read_json(request.send().await.unwrap()).await
    }

    async fn post_raw(&self, path: &str, body: &'static str) -> Reply {
        let request = self
            .http
            .post(format!("{}{path}", self.base))
            .header("Content-Type", "application/json")
            .body(body);
        Reply::read_json(request.send().await.unwrap()).await
    }

    async fn get(&self, path: &str, auth: Option<&str>) -> Reply {
        let mut request = self.http.get(format!("{}{path}", self.base));
        if let Some(auth) = auth {
            request = request.header("Authorization", auth);
        }
        Reply::read_json(request.send().await.unwrap()).await
    }

    async fn token_call(&self, instance_id: &str, secret: &str) -> Reply {
        self.post(
            "/oauth2/token",
            None,
            json!({
                "grant_type": "client_credentials",
                "client_id": APP_ID,
                "client_secret": secret,
                "instance_id": instance_id,
            }),
        )
        .await
    }

    async fn app_token(&self, instance_id: &str) -> String {
        let r = self.token_call(instance_id, SECRET).await;
        assert_eq!(r.status, 200, "{}", r.body);
        r.body["access_token"].as_str().unwrap().to_owned()
    }

    async fn token_info(&self, token: &str) -> Reply {
        self.post("/oauth2/token-info", None, json!({ "token": token }))
            .await
    }

    async fn create_contact(&self, token: &str, email: &str, first: &str) -> Reply {
        self.post(
            "/contacts/v4/contacts",
            Some(token),
            json!({
                "info": {
                    "name": { "first": first, "last": "Tester" },
                    "emails": { "items": [{ "tag": "MAIN", "email": email }] },
                },
                "allowDuplicates": false,
            }),
        )
        .await
    }

    async fn query_email(&self, token: &str, filter: Value) -> Reply {
        self.post(
            "/contacts/v4/contacts/query",
            Some(token),
            json!({ "query": { "filter": filter, "paging": { "limit": 50, "offset": 0 } } }),
        )
        .await
    }
}

/// `{message, details: {applicationError: {code, description}}}` with this code.
fn assert_app_error(r: &Reply, status: u16, code: &str) {
    assert_eq!(r.status, status, "{}", r.body);
    assert!(r.body["message"].is_string(), "{}", r.body);
    let error = &r.body["details"]["applicationError"];
    assert_eq!(error["code"], code, "{}", r.body);
    assert!(error["description"].is_string(), "{}", r.body);
}

fn violated_fields(r: &Reply) -> Vec<String> {
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(r.body["message"].is_string(), "{}", r.body);
    r.body["details"]["validationError"]["fieldViolations"]
        .as_array()
        .unwrap_or_else(|| panic!("no fieldViolations: {}", r.body))
        .iter()
        .map(|v| {
            assert!(v["description"].is_string(), "{v}");
            assert!(v["violatedRule"].is_string(), "{v}");
            v["field"].as_str().unwrap().to_owned()
        })
        .collect()
}

#[tokio::test]
async fn client_credentials_issue_tokens_and_check_the_app_credentials() {
    let f = fake().await;
    let r = f.token_call(SITE_A, SECRET).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let token = r.body["access_token"].as_str().unwrap();
    assert!(!token.is_empty());
    assert!(!token.contains(SECRET));
    assert!(
        token.matches('.').count() >= 2,
        "must not look like a signed instance: {token}"
    );
    assert_eq!(r.body["token_type"], "Bearer");
    assert_eq!(r.body["expires_in"], 14_400);

    // A second call gives a different token.
    let again = f.app_token(SITE_A).await;
    assert_ne!(again, token);

    let r = f.token_call(SITE_A, "wrong-secret").await;
    assert_app_error(&r, 401, "UNAUTHENTICATED");
    assert!(!r.body.to_string().contains("wrong-secret"));

    let r = f
        .post(
            "/oauth2/token",
            None,
            json!({ "grant_type": "client_credentials", "client_id": "other-app",
                    "client_secret": SECRET, "instance_id": SITE_A }),
        )
        .await;
    assert_app_error(&r, 401, "UNAUTHENTICATED");

    let r = f
        .post(
            "/oauth2/token",
            None,
            json!({ "grant_type": "client_credentials", "client_id": APP_ID, "client_secret": SECRET }),
        )
        .await;
    assert_eq!(violated_fields(&r), ["instance_id"]);

    let r = f
        .post(
            "/oauth2/token",
            None,
            json!({ "grant_type": "authorization_code", "client_id": APP_ID,
                    "client_secret": SECRET, "instance_id": SITE_A }),
        )
        .await;
    assert_eq!(violated_fields(&r), ["grant_type"]);

    let r = f.post_raw("/oauth2/token", "{not json").await;
    assert_app_error(&r, 400, "INVALID_ARGUMENT");

    // Every call naming SITE_A counted, the failed ones too.
    assert_eq!(f.wix.token_requests(SITE_A), 5);
    assert_eq!(f.wix.token_requests(SITE_B), 0);
    assert_eq!(f.wix.requests("/oauth2/token"), 7);

    // A shorter TTL applies to new tokens; TTL 0 is expired on arrival.
    f.wix.set_token_ttl(0);
    let r = f.token_call(SITE_A, SECRET).await;
    assert_eq!(r.body["expires_in"], 0);
    let expired = r.body["access_token"].as_str().unwrap().to_owned();
    assert_app_error(
        &f.get("/apps/v1/instance", Some(&expired)).await,
        401,
        "UNAUTHENTICATED",
    );
    assert_eq!(f.token_info(&expired).await.body["active"], false);
}

#[tokio::test]
async fn token_info_describes_app_minted_expired_foreign_and_unknown_tokens() {
    let f = fake().await;

    let app = f.app_token(SITE_A).await;
    let r = f.token_info(&app).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let info = &r.body;
    assert_eq!(info["active"], true);
    assert_eq!(info["subjectType"], "APP");
    assert_eq!(info["clientId"], APP_ID);
    assert_eq!(info["instanceId"], SITE_A);
    assert!(info["siteId"].as_str().is_some_and(|s| !s.is_empty()));
    let (iat, exp) = (info["iat"].as_i64().unwrap(), info["exp"].as_i64().unwrap());
    assert_eq!(exp - iat, 14_400);
    let now = chrono::Utc::now().timestamp();
    assert!((iat - now).abs() <= 5, "iat {iat} vs now {now}");
    let site_id = info["siteId"].clone();

    let visitor = f.wix.mint_access_token(SITE_A, "VISITOR", "visitor-1", 600);
    let r = f.token_info(&visitor).await;
    assert_eq!(r.body["active"], true);
    assert_eq!(r.body["subjectType"], "VISITOR");
    assert_eq!(r.body["subjectId"], "visitor-1");
    assert_eq!(r.body["clientId"], APP_ID);
    assert_eq!(r.body["instanceId"], SITE_A);
    assert_eq!(r.body["siteId"], site_id, "one site per instance");
    assert!(r.body["exp"].as_i64().unwrap() > now);

    let expired = f.wix.mint_access_token(SITE_A, "USER", "owner-1", -60);
    let r = f.token_info(&expired).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["active"], false);
    assert_eq!(r.body["subjectType"], "USER");
    assert!(r.body["exp"].as_i64().unwrap() < now);

    let foreign = f.wix.mint_foreign_access_token(SITE_A, "some-other-app");
    let r = f.token_info(&foreign).await;
    assert_eq!(r.body["active"], true);
    assert_eq!(r.body["clientId"], "some-other-app");

    let r = f.token_info("OauthNG.JWS.never.issued").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body, json!({ "active": false }));

    let r = f.post("/oauth2/token-info", None, json!({})).await;
    assert_eq!(violated_fields(&r), ["token"]);
    let r = f.post_raw("/oauth2/token-info", "[1,").await;
    assert_app_error(&r, 400, "INVALID_ARGUMENT");

    assert_eq!(f.wix.token_info_requests(), 7);
}

#[tokio::test]
async fn app_instance_reports_the_site_of_the_tokens_instance() {
    let f = fake().await;
    let token = f.app_token(SITE_A).await;
    let r = f.get("/apps/v1/instance", Some(&token)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["instance"]["instanceId"], SITE_A);
    assert_eq!(r.body["instance"]["appName"], "Feedback inbox");
    assert_eq!(r.body["instance"]["isFree"], true);
    assert!(r.body["instance"]["permissions"].is_array());
    assert_eq!(r.body["site"]["siteDisplayName"], "Demo site site-a-0");
    assert_eq!(r.body["site"]["locale"], "en");
    assert!(r.body["site"]["url"]
        .as_str()
        .unwrap()
        .starts_with("https://demo.wixsite.com/"));
    let info = f.token_info(&token).await;
    assert_eq!(r.body["site"]["siteId"], info.body["siteId"]);

    f.wix.set_site_name(SITE_A, "Flower shop");
    // `Bearer ` is tolerated.
    let r = f
        .get("/apps/v1/instance", Some(&format!("Bearer {token}")))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["site"]["siteDisplayName"], "Flower shop");

    let other = f.app_token(SITE_B).await;
    let r = f.get("/apps/v1/instance", Some(&other)).await;
    assert_eq!(r.body["instance"]["instanceId"], SITE_B);
    assert_eq!(r.body["site"]["siteDisplayName"], "Demo site site-b-0");

    assert_app_error(
        &f.get("/apps/v1/instance", None).await,
        401,
        "UNAUTHENTICATED",
    );
    assert_app_error(
        &f.get("/apps/v1/instance", Some("OauthNG.JWS.unknown.token"))
            .await,
        401,
        "UNAUTHENTICATED",
    );
    let visitor = f.wix.mint_access_token(SITE_A, "VISITOR", "v", 600);
    assert_app_error(
        &f.get("/apps/v1/instance", Some(&visitor)).await,
        403,
        "PERMISSION_DENIED",
    );
    assert_eq!(f.wix.requests("/apps/v1/instance"), 6);
}

#[tokio::test]
async fn contacts_are_created_deduplicated_by_email_and_queried_per_instance() {
    let f = fake().await;
    let token = f.app_token(SITE_A).await;

    let r = f.create_contact(&token, "Fan@Example.com", "Ada").await;
    assert_eq!(r.status, 200, "{}", r.body);
    let contact = &r.body["contact"];
    let id = contact["id"].as_str().unwrap().to_owned();
    assert_eq!(contact["revision"], 1);
    assert_eq!(contact["info"]["name"]["first"], "Ada");
    assert_eq!(contact["info"]["name"]["last"], "Tester");
    assert_eq!(
        contact["info"]["emails"]["items"][0]["email"],
        "Fan@Example.com"
    );
    assert_eq!(contact["info"]["emails"]["items"][0]["tag"], "MAIN");
    assert_eq!(contact["primaryInfo"]["email"], "Fan@Example.com");
    assert_eq!(
        f.wix.contacts(SITE_A),
        vec![FakeContact {
            id: id.clone(),
            email: Some("Fan@Example.com".into()),
            first_name: Some("Ada".into()),
            last_name: Some("Tester".into()),
            revision: 1,
        }]
    );

    // Same email, other case: 409 naming the existing contact; nothing stored.
    let r = f.create_contact(&token, "fan@example.COM", "Eve").await;
    assert_app_error(&r, 409, "DUPLICATE_CONTACT_EXISTS");
    assert_eq!(
        r.body["details"]["applicationError"]["data"]["duplicateContactId"],
        id.as_str()
    );
    assert_eq!(f.wix.contacts(SITE_A).len(), 1);

    // allowDuplicates: true creates a second one.
    let r = f
        .post(
            "/contacts/v4/contacts",
            Some(&token),
            json!({ "info": { "emails": { "items": [{ "tag": "MAIN", "email": "fan@example.com" }] } },
                    "allowDuplicates": true }),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let second = r.body["contact"]["id"].as_str().unwrap().to_owned();
    assert_ne!(second, id);

    // Both filter spellings find both, oldest first.
    for filter in [
        json!({ "info.emails.email": "FAN@example.com" }),
        json!({ "info.emails.email": { "$eq": "fan@example.com" } }),
    ] {
        let r = f.query_email(&token, filter).await;
        assert_eq!(r.status, 200, "{}", r.body);
        let ids: Vec<&str> = r.body["contacts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["id"].as_str().unwrap())
            .collect();
        assert_eq!(ids, [id.as_str(), second.as_str()]);
        assert_eq!(
            r.body["pagingMetadata"],
            json!({ "count": 2, "offset": 0, "total": 2, "tooManyToCount": false })
        );
    }
    let r = f
        .post(
            "/contacts/v4/contacts/query",
            Some(&token),
            json!({ "query": { "filter": { "info.emails.email": "fan@example.com" },
                               "paging": { "limit": 1, "offset": 1 } } }),
        )
        .await;
    assert_eq!(r.body["contacts"][0]["id"], second.as_str());
    assert_eq!(r.body["pagingMetadata"]["count"], 1);
    assert_eq!(r.body["pagingMetadata"]["total"], 2);
    let r = f
        .query_email(&token, json!({ "info.emails.email": "nobody@example.com" }))
        .await;
    assert_eq!(r.body["contacts"], json!([]));
    assert_eq!(r.body["pagingMetadata"]["total"], 0);

    // Another instance sees none of them and may use the same email.
    let other = f.app_token(SITE_B).await;
    let r = f
        .query_email(&other, json!({ "info.emails.email": "fan@example.com" }))
        .await;
    assert_eq!(r.body["contacts"], json!([]));
    let r = f.create_contact(&other, "fan@example.com", "Bo").await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(f.wix.contacts(SITE_B).len(), 1);
    assert_eq!(f.wix.contacts(SITE_A).len(), 2);

    // A visitor or member may not create contacts; the app may.
    for subject in ["VISITOR", "MEMBER"] {
        let token = f.wix.mint_access_token(SITE_A, subject, "someone", 600);
        let r = f.create_contact(&token, "new@example.com", "Vi").await;
        assert_app_error(&r, 403, "PERMISSION_DENIED");
    }
    let foreign = f.wix.mint_foreign_access_token(SITE_A, "some-other-app");
    assert_app_error(
        &f.create_contact(&foreign, "new@example.com", "Fo").await,
        403,
        "PERMISSION_DENIED",
    );
    assert_app_error(
        &f.create_contact("", "new@example.com", "No").await,
        401,
        "UNAUTHENTICATED",
    );
    assert_eq!(f.wix.contacts(SITE_A).len(), 2);

    // Bad bodies: field violations, never a panic.
    let r = f
        .post("/contacts/v4/contacts", Some(&token), json!({}))
        .await;
    assert_eq!(violated_fields(&r), ["info"]);
    let r = f
        .post(
            "/contacts/v4/contacts",
            Some(&token),
            json!({ "info": { "emails": { "items": [{ "tag": "MAIN", "email": "not-an-email" }] } } }),
        )
        .await;
    assert_eq!(violated_fields(&r), ["info.emails.items[0].email"]);
    let r = f
        .post(
            "/contacts/v4/contacts",
            Some(&token),
            json!({ "info": { "name": { "first": 7 } }, "allowDuplicates": "yes" }),
        )
        .await;
    assert_eq!(violated_fields(&r), ["allowDuplicates", "info.name.first"]);
    let r = f
        .post(
            "/contacts/v4/contacts",
            Some(&token),
            json!({ "info": { "name": {} } }),
        )
        .await;
    assert_eq!(violated_fields(&r), ["info"]);
    let r = f
        .query_email(&token, json!({ "info.phones.phone": "123" }))
        .await;
    assert_eq!(violated_fields(&r), ["query.filter.info.phones.phone"]);
    let r = f
        .post(
            "/contacts/v4/contacts/query",
            Some(&token),
            json!({ "query": { "paging": { "limit": 0 } } }),
        )
        .await;
    assert_eq!(violated_fields(&r), ["query.paging.limit"]);
    let r = f
        .http
        .post(format!("{}/contacts/v4/contacts", f.base))
        .header("Authorization", &token)
        .body("{\"info\":")
        .send()
        .await
        .unwrap();
    assert_app_error(&Reply::read_json(r).await, 400, "INVALID_ARGUMENT");
    assert_eq!(f.wix.contacts(SITE_A).len(), 2);

    // The control endpoint lists them too.
    let r = f
        .get(&format!("/_fake/contacts?instance_id={SITE_A}"), None)
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["contacts"][0]["id"], id.as_str());
    assert_eq!(r.body["contacts"][0]["email"], "Fan@Example.com");
    assert_eq!(r.body["contacts"][0]["first_name"], "Ada");
    assert_eq!(r.body["contacts"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn injected_faults_fail_the_next_calls_then_stop() {
    let f = fake().await;
    let token = f.app_token(SITE_A).await;

    f.wix.fail_next(2, 429, Some(7));
    f.wix.fail_next(1, 500, None);
    // Control calls are never faulted and do not consume faults.
    let r = f.get("/_fake/counters", None).await;
    assert_eq!(r.status, 200);

    for _ in 0..2 {
        let r = f.get("/apps/v1/instance", Some(&token)).await;
        assert_app_error(&r, 429, "TOO_MANY_REQUESTS");
        assert_eq!(r.headers["retry-after"], "7");
    }
    // Faults hit every Wix endpoint, token calls too.
    let r = f.token_call(SITE_A, SECRET).await;
    assert_app_error(&r, 500, "INTERNAL");
    assert!(r.headers.get("retry-after").is_none());

    let r = f.get("/apps/v1/instance", Some(&token)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.headers.get("retry-after").is_none());

    // A faulted token call still counts for its instance.
    assert_eq!(f.wix.token_requests(SITE_A), 2);
    assert_eq!(f.wix.requests("/apps/v1/instance"), 3);

    // Over HTTP.
    let r = f
        .post(
            "/_fake/faults",
            None,
            json!({ "count": 1, "status": 503, "retry_after_secs": 2 }),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["pending"], 1);
    let r = f.create_contact(&token, "a@example.com", "A").await;
    assert_app_error(&r, 503, "UNAVAILABLE");
    assert_eq!(r.headers["retry-after"], "2");
    assert!(
        f.wix.contacts(SITE_A).is_empty(),
        "a failed call stores nothing"
    );
    let r = f.create_contact(&token, "a@example.com", "A").await;
    assert_eq!(r.status, 200, "{}", r.body);

    let r = f
        .post("/_fake/faults", None, json!({ "count": 1, "status": 200 }))
        .await;
    assert_eq!(violated_fields(&r), ["status"]);
}

#[tokio::test]
async fn latency_delays_wix_calls_but_not_control_calls() {
    let f = fake().await;
    let token = f.app_token(SITE_A).await;
    f.wix.set_latency(Duration::from_millis(300));

    let started = Instant::now();
    let r = f.get("/apps/v1/instance", Some(&token)).await;
    assert_eq!(r.status, 200);
    assert!(started.elapsed() >= Duration::from_millis(300));

    let started = Instant::now();
    f.get("/_fake/counters", None).await;
    assert!(started.elapsed() < Duration::from_millis(300));

    let r = f.post("/_fake/latency", None, json!({ "millis": 0 })).await;
    assert_eq!(r.status, 200);
    let started = Instant::now();
    f.get("/apps/v1/instance", Some(&token)).await;
    assert!(started.elapsed() < Duration::from_millis(300));
}

#[tokio::test]
async fn down_answers_503_until_back_up() {
    let f = fake().await;
    let token = f.app_token(SITE_A).await;
    f.wix.fail_next(1, 429, None);
    f.wix.set_down(true);
    for r in [
        f.get("/apps/v1/instance", Some(&token)).await,
        f.token_call(SITE_A, SECRET).await,
        f.token_info(&token).await,
        f.create_contact(&token, "x@example.com", "X").await,
    ] {
        assert_app_error(&r, 503, "UNAVAILABLE");
    }
    assert!(f.wix.contacts(SITE_A).is_empty());

    // Back up over HTTP; the pending fault was not consumed while down.
    let r = f.post("/_fake/down", None, json!({ "down": false })).await;
    assert_eq!(r.body, json!({ "down": false }));
    assert_eq!(f.get("/apps/v1/instance", Some(&token)).await.status, 429);
    assert_eq!(f.get("/apps/v1/instance", Some(&token)).await.status, 200);

    let r = f.post("/_fake/down", None, json!({ "down": true })).await;
    assert_eq!(r.status, 200);
    assert_eq!(f.get("/apps/v1/instance", Some(&token)).await.status, 503);
}

#[tokio::test]
async fn revoked_app_tokens_get_401_and_new_ones_work() {
    let f = fake().await;
    let a = f.app_token(SITE_A).await;
    let b = f.app_token(SITE_B).await;
    let owner = f.wix.mint_access_token(SITE_A, "USER", "owner", 600);
    f.wix.revoke_app_tokens(SITE_A);

    assert_app_error(
        &f.get("/apps/v1/instance", Some(&a)).await,
        401,
        "UNAUTHENTICATED",
    );
    assert_eq!(f.token_info(&a).await.body["active"], false);
    // Other instances and non-app tokens are untouched.
    assert_eq!(f.get("/apps/v1/instance", Some(&b)).await.status, 200);
    assert_eq!(f.get("/apps/v1/instance", Some(&owner)).await.status, 200);

    let fresh = f.app_token(SITE_A).await;
    assert_eq!(f.get("/apps/v1/instance", Some(&fresh)).await.status, 200);

    // Over HTTP.
    let r = f
        .post("/_fake/revoke", None, json!({ "instance_id": SITE_A }))
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(f.get("/apps/v1/instance", Some(&fresh)).await.status, 401);
}

#[tokio::test]
async fn counters_count_every_call_per_path_and_instance() {
    let f = fake().await;
    let a = f.app_token(SITE_A).await;
    f.app_token(SITE_A).await;
    f.app_token(SITE_B).await;
    f.token_info(&a).await;
    f.get("/apps/v1/instance", Some(&a)).await;
    f.get("/apps/v1/instance", None).await;
    let r = f.get("/contacts/v4/nope", Some(&a)).await;
    assert_app_error(&r, 404, "NOT_FOUND");
    let r = Reply::read_json(
        f.http
            .delete(format!("{}/oauth2/token", f.base))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_app_error(&r, 405, "METHOD_NOT_ALLOWED");

    assert_eq!(f.wix.token_requests(SITE_A), 2);
    assert_eq!(f.wix.token_requests(SITE_B), 1);
    assert_eq!(f.wix.token_info_requests(), 1);
    assert_eq!(f.wix.requests("/oauth2/token"), 3);
    assert_eq!(f.wix.requests("/apps/v1/instance"), 2);
    assert_eq!(f.wix.requests("/contacts/v4/nope"), 1);
    assert_eq!(f.wix.requests("/contacts/v4/contacts"), 0);

    let r = f.get("/_fake/counters", None).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["token_requests"], json!({ SITE_A: 2, SITE_B: 1 }));
    assert_eq!(r.body["token_info_requests"], 1);
    assert_eq!(r.body["requests"]["/oauth2/token"], 3);
    assert_eq!(r.body["requests"]["/apps/v1/instance"], 2);
    assert!(r.body["requests"].get("/_fake/counters").is_none());
}

#[tokio::test]
async fn control_endpoint_mints_frontend_tokens() {
    let f = fake().await;
    let r = f
        .post(
            "/_fake/access-token",
            None,
            json!({ "instance_id": SITE_A, "subject_type": "MEMBER", "subject_id": "m-1" }),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let token = r.body["access_token"].as_str().unwrap();
    let info = f.token_info(token).await.body;
    assert_eq!(info["active"], true);
    assert_eq!(info["subjectType"], "MEMBER");
    assert_eq!(info["subjectId"], "m-1");
    assert_eq!(info["clientId"], APP_ID);
    assert_eq!(info["instanceId"], SITE_A);

    let r = f
        .post(
            "/_fake/access-token",
            None,
            json!({ "instance_id": SITE_A, "subject_type": "VISITOR", "ttl_secs": -5 }),
        )
        .await;
    let info = f
        .token_info(r.body["access_token"].as_str().unwrap())
        .await
        .body;
    assert_eq!(info["active"], false);
    assert!(info["subjectId"].as_str().is_some_and(|s| !s.is_empty()));

    let r = f
        .post(
            "/_fake/access-token",
            None,
            json!({ "instance_id": SITE_A, "subject_type": "ADMIN" }),
        )
        .await;
    assert_eq!(violated_fields(&r), ["subject_type"]);
    let r = f.post("/_fake/access-token", None, json!({})).await;
    assert_app_error(&r, 400, "INVALID_ARGUMENT");
    let r = f.get("/_fake/contacts", None).await;
    assert_eq!(violated_fields(&r), ["instance_id"]);
}

#[tokio::test]
async fn every_response_carries_a_fresh_wix_request_id() {
    let f = fake().await;
    let token = f.app_token(SITE_A).await;
    let mut ids = Vec::new();
    for r in [
        f.get("/apps/v1/instance", Some(&token)).await,
        f.get("/apps/v1/instance", None).await,
        f.post_raw("/oauth2/token", "nope").await,
        f.get("/nowhere", None).await,
        f.get("/_fake/counters", None).await,
    ] {
        let id = r.headers["x-wix-request-id"].to_str().unwrap().to_owned();
        assert!(!id.is_empty());
        ids.push(id);
    }
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 5);
}
