//! The request bodies of the contacts endpoints, read by hand so that every problem becomes a
//! Wix-shaped validation error listing each offending field (as Wix's own `FieldViolation`s do).

use serde_json::Value;

use super::super::error::{FakeWixError, FieldViolation};
use super::object;

/// The email tags Wix accepts on a contact.
const EMAIL_TAGS: [&str; 4] = ["MAIN", "HOME", "WORK", "UNTAGGED"];
/// Query Contacts page size when `paging.limit` is absent, and the largest one allowed.
const DEFAULT_QUERY_LIMIT: u64 = 50;
const MAX_QUERY_LIMIT: u64 = 1000;

fn is_email(s: &str) -> bool {
    match s.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && !domain.is_empty()
                && !domain.contains('@')
                && !s.chars().any(char::is_whitespace)
                && s.len() <= 254
        }
        None => false,
    }
}

/// The fields of a Create Contact body the fake understands; other fields are tolerated.
pub(super) struct NewContact {
    pub(super) first: Option<String>,
    pub(super) last: Option<String>,
    pub(super) emails: Vec<(String, String)>,
    pub(super) allow_duplicates: bool,
}

pub(super) fn parse_new_contact(body: &Value) -> Result<NewContact, FakeWixError> {
    let body = object(body)?;
    let mut violations = Vec::new();
    let mut out = NewContact {
        first: None,
        last: None,
        emails: Vec::new(),
        allow_duplicates: false,
    };
    match body.get("allowDuplicates") {
        None | Some(Value::Null) => {}
        Some(Value::Bool(b)) => out.allow_duplicates = *b,
        Some(_) => violations.push(FieldViolation::new(
            "allowDuplicates",
            "Must be a boolean.",
            "FORMAT",
        )),
    }
    let Some(info) = body.get("info").and_then(Value::as_object) else {
        return Err(FakeWixError::violation(
            "info",
            "Required, and must be an object.",
            "REQUIRED_FIELD",
        ));
    };
    match info.get("name") {
        None | Some(Value::Null) => {}
        Some(Value::Object(name)) => {
            for (key, slot) in [("first", &mut out.first), ("last", &mut out.last)] {
                match name.get(key) {
                    None | Some(Value::Null) => {}
                    Some(Value::String(s)) if s.chars().count() <= 100 => *slot = Some(s.clone()),
                    Some(Value::String(_)) => violations.push(FieldViolation::new(
                        format!("info.name.{key}"),
                        "At most 100 characters.",
                        "MAX_LENGTH",
                    )),
                    Some(_) => violations.push(FieldViolation::new(
                        format!("info.name.{key}"),
                        "Must be a string.",
                        "FORMAT",
                    )),
                }
            }
        }
        Some(_) => violations.push(FieldViolation::new(
            "info.name",
            "Must be an object.",
            "FORMAT",
        )),
    }
    match info.get("emails") {
        None | Some(Value::Null) => {}
        Some(Value::Object(emails)) => match emails.get("items") {
            None | Some(Value::Null) => {}
            Some(Value::Array(items)) => {
                for (i, item) in items.iter().enumerate() {
                    let field = format!("info.emails.items[{i}]");
                    let Some(item) = item.as_object() else {
                        violations.push(FieldViolation::new(field, "Must be an object.", "FORMAT"));
                        continue;
                    };
                    let tag = match item.get("tag") {
                        None | Some(Value::Null) => "UNTAGGED".to_owned(),
                        Some(Value::String(t)) if EMAIL_TAGS.contains(&t.as_str()) => t.clone(),
                        Some(_) => {
                            violations.push(FieldViolation::new(
                                format!("{field}.tag"),
                                "Must be one of MAIN, HOME, WORK, UNTAGGED.",
                                "INVALID_ENUM_VALUE",
                            ));
                            continue;
                        }
                    };
                    match item.get("email").and_then(Value::as_str) {
                        Some(email) if is_email(email) => out.emails.push((tag, email.to_owned())),
                        Some(_) => violations.push(FieldViolation::new(
                            format!("{field}.email"),
                            "Not a valid email address.",
                            "FORMAT",
                        )),
                        None => violations.push(FieldViolation::new(
                            format!("{field}.email"),
                            "Required.",
                            "REQUIRED_FIELD",
                        )),
                    }
                }
            }
            Some(_) => violations.push(FieldViolation::new(
                "info.emails.items",
                "Must be an array.",
                "FORMAT",
            )),
        },
        Some(_) => violations.push(FieldViolation::new(
            "info.emails",
            "Must be an object.",
            "FORMAT",
        )),
    }
    if violations.is_empty() && out.first.is_none() && out.last.is_none() && out.emails.is_empty() {
        violations.push(FieldViolation::new(
            "info",
            "A contact needs at least a name or an email.",
            "OTHER",
        ));
    }
    if violations.is_empty() {
        Ok(out)
    } else {
        Err(FakeWixError::validation(violations))
    }
}

/// Which emails of a contact a filter field looks at.
#[derive(Clone, Copy)]
pub(super) enum EmailField {
    Any,
    Primary,
}

pub(super) struct ContactQuery {
    pub(super) filters: Vec<(EmailField, String)>,
    pub(super) limit: u64,
    pub(super) offset: u64,
}

pub(super) fn parse_query(body: &Value) -> Result<ContactQuery, FakeWixError> {
    let body = object(body)?;
    let mut out = ContactQuery {
        filters: Vec::new(),
        limit: DEFAULT_QUERY_LIMIT,
        offset: 0,
    };
    let query = match body.get("query") {
        None | Some(Value::Null) => return Ok(out),
        Some(Value::Object(q)) => q,
        Some(_) => {
            return Err(FakeWixError::violation(
                "query",
                "Must be an object.",
                "FORMAT",
            ))
        }
    };
    let mut violations = Vec::new();
    match query.get("filter") {
        None | Some(Value::Null) => {}
        Some(Value::Object(filter)) => {
            for (key, condition) in filter {
                let field = match key.as_str() {
                    "info.emails.email" => EmailField::Any,
                    "primaryInfo.email" => EmailField::Primary,
                    _ => {
                        violations.push(FieldViolation::new(
                            format!("query.filter.{key}"),
                            "FakeWix filters only on info.emails.email and primaryInfo.email.",
                            "OTHER",
                        ));
                        continue;
                    }
                };
                let value = match condition {
                    Value::String(s) => Some(s.as_str()),
                    Value::Object(op) if op.len() == 1 => op.get("$eq").and_then(Value::as_str),
                    _ => None,
                };
                match value {
                    Some(v) => out.filters.push((field, v.to_owned())),
                    None => violations.push(FieldViolation::new(
                        format!("query.filter.{key}"),
                        "Expected a string or {\"$eq\": string}.",
                        "OTHER",
                    )),
                }
            }
        }
        Some(_) => violations.push(FieldViolation::new(
            "query.filter",
            "Must be an object.",
            "FORMAT",
        )),
    }
    match query.get("paging") {
        None | Some(Value::Null) => {}
        Some(Value::Object(paging)) => {
            match paging.get("limit") {
                None | Some(Value::Null) => {}
                Some(v) => match v.as_u64() {
                    Some(n) if (1..=MAX_QUERY_LIMIT).contains(&n) => out.limit = n,
                    _ => violations.push(FieldViolation::new(
                        "query.paging.limit",
                        format!("Must be an integer from 1 to {MAX_QUERY_LIMIT}."),
                        "MAX",
                    )),
                },
            }
            match paging.get("offset") {
                None | Some(Value::Null) => {}
                Some(v) => match v.as_u64() {
                    Some(n) => out.offset = n,
                    None => violations.push(FieldViolation::new(
                        "query.paging.offset",
                        "Must be a non-negative integer.",
                        "MIN",
                    )),
                },
            }
        }
        Some(_) => violations.push(FieldViolation::new(
            "query.paging",
            "Must be an object.",
            "FORMAT",
        )),
    }
    if violations.is_empty() {
        Ok(out)
    } else {
        Err(FakeWixError::validation(violations))
    }
}
