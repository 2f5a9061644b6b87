//! Talking to Wix's REST API. The real client (`WixClient`) lives beside this module; [`fake`] is
//! an in-process stand-in for Wix that tests and dev mode point `WIX_API_BASE` at, because the
//! machines this app is built and tested on cannot reach any Wix host.

pub mod fake;
