//! The fixtures every test shares, defined once: the app's credentials, two sites, a fixed clock,
//! signed instances, signed lifecycle webhooks, the verifiers and the test-only key pairs.
//!
//! Compiled for the crate's own tests and with `dev-tools` (the integration tests in `tests/` and
//! the property tests use it through the library); the production build has none of it. The
//! fake Wix's own tests (`tests/it/fake_wix.rs`) use these ids too.
//!
//! Which clock: the server checks an instance's `signDate` and a webhook's `iat` against its own
//! clock, so what a test sends over HTTP is signed at the real time ([`instance`],
//! [`webhook_event`] with `Utc::now()`). Where the code under test takes the time as an argument
//! (`verify_at`, `purge_due`), tests pass [`FIXED_NOW`] and sign with [`instance_at`].

use chrono::{DateTime, Duration, Utc};

use crate::auth::{
    sign_instance, sign_webhook, InstanceClaims, InstanceVerifier, TenantId, WebhookPublicKey,
    WebhookVerifier, APP_INSTALLED, APP_REMOVED,
};
use crate::model::Role;

/// The app id the test server and the fake Wix are configured with (`WIX_APP_ID`).
pub const APP_ID: &str = "4f6c2d1e-0000-4000-8000-0000000000aa";
/// The app secret (`WIX_APP_SECRET`): it signs the instances.
pub const SECRET: &str = "integration-test-secret";
/// Two sites (instance ids), for isolation between tenants.
pub const SITE_A: &str = "site-a-0000-4000-8000-000000000001";
pub const SITE_B: &str = "site-b-0000-4000-8000-000000000002";
/// How old an instance [`verifier`] accepts: a day, like the default `INSTANCE_MAX_AGE_SECS`.
pub const MAX_AGE_SECS: u64 = 86_400;

/// The fixed clock: 2026-01-02T03:04:05Z.
pub const FIXED_NOW: DateTime<Utc> = DateTime::from_timestamp(1_767_323_045, 0).unwrap();

/// Test-only RSA key pair (tests/fixtures); the test server trusts the public half for webhooks.
pub const WEBHOOK_PRIVATE_KEY: &str = include_str!("../tests/fixtures/webhook-test-private.pem");
pub const WEBHOOK_PUBLIC_KEY: &str = include_str!("../tests/fixtures/webhook-test-public.pem");
/// A second test key pair, which nothing trusts.
pub const OTHER_PRIVATE_KEY: &str = include_str!("../tests/fixtures/webhook-other-private.pem");
pub const OTHER_PUBLIC_KEY: &str = include_str!("../tests/fixtures/webhook-other-public.pem");

/// A signed instance of `site` for `role`, signed now: for requests to a server, which checks
/// the signing time against its own clock.
pub fn instance(site: &str, role: Role) -> String {
    instance_at(site, role, Utc::now())
}

/// A signed instance of `site` for `role`, signed `at` (subject `<role>-<site>`).
pub fn instance_at(site: &str, role: Role, at: DateTime<Utc>) -> String {
    let subject = format!("{}-{}", role.as_str(), site);
    InstanceClaims::for_role(site, APP_ID, role, &subject, at).sign(SECRET.as_bytes())
}

/// An owner instance of `site` signed two days ago: past [`MAX_AGE_SECS`].
pub fn expired_instance(site: &str) -> String {
    instance_at(site, Role::Owner, Utc::now() - Duration::days(2))
}

/// Any payload, signed with [`SECRET`] like an instance.
pub fn raw_instance(json: &str) -> String {
    sign_instance(SECRET.as_bytes(), json)
}

/// The instance verifier of the test app: [`SECRET`], [`MAX_AGE_SECS`].
pub fn verifier() -> InstanceVerifier {
    InstanceVerifier::new(SECRET.as_bytes(), MAX_AGE_SECS)
}

/// A tenant id, obtained the only way tests may: through the instance verifier (at the fixed
/// clock).
pub fn tenant(site: &str) -> TenantId {
    verifier()
        .verify_at(&instance_at(site, Role::Owner, FIXED_NOW), FIXED_NOW)
        .expect("a fresh owner instance verifies")
        .tenant()
        .clone()
}

/// The webhook verifier of the test app: [`WEBHOOK_PUBLIC_KEY`] and [`APP_ID`].
pub fn webhook_verifier() -> WebhookVerifier {
    let key = WebhookPublicKey::from_pem(WEBHOOK_PUBLIC_KEY).expect("the test public key parses");
    WebhookVerifier::new(key, APP_ID)
}

/// A webhook body (`AppInstalled`, `AppRemoved`, …) for `site` issued `at`, signed like Wix's
/// testkit with [`WEBHOOK_PRIVATE_KEY`].
pub fn webhook_event(event: &str, site: &str, at: DateTime<Utc>) -> String {
    sign_webhook(
        WEBHOOK_PRIVATE_KEY,
        event,
        site,
        &serde_json::json!({ "appId": APP_ID }),
        at,
    )
    .expect("the test private key signs")
}

/// `AppInstalled` for `site`, issued `at`.
pub fn installed(site: &str, at: DateTime<Utc>) -> String {
    webhook_event(APP_INSTALLED, site, at)
}

/// `AppRemoved` for `site`, issued `at`.
pub fn removed(site: &str, at: DateTime<Utc>) -> String {
    webhook_event(APP_REMOVED, site, at)
}

/// A signed instance of `site` for `role`, signed `at`, on the paid plan `plan`
/// (`vendorProductId`; `None` = free).
pub fn instance_with_plan(site: &str, role: Role, plan: Option<&str>, at: DateTime<Utc>) -> String {
    let subject = format!("{}-{}", role.as_str(), site);
    let mut claims = InstanceClaims::for_role(site, APP_ID, role, &subject, at);
    claims.vendor_product_id = plan.map(str::to_owned);
    claims.sign(SECRET.as_bytes())
}

/// A billing webhook (`PaidPlanPurchased`, `PaidPlanChanged`, …) for `site` setting `plan`
/// (`None` = free) as of `operation_at`, issued (`iat`) `issued_at`, signed like Wix's testkit.
pub fn plan_event(
    event: &str,
    site: &str,
    plan: Option<&str>,
    operation_at: DateTime<Utc>,
    issued_at: DateTime<Utc>,
) -> String {
    let body = serde_json::json!({
        "operationTimeStamp": operation_at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        "vendorProductId": plan,
        "cycle": "MONTHLY",
    });
    sign_webhook(WEBHOOK_PRIVATE_KEY, event, site, &body, issued_at)
        .expect("the test private key signs")
}
