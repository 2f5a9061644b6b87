//! `POST /contacts/v4/contacts` (Create Contact) and `POST /contacts/v4/contacts/query`
//! (Query Contacts): per-instance contacts, duplicates refused by email as Wix does. What the
//! request bodies may say is read in `contact_requests.rs`.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::Json;
use serde_json::{json, Map, Value};

use super::super::error::FakeWixError;
use super::super::{FakeContact, FakeWix, StoredContact, StoredEmail};
use super::contact_requests::{parse_new_contact, parse_query, EmailField};
use super::{parse_json, WixResult, CONTACTS, CONTACTS_QUERY};

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

/// `POST /contacts/v4/contacts`: 409 `DUPLICATE_CONTACT_EXISTS` when an email (any case) exists in
/// the instance and `allowDuplicates` is not true.
pub(in crate::wix::fake) async fn create_contact(
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
        contact: FakeContact {
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

/// `POST /contacts/v4/contacts/query`: oldest first; email filters compare case-insensitively.
pub(in crate::wix::fake) async fn query_contacts(
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
