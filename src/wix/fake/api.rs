//! The Wix endpoints themselves.
//!
//! Every handler first goes through [`FakeWix::gate`] (count, latency, outage, injected faults),
//! then parses its body by hand from raw bytes so that every rejection, malformed JSON included,
//! is a Wix-shaped error rather than axum's plain-text one.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode, Uri};
use axum::Json;
use serde_json::{json, Map, Value};

use super::error::{FakeWixError, FieldViolation};
use super::{new_token, now, FakeWix, StoredContact, StoredEmail, Token};

pub(super) const TOKEN: &str = "/oauth2/token";
pub(super) const TOKEN_INFO: &str = "/oauth2/token-info";
pub(super) const INSTANCE: &str = "/apps/v1/instance";
pub(super) const CONTACTS: &str = "/contacts/v4/contacts";
pub(super) const CONTACTS_QUERY: &str = "/contacts/v4/contacts/query";

/// Permissions Get App Instance reports for this app.
const PERMISSIONS: [&str; 2] = [
    "SCOPE.DC-CONTACTS.MANAGE-CONTACTS",
    "SCOPE.DC-APPS.MANAGE-APP-INSTANCE",
];
const EMAIL_TAGS: [&str; 4] = ["MAIN", "HOME", "WORK", "UNTAGGED"];
const DEFAULT_QUERY_LIMIT: u64 = 50;
const MAX_QUERY_LIMIT: u64 = 1000;

type WixResult = Result<Json<Value>, FakeWixError>;

/// Raw body → JSON value, or a Wix-shaped 400/413.
pub(super) fn parse_json(body: Result<Bytes, BytesRejection>) -> Result<Value, FakeWixError> {
    let bytes = body.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            FakeWixError::payload_too_large()
        } else {
            FakeWixError::bad_body("The request body could not be read.")
        }
    })?;
    serde_json::from_slice(&bytes)
        .map_err(|e| FakeWixError::bad_body(format!("The request body is not valid JSON: {e}.")))
}

fn object(value: &Value) -> Result<&Map<String, Value>, FakeWixError> {
    value
        .as_object()
        .ok_or_else(|| FakeWixError::bad_body("The request body must be a JSON object."))
}

impl FakeWix {
    fn count(&self, path: &str) {
        *self
            .lock()
            .counters
            .requests
            .entry(path.to_owned())
            .or_default() += 1;
    }

    /// What every Wix endpoint does before its own logic: count the call, wait the configured
    /// latency, answer 503 while down, then consume one injected fault if any is pending.
    async fn gate(&self, path: &str) -> Result<(), FakeWixError> {
        self.count(path);
        let latency = self.lock().latency;
        if !latency.is_zero() {
            tokio::time::sleep(latency).await;
        }
        let mut state = self.lock();
        if state.down {
            return Err(FakeWixError::unavailable());
        }
        if let Some(fault) = state.faults.front_mut() {
            let injected = *fault;
            fault.remaining = fault.remaining.saturating_sub(1);
            if fault.remaining == 0 {
                state.faults.pop_front();
            }
            return Err(FakeWixError::injected(
                injected.status,
                injected.retry_after_secs,
            ));
        }
        Ok(())
    }

    /// The caller's token, which must be active and allowed to call app APIs: an app token or a
    /// site owner's (USER) token issued to this app. Visitors, members and other apps get 403.
    fn authenticate(&self, headers: &HeaderMap) -> Result<Token, FakeWixError> {
        let raw = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .unwrap_or("");
        let raw = raw
            .strip_prefix("Bearer ")
            .or_else(|| raw.strip_prefix("bearer "))
            .unwrap_or(raw)
            .trim();
        if raw.is_empty() {
            return Err(FakeWixError::unauthenticated(
                "Missing access token in the Authorization header.",
            ));
        }
        let state = self.lock();
        let token = state
            .tokens
            .get(raw)
            .ok_or_else(|| FakeWixError::unauthenticated("Unknown access token."))?;
        if token.revoked {
            return Err(FakeWixError::unauthenticated(
                "The access token was revoked.",
            ));
        }
        if !token.active(now()) {
            return Err(FakeWixError::unauthenticated(
                "The access token has expired.",
            ));
        }
        if token.client_id != state.app_id {
            return Err(FakeWixError::forbidden(
                "The access token was issued to another app.",
            ));
        }
        if token.subject_type != "APP" && token.subject_type != "USER" {
            return Err(FakeWixError::forbidden(format!(
                "A {} identity may not call this API; it needs app permissions.",
                token.subject_type
            )));
        }
        Ok(token.clone())
    }
}

/// `POST /oauth2/token`: client_credentials for one instance.
pub(super) async fn token(
    State(fake): State<FakeWix>,
    body: Result<Bytes, BytesRejection>,
) -> WixResult {
    let parsed = parse_json(body);
    if let Some(instance_id) = parsed
        .as_ref()
        .ok()
        .and_then(|v| v.get("instance_id"))
        .and_then(Value::as_str)
    {
        *fake
            .lock()
            .counters
            .token_requests
            .entry(instance_id.to_owned())
            .or_default() += 1;
    }
    fake.gate(TOKEN).await?;
    let parsed = parsed?;
    let body = object(&parsed)?;
    let field = |name: &str| {
        body.get(name)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
    };
    let mut violations = Vec::new();
    match field("grant_type") {
        Some("client_credentials") => {}
        Some(_) => violations.push(FieldViolation::new(
            "grant_type",
            "Only client_credentials is supported.",
            "INVALID_ENUM_VALUE",
        )),
        None => violations.push(FieldViolation::new(
            "grant_type",
            "Required.",
            "REQUIRED_FIELD",
        )),
    }
    for name in ["client_id", "client_secret", "instance_id"] {
        if field(name).is_none() {
            violations.push(FieldViolation::new(name, "Required.", "REQUIRED_FIELD"));
        }
    }
    let (Some(client_id), Some(client_secret), Some(instance_id), true) = (
        field("client_id"),
        field("client_secret"),
        field("instance_id"),
        violations.is_empty(),
    ) else {
        return Err(FakeWixError::validation(violations));
    };

    let mut state = fake.lock();
    if client_id != state.app_id || client_secret != state.app_secret {
        return Err(FakeWixError::unauthenticated(
            "Invalid client_id or client_secret.",
        ));
    }
    let ttl = state.token_ttl_secs;
    let iat = now();
    let access_token = new_token();
    let app_id = state.app_id.clone();
    state.site(instance_id);
    state.tokens.insert(
        access_token.clone(),
        Token {
            instance_id: instance_id.to_owned(),
            subject_type: "APP".to_owned(),
            subject_id: app_id.clone(),
            client_id: app_id,
            iat,
            exp: iat.saturating_add(i64::try_from(ttl).unwrap_or(i64::MAX)),
            revoked: false,
        },
    );
    Ok(Json(json!({
        "access_token": access_token,
        "token_type": "Bearer",
        "expires_in": ttl,
    })))
}

/// `POST /oauth2/token-info`: what Wix knows about a token. Unknown tokens are `{active: false}`.
pub(super) async fn token_info(
    State(fake): State<FakeWix>,
    body: Result<Bytes, BytesRejection>,
) -> WixResult {
    fake.lock().counters.token_info_requests += 1;
    fake.gate(TOKEN_INFO).await?;
    let parsed = parse_json(body)?;
    let token = object(&parsed)?
        .get("token")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| FakeWixError::violation("token", "Required.", "REQUIRED_FIELD"))?;
    let mut state = fake.lock();
    let Some(info) = state.tokens.get(token).cloned() else {
        return Ok(Json(json!({ "active": false })));
    };
    let site_id = state.site(&info.instance_id).site_id.clone();
    Ok(Json(json!({
        "active": info.active(now()),
        "subjectType": info.subject_type,
        "subjectId": info.subject_id,
        "exp": info.exp,
        "iat": info.iat,
        "clientId": info.client_id,
        "siteId": site_id,
        "instanceId": info.instance_id,
    })))
}

/// `GET /apps/v1/instance`: the app instance and its site.
pub(super) async fn instance(State(fake): State<FakeWix>, headers: HeaderMap) -> WixResult {
    fake.gate(INSTANCE).await?;
    let token = fake.authenticate(&headers)?;
    let mut state = fake.lock();
    let site = state.site(&token.instance_id);
    let slug: String = token.instance_id.chars().take(8).collect();
    Ok(Json(json!({
        "instance": {
            "instanceId": token.instance_id,
            "appName": super::APP_NAME,
            "appVersion": "1.0.0",
            "isFree": true,
            "permissions": PERMISSIONS,
        },
        "site": {
            "siteDisplayName": site.name,
            "locale": "en",
            "paymentCurrency": "USD",
            "url": format!("https://demo.wixsite.com/site-{slug}"),
            "siteId": site.site_id,
        },
    })))
}

/// A contact as Wix returns it.
fn contact_json(stored: &StoredContact) -> Value {
    let c = &stored.contact;
    let mut info = Map::new();
    if c.first_name.is_some() || c.last_name.is_some() {
        let mut name = Map::new();
        if let Some(first) = &c.first_name {
            name.insert("first".into(), json!(first));
        }
        if let Some(last) = &c.last_name {
            name.insert("last".into(), json!(last));
        }
        info.insert("name".into(), Value::Object(name));
    }
    let items: Vec<Value> = stored
        .emails
        .iter()
        .enumerate()
        .map(|(i, e)| json!({ "id": e.id, "tag": e.tag, "email": e.email, "primary": i == 0 }))
        .collect();
    info.insert("emails".into(), json!({ "items": items }));
    let mut primary = Map::new();
    if let Some(email) = &c.email {
        primary.insert("email".into(), json!(email));
    }
    json!({
        "id": c.id,
        "revision": c.revision,
        "source": { "sourceType": "APP" },
        "createdDate": stored.created,
        "updatedDate": stored.created,
        "info": info,
        "primaryInfo": primary,
    })
}

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
struct NewContact {
    first: Option<String>,
    last: Option<String>,
    emails: Vec<(String, String)>,
    allow_duplicates: bool,
}

fn parse_new_contact(body: &Value) -> Result<NewContact, FakeWixError> {
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

/// `POST /contacts/v4/contacts`: 409 `DUPLICATE_CONTACT_EXISTS` when an email (any case) exists in
/// the instance and `allowDuplicates` is not true.
pub(super) async fn create_contact(
    State(fake): State<FakeWix>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> WixResult {
    fake.gate(CONTACTS).await?;
    let token = fake.authenticate(&headers)?;
    let new = parse_new_contact(&parse_json(body)?)?;
    let mut state = fake.lock();
    let list = state.contacts.entry(token.instance_id).or_default();
    if !new.allow_duplicates {
        let existing = list.iter().find(|c| {
            c.emails.iter().any(|stored| {
                new.emails
                    .iter()
                    .any(|(_, email)| stored.email.eq_ignore_ascii_case(email))
            })
        });
        if let Some(existing) = existing {
            return Err(FakeWixError::duplicate_contact(&existing.contact.id));
        }
    }
    let stored = StoredContact {
        contact: super::FakeContact {
            id: uuid::Uuid::new_v4().to_string(),
            email: new.emails.first().map(|(_, e)| e.clone()),
            first_name: new.first,
            last_name: new.last,
            revision: 1,
        },
        emails: new
            .emails
            .into_iter()
            .map(|(tag, email)| StoredEmail {
                id: uuid::Uuid::new_v4().to_string(),
                tag,
                email,
            })
            .collect(),
        created: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
    };
    let body = json!({ "contact": contact_json(&stored) });
    list.push(stored);
    Ok(Json(body))
}

/// Which emails of a contact a filter field looks at.
#[derive(Clone, Copy)]
enum EmailField {
    Any,
    Primary,
}

struct ContactQuery {
    filters: Vec<(EmailField, String)>,
    limit: u64,
    offset: u64,
}

fn parse_query(body: &Value) -> Result<ContactQuery, FakeWixError> {
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

/// `POST /contacts/v4/contacts/query`: oldest first; email filters compare case-insensitively.
pub(super) async fn query_contacts(
    State(fake): State<FakeWix>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> WixResult {
    fake.gate(CONTACTS_QUERY).await?;
    let token = fake.authenticate(&headers)?;
    let query = parse_query(&parse_json(body)?)?;
    let state = fake.lock();
    let all = state
        .contacts
        .get(&token.instance_id)
        .map(Vec::as_slice)
        .unwrap_or_default();
    let matching: Vec<&StoredContact> = all
        .iter()
        .filter(|c| {
            query.filters.iter().all(|(field, wanted)| match field {
                EmailField::Any => c
                    .emails
                    .iter()
                    .any(|e| e.email.eq_ignore_ascii_case(wanted)),
                EmailField::Primary => c
                    .emails
                    .first()
                    .is_some_and(|e| e.email.eq_ignore_ascii_case(wanted)),
            })
        })
        .collect();
    let total = matching.len();
    let page: Vec<Value> = matching
        .into_iter()
        .skip(usize::try_from(query.offset).unwrap_or(usize::MAX))
        .take(usize::try_from(query.limit).unwrap_or(usize::MAX))
        .map(contact_json)
        .collect();
    Ok(Json(json!({
        "pagingMetadata": {
            "count": page.len(),
            "offset": query.offset,
            "total": total,
            "tooManyToCount": false,
        },
        "contacts": page,
    })))
}

/// Any other path: counted (unless it is a control path), then a Wix-shaped 404.
pub(super) async fn not_found(State(fake): State<FakeWix>, uri: Uri) -> FakeWixError {
    if !uri.path().starts_with("/_fake/") {
        fake.count(uri.path());
    }
    FakeWixError::not_found(uri.path())
}

pub(super) async fn method_not_allowed() -> FakeWixError {
    FakeWixError::method_not_allowed()
}
