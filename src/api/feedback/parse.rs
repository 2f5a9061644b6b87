//! Request types parsed into values the store can take as they are ("parse, don't validate"),
//! next to the request types themselves.

use super::{ListFeedbackRequest, SubmitFeedbackRequest};
use crate::api::ApiError;
use crate::model::{
    is_valid_comp_id, StatusFilter, COMP_ID_MAX_CHARS, DEFAULT_COMP_ID, EMAIL_MAX_CHARS,
    LIST_DEFAULT_LIMIT, LIST_MAX_LIMIT, MESSAGE_MAX_CHARS, RATING_RANGE,
};
use crate::store::{ListQuery, NewFeedback, PageCursor};

impl TryFrom<SubmitFeedbackRequest> for NewFeedback {
    type Error = ApiError;

    fn try_from(req: SubmitFeedbackRequest) -> Result<Self, ApiError> {
        new_feedback(req)
    }
}

impl TryFrom<ListFeedbackRequest> for ListQuery {
    type Error = ApiError;

    fn try_from(req: ListFeedbackRequest) -> Result<Self, ApiError> {
        list_query(req)
    }
}

fn new_feedback(req: SubmitFeedbackRequest) -> Result<NewFeedback, ApiError> {
    let message = req.message.trim();
    if message.is_empty() {
        return Err(ApiError::invalid_input("message must not be empty."));
    }
    if message.chars().count() > MESSAGE_MAX_CHARS {
        return Err(ApiError::invalid_input(format!(
            "message must be at most {MESSAGE_MAX_CHARS} characters."
        )));
    }
    let email = match req.email.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(email) => {
            if email.chars().count() > EMAIL_MAX_CHARS
                || !email_address::EmailAddress::is_valid(email)
            {
                return Err(ApiError::invalid_input(
                    "email is not a valid email address.",
                ));
            }
            Some(email.to_owned())
        }
    };
    let rating = match req.rating {
        None => None,
        Some(r) if RATING_RANGE.contains(&r) => Some(r as u8),
        Some(_) => {
            return Err(ApiError::invalid_input(
                "rating must be a whole number from 1 to 5.",
            ))
        }
    };
    Ok(NewFeedback {
        message: message.to_owned(),
        email,
        rating,
        comp_id: comp_id(req.comp_id)?.unwrap_or_else(|| DEFAULT_COMP_ID.to_owned()),
    })
}

/// An optional `comp_id`: absent or empty is `None`, anything else must be a valid one.
pub(crate) fn comp_id(raw: Option<String>) -> Result<Option<String>, ApiError> {
    match raw {
        None => Ok(None),
        Some(c) if c.is_empty() => Ok(None),
        Some(c) if is_valid_comp_id(&c) => Ok(Some(c)),
        Some(_) => Err(ApiError::invalid_input(format!(
            "comp_id must be 1 to {COMP_ID_MAX_CHARS} characters of A-Z, a-z, 0-9, _ and -."
        ))),
    }
}

fn list_query(req: ListFeedbackRequest) -> Result<ListQuery, ApiError> {
    let limit = match req.limit {
        None => LIST_DEFAULT_LIMIT,
        Some(n) if (1..=i64::from(LIST_MAX_LIMIT)).contains(&n) => n as u32,
        Some(_) => {
            return Err(ApiError::invalid_input(format!(
                "limit must be from 1 to {LIST_MAX_LIMIT}."
            )))
        }
    };
    let cursor = match req.cursor.as_deref() {
        None | Some("") => None,
        Some(raw) => Some(
            PageCursor::decode(raw)
                .ok_or_else(|| ApiError::invalid_input("cursor is not one this API returned."))?,
        ),
    };
    Ok(ListQuery {
        filter: req.status.unwrap_or(StatusFilter::Open),
        limit,
        cursor,
        comp_id: comp_id(req.comp_id)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn submit(message: &str, email: Option<&str>, rating: Option<i64>) -> SubmitFeedbackRequest {
        SubmitFeedbackRequest {
            message: message.into(),
            email: email.map(Into::into),
            rating,
            comp_id: None,
        }
    }

    #[test]
    fn message_is_trimmed_and_bounded() {
        assert_eq!(
            new_feedback(submit("  hi  ", None, None)).unwrap().message,
            "hi"
        );
        assert!(new_feedback(submit("   \n ", None, None)).is_err());
        let max = "é".repeat(MESSAGE_MAX_CHARS);
        assert!(new_feedback(submit(&max, None, None)).is_ok());
        assert!(new_feedback(submit(&format!("{max}x"), None, None)).is_err());
    }

    #[test]
    fn email_is_optional_but_checked() {
        assert_eq!(
            new_feedback(submit("m", Some(""), None)).unwrap().email,
            None
        );
        assert_eq!(
            new_feedback(submit("m", Some(" a@b.co "), None))
                .unwrap()
                .email
                .as_deref(),
            Some("a@b.co")
        );
        for bad in ["nope", "a@", "@b.co", "a b@c.co"] {
            assert!(new_feedback(submit("m", Some(bad), None)).is_err(), "{bad}");
        }
    }

    #[test]
    fn rating_is_one_to_five() {
        assert_eq!(
            new_feedback(submit("m", None, Some(5))).unwrap().rating,
            Some(5)
        );
        for bad in [0, 6, -1, 300] {
            assert!(new_feedback(submit("m", None, Some(bad))).is_err());
        }
    }

    #[test]
    fn list_limits_and_cursor() {
        let q = list_query(ListFeedbackRequest::default()).unwrap();
        assert_eq!(
            (q.limit, q.filter),
            (LIST_DEFAULT_LIMIT, StatusFilter::Open)
        );
        for bad in [0, 101, -3] {
            let req = ListFeedbackRequest {
                limit: Some(bad),
                ..Default::default()
            };
            assert!(list_query(req).is_err());
        }
        let req = ListFeedbackRequest {
            cursor: Some("garbage!".into()),
            ..Default::default()
        };
        assert_eq!(
            list_query(req).unwrap_err().error,
            crate::api::ErrorCode::InvalidInput
        );
    }
}
