//! The HTTP integration tests, in one binary: one link, and one copy of the shared support code
//! (`common`: a real server on a loopback port with a real SQLite file and its own fake Wix).
//!
//! `tests/observability.rs` stays a binary of its own: it installs a process-wide log
//! subscriber, which would capture every other test's logs here.

mod common;

mod api;
mod edges;
mod fake_wix;
mod hardening;
mod webhooks;
mod wix;
