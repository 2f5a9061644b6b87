//! Background work that must not lose anything: each job reads its queue from the database, so a
//! crash or restart only delays it.

pub mod contact_sync;
