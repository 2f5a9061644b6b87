//! Widget requests parsed into the values the store takes, and the copy of a duplicated site's
//! settings on its first settings call.

use super::SaveWidgetSettingsRequest;
use crate::api::context::Caller;
use crate::api::feedback::parse::comp_id;
use crate::api::ApiError;
use crate::model::{WidgetSettings, DEFAULT_COMP_ID};

impl TryFrom<SaveWidgetSettingsRequest> for WidgetSettings {
    type Error = ApiError;

    fn try_from(req: SaveWidgetSettingsRequest) -> Result<Self, ApiError> {
        WidgetSettings {
            comp_id: comp_id_or_default(req.comp_id)?,
            title: req.title,
            prompt: req.prompt,
            ask_email: req.ask_email,
            ask_rating: req.ask_rating,
            accent_color: req.accent_color,
        }
        .normalized()
        .map_err(|e| ApiError::invalid_input(e.message))
    }
}

/// A request's `comp_id`: absent or empty is `default`, anything else must be valid.
pub(super) fn comp_id_or_default(raw: Option<String>) -> Result<String, ApiError> {
    Ok(comp_id(raw)?.unwrap_or_else(|| DEFAULT_COMP_ID.to_owned()))
}

/// A duplicated site (its signed instance carries `originInstanceId`) gets its origin's widget
/// settings on its first settings call, unless the `AppInstalled` webhook already did it: the
/// store records the copy, so it happens once and never overwrites.
pub(super) async fn copy_origin_settings(caller: &Caller) -> Result<(), ApiError> {
    let Some(origin) = caller.identity.origin_instance_id() else {
        return Ok(());
    };
    let tenant = caller.identity.tenant();
    let widgets = caller.store().widgets();
    if widgets.is_copied(tenant).await? {
        return Ok(());
    }
    let copied = widgets.copy_from_origin(tenant, origin).await?;
    tracing::info!(
        instance_id = tenant.as_str(),
        origin_instance_id = origin.as_str(),
        copied,
        "copied the origin site's widget settings"
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(title: &str, prompt: &str, color: &str) -> SaveWidgetSettingsRequest {
        SaveWidgetSettingsRequest {
            comp_id: None,
            title: title.into(),
            prompt: prompt.into(),
            ask_email: false,
            ask_rating: true,
            accent_color: color.into(),
        }
    }

    #[test]
    fn fields_are_checked_and_named() {
        let ok = WidgetSettings::try_from(req(" Hi ", "", "#AbCdEf")).unwrap();
        assert_eq!(
            (
                ok.comp_id.as_str(),
                ok.title.as_str(),
                ok.accent_color.as_str()
            ),
            ("default", "Hi", "#abcdef")
        );
        for (bad, field) in [
            (req("", "p", "#116dff"), "title"),
            (req(&"t".repeat(81), "p", "#116dff"), "title"),
            (req("t", &"p".repeat(201), "#116dff"), "prompt"),
            (req("t", "p", "116dff"), "accent_color"),
            (req("t", "p", "#11 6df"), "accent_color"),
            (req("t", "p", "#116dfff"), "accent_color"),
            (req("t", "p", "#éé6dff"), "accent_color"),
        ] {
            let err = WidgetSettings::try_from(bad).unwrap_err();
            assert_eq!(err.error, crate::api::ErrorCode::InvalidInput);
            assert!(err.message.starts_with(field), "{}", err.message);
        }
        let mut bad_id = req("t", "p", "#116dff");
        bad_id.comp_id = Some("a/b".into());
        assert!(WidgetSettings::try_from(bad_id).is_err());
        assert!(
            WidgetSettings::try_from(req(&"é".repeat(80), &"é".repeat(200), "#000000")).is_ok()
        );
    }
}
