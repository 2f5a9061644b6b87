//! `POST /api/feedback/export {status?}`: the site's feedback as CSV, for the owner of a
//! premium site. The one endpoint whose success is not JSON (`text/csv; charset=utf-8`); its
//! errors are the API's JSON errors.
//!
//! A plain axum handler rather than a server function (server functions answer in one
//! encoding): it authenticates through the same [`Caller`], and streams the CSV page by page
//! through the store's keyset pagination, so memory stays bounded whatever the site holds.

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::http::HeaderValue;
use axum::response::{IntoResponse, Response};
use futures::{stream, StreamExt as _};
use serde::Deserialize;

use crate::api::context::Caller;
use crate::api::ApiError;
use crate::auth::TenantId;
use crate::model::{FeedbackItem, Plan, StatusFilter, LIST_MAX_LIMIT};
use crate::server::http::error_response;
use crate::server::AppState;
use crate::store::{ListQuery, PageCursor, Store};

pub const EXPORT_PATH: &str = "/api/feedback/export";

/// The header row; every row has these columns in this order.
pub const CSV_HEADER: &str = "id,created_at,status,author_kind,rating,email,comp_id,message\r\n";

#[derive(Debug, Default, Deserialize)]
pub struct ExportRequest {
    /// Which items: `open`, `resolved` or `all` (the default).
    #[serde(default)]
    pub status: Option<StatusFilter>,
}

/// `POST /api/feedback/export`.
pub async fn export_csv(State(app): State<AppState>, req: Request) -> Response {
    match prepare(app, req).await {
        Ok((store, tenant, filter)) => csv_response(store, tenant, filter),
        Err(error) => error_response(error),
    }
}

async fn prepare(app: AppState, req: Request) -> Result<(Store, TenantId, StatusFilter), ApiError> {
    let (parts, body) = req.into_parts();
    let caller = Caller::from_parts(app, &parts).await?;
    let tenant = caller.identity.owner_tenant()?.clone();
    caller.require_plan(Plan::Premium).await?;
    let body = axum::body::to_bytes(body, crate::server::http::MAX_BODY_BYTES)
        .await
        .map_err(|_| ApiError::invalid_input("The request body could not be read."))?;
    let req: ExportRequest = if body.iter().all(u8::is_ascii_whitespace) {
        ExportRequest::default()
    } else {
        serde_json::from_slice(&body).map_err(|e| ApiError::invalid_input(e.to_string()))?
    };
    Ok((
        caller.store().clone(),
        tenant,
        req.status.unwrap_or(StatusFilter::All),
    ))
}

fn csv_response(store: Store, tenant: TenantId, filter: StatusFilter) -> Response {
    enum Next {
        Header,
        Page(Option<PageCursor>),
        Done,
    }
    let pages = stream::unfold(Next::Header, move |next| {
        let store = store.clone();
        let tenant = tenant.clone();
        async move {
            let cursor = match next {
                Next::Done => return None,
                Next::Header => {
                    return Some((
                        Ok(Bytes::from_static(CSV_HEADER.as_bytes())),
                        Next::Page(None),
                    ))
                }
                Next::Page(cursor) => cursor,
            };
            let query = ListQuery {
                filter,
                limit: LIST_MAX_LIMIT,
                cursor,
                comp_id: None,
            };
            match store.feedback().list(&tenant, &query).await {
                Ok(page) => {
                    let mut out = String::new();
                    for item in &page.items {
                        push_row(&mut out, item);
                    }
                    let next = match page.next_cursor.as_deref().and_then(PageCursor::decode) {
                        Some(cursor) => Next::Page(Some(cursor)),
                        None => Next::Done,
                    };
                    Some((Ok(Bytes::from(out)), next))
                }
                Err(err) => {
                    // The status is already sent: the body is cut short, and the client sees
                    // a broken transfer rather than a CSV that looks complete.
                    tracing::error!(error = %err, "CSV export failed mid-way");
                    Some((Err(std::io::Error::other("export failed")), Next::Done))
                }
            }
        }
    });
    // Fused: a body may be polled again after its end (the compression layer's encoder does),
    // and `unfold` panics when that happens.
    let mut response = Body::from_stream(pages.fuse()).into_response();
    let headers = response.headers_mut();
    headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    headers.insert(
        CONTENT_DISPOSITION,
        HeaderValue::from_static("attachment; filename=\"feedback.csv\""),
    );
    response
}

/// One CSV row (CRLF-terminated) for `item`.
pub fn push_row(out: &mut String, item: &FeedbackItem) {
    let rating = item.rating.map(|r| r.to_string()).unwrap_or_default();
    let cells: [&str; 8] = [
        &item.id,
        &item.created_at,
        item.status.as_str(),
        item.author_kind.as_str(),
        &rating,
        item.email.as_deref().unwrap_or(""),
        &item.comp_id,
        &item.message,
    ];
    for (i, cell) in cells.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        push_cell(out, cell);
    }
    out.push_str("\r\n");
}

/// One cell, RFC 4180 quoted when it holds a comma, a quote, CR or LF, and defused against
/// formula injection: a cell whose first non-blank character is `=`, `+`, `-`, `@`, a tab or a
/// CR gets a leading `'`, so spreadsheets show it as text instead of evaluating it.
pub fn push_cell(out: &mut String, cell: &str) {
    let first = cell.chars().find(|c| *c != ' ');
    let defuse = matches!(first, Some('=' | '+' | '-' | '@' | '\t' | '\r'));
    let quote = cell.contains([',', '"', '\r', '\n']);
    if quote {
        out.push('"');
    }
    if defuse {
        out.push('\'');
    }
    for c in cell.chars() {
        if c == '"' {
            out.push('"');
        }
        out.push(c);
    }
    if quote {
        out.push('"');
    }
}

#[cfg(test)]
mod tests {
    use super::push_cell;

    fn cell(s: &str) -> String {
        let mut out = String::new();
        push_cell(&mut out, s);
        out
    }

    #[test]
    fn quoting_and_formula_safety() {
        assert_eq!(cell("plain"), "plain");
        assert_eq!(cell(""), "");
        assert_eq!(cell("a,b"), "\"a,b\"");
        assert_eq!(cell("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(cell("two\nlines"), "\"two\nlines\"");
        assert_eq!(cell("=1+1"), "'=1+1");
        assert_eq!(cell("  @SUM(A1)"), "'  @SUM(A1)");
        assert_eq!(cell("-5"), "'-5");
        assert_eq!(cell("+x"), "'+x");
        assert_eq!(cell("\tx"), "'\tx");
        assert_eq!(cell("\rx"), "\"'\rx\"");
        assert_eq!(cell("=a,b"), "\"'=a,b\"");
        assert_eq!(cell("a=b"), "a=b");
    }
}
