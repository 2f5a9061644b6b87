//! The HTTP integration tests, in one binary: one link, and one copy of the support code
//! (`common`: a real server on a loopback port with a real SQLite file and its own fake Wix; the
//! fixtures it re-exports are the crate's, `wix_app::testing`).
//!
//! `observability` checks the logs with a process-wide log subscriber, so it runs its check in a
//! child process of this binary; `tests/properties.rs` (CPU-heavy property tests, no server) is
//! a binary of its own, so it never slows the timing-sensitive tests here.

mod common;

mod api;
mod edges;
mod fake_wix;
mod hardening;
mod observability;
mod plans;
mod privacy;
mod replicas;
mod webhooks;
mod widgets;
mod wix;
