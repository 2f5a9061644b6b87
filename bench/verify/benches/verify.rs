//! Median time to verify a typical owner instance (what every authenticated request pays).

use std::hint::black_box;

use chrono::Utc;
use criterion::{criterion_group, criterion_main, Criterion};
use wix_app::auth::{InstanceClaims, InstanceVerifier};
use wix_app::model::Role;

const SECRET: &[u8] = b"bench-secret-not-a-real-one";
const APP_ID: &str = "00000000-0000-4000-8000-0000000bench";

fn typical_owner_instance() -> String {
    // UUID-shaped ids, as Wix sends them; ~390 bytes on the wire, like a real owner instance.
    InstanceClaims::for_role(
        "9f3c2a1e-7b4d-4e8f-a1b2-c3d4e5f60718",
        APP_ID,
        Role::Owner,
        "5e6f7a8b-9c0d-4e1f-8a2b-3c4d5e6f7a8b",
        Utc::now(),
    )
    .sign(SECRET)
}

fn bench(c: &mut Criterion) {
    let verifier = InstanceVerifier::new(SECRET, 86_400);
    let instance = typical_owner_instance();
    assert!(verifier.verify_header(Some(instance.as_bytes())).is_ok());
    let header = format!("Bearer {instance}");
    let now = Utc::now();

    let mut group = c.benchmark_group("instance");
    // The request path: header parsing + Utc::now() + verification.
    group.bench_function("verify_header_owner", |b| {
        b.iter(|| verifier.verify_header(black_box(Some(header.as_bytes()))))
    });
    // Verification alone, clock read hoisted out.
    group.bench_function("verify_at_owner", |b| {
        b.iter(|| verifier.verify_at(black_box(&instance), black_box(now)))
    });
    // A forged instance: rejected after the HMAC, before JSON parsing.
    let mut forged = instance.clone().into_bytes();
    forged[0] = if forged[0] == b'A' { b'B' } else { b'A' };
    let forged = String::from_utf8(forged).unwrap();
    group.bench_function("verify_at_bad_signature", |b| {
        b.iter(|| verifier.verify_at(black_box(&forged), black_box(now)))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
