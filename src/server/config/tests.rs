//! The configuration's tests: one file, apart from the code, so each stays short.

use super::*;
use std::collections::HashMap;

fn load(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
    let map: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    Config::from_lookup(|k| map.get(k).cloned())
}

#[test]
fn dev_defaults() {
    let c = load(&[]).unwrap();
    assert_eq!(c.env, AppEnv::Dev);
    assert!(c.wix.uses_dev_credentials);
    assert_eq!(c.wix.app_id, DEV_APP_ID);
    assert_eq!(c.store.database_url, DEFAULT_DATABASE_URL);
    assert_eq!(c.wix.instance_max_age_secs, 86_400);
    assert!(c.http.frame_ancestors.ends_with("'self'"));
    assert!(!format!("{c:?}").contains(DEV_APP_SECRET));
}

const TEST_PUBLIC_KEY: &str = include_str!("../../../tests/fixtures/webhook-test-public.pem");

fn prod(extra: &[(&str, &str)]) -> Result<Config, ConfigError> {
    let mut vars = vec![
        ("APP_ENV", "prod"),
        ("WIX_APP_ID", "abc"),
        ("WIX_APP_SECRET", "s"),
    ];
    vars.extend_from_slice(extra);
    load(&vars)
}

#[test]
fn webhook_key_and_retention() {
    let c = load(&[]).unwrap();
    assert!(c.webhooks.uses_dev_key);
    assert!(c.webhooks.public_key.is_dev_key());
    assert_eq!(c.store.data_retention_days, DEFAULT_DATA_RETENTION_DAYS);

    assert_eq!(
        prod(&[]).unwrap_err(),
        ConfigError::Required("WIX_WEBHOOK_PUBLIC_KEY")
    );
    let one_line = TEST_PUBLIC_KEY.trim().replace('\n', "\\n");
    let c = prod(&[
        ("WIX_WEBHOOK_PUBLIC_KEY", &one_line),
        ("DATA_RETENTION_DAYS", "0"),
    ])
    .unwrap();
    assert!(!c.webhooks.uses_dev_key);
    assert_eq!(c.store.data_retention_days, 0);

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("key.pem");
    std::fs::write(&path, TEST_PUBLIC_KEY).unwrap();
    let path = path.display().to_string();
    assert!(prod(&[("WIX_WEBHOOK_PUBLIC_KEY_FILE", &path)]).is_ok());

    for (vars, name) in [
        (
            vec![("WIX_WEBHOOK_PUBLIC_KEY", DEV_WEBHOOK_PUBLIC_KEY)],
            "WIX_WEBHOOK_PUBLIC_KEY",
        ),
        (
            vec![("WIX_WEBHOOK_PUBLIC_KEY", "not a key")],
            "WIX_WEBHOOK_PUBLIC_KEY",
        ),
        (
            vec![("WIX_WEBHOOK_PUBLIC_KEY_FILE", "/nonexistent/key.pem")],
            "WIX_WEBHOOK_PUBLIC_KEY_FILE",
        ),
        (
            vec![
                ("WIX_WEBHOOK_PUBLIC_KEY", TEST_PUBLIC_KEY),
                ("WIX_WEBHOOK_PUBLIC_KEY_FILE", path.as_str()),
            ],
            "WIX_WEBHOOK_PUBLIC_KEY_FILE",
        ),
        (
            vec![
                ("WIX_WEBHOOK_PUBLIC_KEY", TEST_PUBLIC_KEY),
                ("DATA_RETENTION_DAYS", "-1"),
            ],
            "DATA_RETENTION_DAYS",
        ),
        (
            vec![
                ("WIX_WEBHOOK_PUBLIC_KEY", TEST_PUBLIC_KEY),
                ("DATA_RETENTION_DAYS", "36501"),
            ],
            "DATA_RETENTION_DAYS",
        ),
    ] {
        match prod(&vars) {
            Err(ConfigError::Invalid { name: n, .. }) => assert_eq!(n, name, "{vars:?}"),
            other => panic!("{vars:?}: {other:?}"),
        }
    }
    // The dev key is fine in dev, when named explicitly.
    assert!(load(&[("WIX_WEBHOOK_PUBLIC_KEY", DEV_WEBHOOK_PUBLIC_KEY)]).is_ok());
}

#[test]
fn prod_requires_credentials() {
    assert_eq!(
        load(&[("APP_ENV", "prod")]).unwrap_err(),
        ConfigError::Required("WIX_APP_ID")
    );
    assert_eq!(
        load(&[("APP_ENV", "prod"), ("WIX_APP_ID", "abc")]).unwrap_err(),
        ConfigError::Required("WIX_APP_SECRET")
    );
    assert_eq!(
        load(&[
            ("APP_ENV", "prod"),
            ("WIX_APP_ID", "abc"),
            ("WIX_APP_SECRET", "s"),
        ])
        .unwrap_err(),
        ConfigError::Required("WIX_WEBHOOK_PUBLIC_KEY")
    );
    let c = prod(&[("WIX_WEBHOOK_PUBLIC_KEY", TEST_PUBLIC_KEY)]).unwrap();
    assert!(!c.wix.uses_dev_credentials);
    assert_eq!(c.http.frame_ancestors, DEFAULT_FRAME_ANCESTORS);
}

#[test]
fn bad_values_are_named() {
    for (name, value) in [
        ("APP_ENV", "staging"),
        (
            "ALLOWED_ORIGINS",
            "https://ok.example, https://bad.example/path",
        ),
        ("FRAME_ANCESTORS", "https://a; script-src *"),
        ("INSTANCE_MAX_AGE_SECS", "-1"),
        ("DATABASE_URL", "mysql://x"),
        ("WIX_API_BASE", "www.wixapis.com"),
        ("OUTBOX_MAX_BACKOFF_SECS", "soon"),
        ("TOKEN_INFO_CACHE_SECS", "1.5"),
        ("SUBMIT_RATE_PER_MINUTE", "0"),
        ("REQUEST_TIMEOUT_SECS", "x"),
        ("MAX_CONCURRENT_REQUESTS", "0"),
        ("LOG_FORMAT", "xml"),
    ] {
        match load(&[(name, value)]) {
            Err(ConfigError::Invalid { name: n, .. }) => assert_eq!(n, name),
            other => panic!("{name}={value}: {other:?}"),
        }
    }
}

#[test]
fn a_release_build_without_app_env_is_prod() {
    let none = |_: &str| None;
    assert_eq!(
        Config::from_lookup_for(AppEnv::Prod, none).unwrap_err(),
        ConfigError::Required("WIX_APP_ID")
    );
    let c = Config::from_lookup_for(AppEnv::Dev, none).unwrap();
    assert_eq!(c.env, AppEnv::Dev);
    // This test binary is a debug build: unset means dev here.
    assert_eq!(AppEnv::build_default(), AppEnv::Dev);
}

#[test]
fn empty_or_unknown_app_env_is_an_error() {
    for value in ["", "  ", "production", "staging"] {
        match load(&[("APP_ENV", value)]) {
            Err(ConfigError::Invalid { name, .. }) => assert_eq!(name, "APP_ENV"),
            other => panic!("APP_ENV={value:?}: {other:?}"),
        }
    }
    assert_eq!(load(&[("APP_ENV", "DEV")]).unwrap().env, AppEnv::Dev);
}

#[test]
fn the_fake_wix_needs_dev_mode_and_the_dev_app() {
    assert_eq!(
        load(&[]).unwrap().serves_fake_wix(),
        cfg!(feature = "dev-tools")
    );
    let own = [("WIX_APP_ID", "my-app"), ("WIX_APP_SECRET", "my-secret")];
    let c = load(&own).unwrap();
    assert!(!c.wix.uses_dev_credentials && !c.serves_fake_wix());
    assert!(!load(&[("WIX_API_BASE", "http://127.0.0.1:9")])
        .unwrap()
        .serves_fake_wix());
    // Half a set of credentials is refused, naming the missing half.
    match load(&[("WIX_APP_ID", "my-app")]) {
        Err(ConfigError::Invalid { name, .. }) => assert_eq!(name, "WIX_APP_SECRET"),
        other => panic!("{other:?}"),
    }
    match load(&[("WIX_APP_SECRET", "s")]) {
        Err(ConfigError::Invalid { name, .. }) => assert_eq!(name, "WIX_APP_ID"),
        other => panic!("{other:?}"),
    }
    let key = [("WIX_WEBHOOK_PUBLIC_KEY", TEST_PUBLIC_KEY)];
    assert!(!prod(&key).unwrap().serves_fake_wix());
}

#[test]
fn prod_refuses_unsafe_settings() {
    let key = ("WIX_WEBHOOK_PUBLIC_KEY", TEST_PUBLIC_KEY);
    for (name, value) in [
        ("INSTANCE_MAX_AGE_SECS", "0"),
        ("FRAME_ANCESTORS", "*"),
        ("FRAME_ANCESTORS", "https://manage.wix.com *"),
        ("WIX_API_BASE", "http://wix-proxy.internal"),
        ("WIX_API_BASE", "http://10.0.0.5:8080"),
        ("WIX_APP_ID", DEV_APP_ID),
        ("WIX_APP_SECRET", DEV_APP_SECRET),
    ] {
        match prod(&[key, (name, value)]) {
            Err(ConfigError::Invalid { name: n, .. }) => assert_eq!(n, name, "{value}"),
            other => panic!("{name}={value}: {other:?}"),
        }
        // Dev allows each of them.
        let dev = if name == "WIX_APP_ID" || name == "WIX_APP_SECRET" {
            load(&[])
        } else {
            load(&[(name, value)])
        };
        assert!(dev.is_ok(), "{name}={value} in dev: {dev:?}");
    }
    for base in [
        "http://127.0.0.1:9000",
        "http://localhost:8080/",
        "http://[::1]:80",
        "https://proxy.example",
    ] {
        let c = prod(&[key, ("WIX_API_BASE", base)]).unwrap();
        assert_eq!(c.wix.api_base.as_deref(), Some(base.trim_end_matches('/')));
    }
    assert_eq!(
        prod(&[key, ("FRAME_ANCESTORS", "https://*.wix.com")])
            .unwrap()
            .http
            .frame_ancestors,
        "https://*.wix.com"
    );
}

#[test]
fn a_re_encoded_dev_key_is_still_refused_in_prod() {
    const PKCS1: &str = include_str!("../../../tests/fixtures/webhook-dev-public-pkcs1.pem");
    let bare: String = DEV_WEBHOOK_PUBLIC_KEY
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect();
    for copy in [
        PKCS1,
        bare.as_str(),
        &DEV_WEBHOOK_PUBLIC_KEY.replace('\n', "\\n"),
    ] {
        assert!(WebhookPublicKey::from_pem(copy).unwrap().is_dev_key());
        match prod(&[("WIX_WEBHOOK_PUBLIC_KEY", copy)]) {
            Err(ConfigError::Invalid { name, .. }) => {
                assert_eq!(name, "WIX_WEBHOOK_PUBLIC_KEY")
            }
            other => panic!("{other:?}"),
        }
    }
    assert!(!WebhookPublicKey::from_pem(TEST_PUBLIC_KEY)
        .unwrap()
        .is_dev_key());
}

#[test]
fn trusted_proxies_and_serving_limits() {
    let c = load(&[("TRUSTED_PROXIES", "10.0.0.0/8, 192.168.1.7 ,::1, fd00::/8")]).unwrap();
    assert_eq!(c.http.trusted_proxies.len(), 4);
    assert!(c.http.trusted_proxies[1].contains(&"192.168.1.7".parse::<std::net::IpAddr>().unwrap()));
    let d = load(&[]).unwrap();
    assert!(d.http.trusted_proxies.is_empty());
    assert_eq!(
        (
            d.http.header_read_timeout_secs,
            d.http.body_read_timeout_secs,
            d.http.max_connections
        ),
        (10, 10, 10_000)
    );
    assert_eq!(
        (d.wix.token_info_per_minute, d.outbox.max_pending_per_site),
        (600, 1000)
    );
    for (name, value) in [
        ("TRUSTED_PROXIES", "10.0.0.0/33"),
        ("TRUSTED_PROXIES", "proxy.internal"),
        ("MAX_CONNECTIONS", "0"),
        ("HEADER_READ_TIMEOUT_SECS", "ten"),
        ("TOKEN_INFO_PER_MINUTE", "1.5"),
        ("OUTBOX_MAX_AGE_HOURS", "0"),
    ] {
        match load(&[(name, value)]) {
            Err(ConfigError::Invalid { name: n, reason }) => {
                assert_eq!(n, name);
                assert!(
                    !reason.contains("whole seconds") || name.ends_with("_SECS"),
                    "{reason}"
                );
            }
            other => panic!("{name}={value}: {other:?}"),
        }
    }
}

#[test]
fn origins_are_normalised() {
    let c = load(&[(
        "ALLOWED_ORIGINS",
        "https://Shop.Example.com, http://localhost:8080",
    )])
    .unwrap();
    assert_eq!(
        c.http.allowed_origins,
        ["https://shop.example.com", "http://localhost:8080"]
    );
}

#[test]
fn number_errors_name_what_the_variable_counts() {
    let reason = |name: &str, value: &str| match load(&[(name, value)]) {
        Err(ConfigError::Invalid { reason, .. }) => reason,
        other => panic!("{name}={value}: {other:?}"),
    };
    assert_eq!(
        reason("SUBMIT_RATE_PER_ADDRESS_PER_MINUTE", "x"),
        "expected a whole number of submission requests per minute, got \"x\""
    );
    assert_eq!(
        reason("REQUEST_TIMEOUT_SECS", "soon"),
        "expected whole seconds, got \"soon\""
    );
    // Seconds only for `_SECS`, per minute only for `_PER_MINUTE`, and so on, for every number.
    for name in [
        "INSTANCE_MAX_AGE_SECS",
        "TOKEN_INFO_CACHE_SECS",
        "TOKEN_INFO_PER_MINUTE",
        "DATA_RETENTION_DAYS",
        "SUBMIT_RATE_PER_MINUTE",
        "SUBMIT_BURST",
        "SUBMIT_RATE_PER_ADDRESS_PER_MINUTE",
        "SUBMIT_BURST_PER_ADDRESS",
        "AUTH_FAILURES_PER_MINUTE",
        "REQUEST_TIMEOUT_SECS",
        "MAX_CONCURRENT_REQUESTS",
        "HEADER_READ_TIMEOUT_SECS",
        "BODY_READ_TIMEOUT_SECS",
        "MAX_CONNECTIONS",
        "SHUTDOWN_GRACE_SECS",
        "OUTBOX_MAX_BACKOFF_SECS",
        "OUTBOX_MAX_PENDING_PER_SITE",
        "OUTBOX_MAX_AGE_HOURS",
        "OUTBOX_POLL_SECS",
    ] {
        let r = reason(name, "1.5");
        assert!(
            r.starts_with("expected ") && r.ends_with(", got \"1.5\""),
            "{name}: {r}"
        );
        assert_eq!(
            r.contains("seconds"),
            name.ends_with("_SECS"),
            "{name}: {r}"
        );
        assert_eq!(
            r.contains("per minute"),
            name.ends_with("_PER_MINUTE"),
            "{name}: {r}"
        );
        assert_eq!(r.contains("hours"), name.ends_with("_HOURS"), "{name}: {r}");
        assert_eq!(r.contains("days"), name.ends_with("_DAYS"), "{name}: {r}");
    }
    assert_eq!(reason("SUBMIT_BURST", "4294967296"), "is too large");
    assert_eq!(reason("MAX_CONNECTIONS", "0"), "must be at least 1");
}

#[test]
fn plans() {
    let c = load(&[]).unwrap();
    assert_eq!(
        u64::from(c.plans.free_monthly_submissions),
        DEFAULT_FREE_MONTHLY_SUBMISSIONS
    );
    assert!(c.plans.premium_plan_ids.is_empty());
    assert!(c.plans.is_premium(Some("anything")));
    let c = load(&[
        ("PREMIUM_PLAN_IDS", " gold , ,platinum"),
        ("FREE_MONTHLY_SUBMISSIONS", "0"),
    ])
    .unwrap();
    assert_eq!(c.plans.premium_plan_ids, vec!["gold", "platinum"]);
    assert_eq!(c.plans.free_monthly_submissions, 0);
    assert!(!c.plans.is_premium(Some("silver")));
    assert!(matches!(
        load(&[("FREE_MONTHLY_SUBMISSIONS", "many")]),
        Err(ConfigError::Invalid {
            name: "FREE_MONTHLY_SUBMISSIONS",
            ..
        })
    ));
}
