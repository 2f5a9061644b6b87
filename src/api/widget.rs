//! Widget endpoints: each copy of the site widget (a Wix `compId`) reads its settings, and the
//! site owner saves them from the settings panel (`/settings`).

use leptos::prelude::*;
use leptos::server_fn::codec::Json;
use serde::{Deserialize, Serialize};

use crate::api::{ApiError, AuthClient};
use crate::model::WidgetSettings;

#[cfg(feature = "ssr")]
mod parse;

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct WidgetSettingsRequest {
    /// The widget's Wix `compId`; absent means `default`.
    #[serde(default)]
    pub comp_id: Option<String>,
}

/// `save_settings`' body: every field of [`WidgetSettings`] (`comp_id` may be absent: `default`).
/// A value of the wrong type is refused with a message that starts with the field's name.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SaveWidgetSettingsRequest {
    #[serde(default, deserialize_with = "named::comp_id")]
    pub comp_id: Option<String>,
    #[serde(deserialize_with = "named::title")]
    pub title: String,
    #[serde(deserialize_with = "named::prompt")]
    pub prompt: String,
    #[serde(deserialize_with = "named::ask_email")]
    pub ask_email: bool,
    #[serde(deserialize_with = "named::ask_rating")]
    pub ask_rating: bool,
    #[serde(deserialize_with = "named::accent_color")]
    pub accent_color: String,
}

/// Deserializers that put the field's name in front of serde's message (which names only the
/// type it expected). Generic, so only the server, which reads requests, compiles them.
mod named {
    use serde::{de::Error, Deserialize, Deserializer};

    macro_rules! named {
        ($($field:ident: $ty:ty),*) => {$(
            pub fn $field<'de, D: Deserializer<'de>>(d: D) -> Result<$ty, D::Error> {
                <$ty>::deserialize(d)
                    .map_err(|e| D::Error::custom(format!("{}: {e}", stringify!($field))))
            }
        )*};
    }
    named!(comp_id: Option<String>, title: String, prompt: String, ask_email: bool,
        ask_rating: bool, accent_color: String);
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct WidgetIds {
    pub comp_ids: Vec<String>,
}

/// `POST /api/widget/settings`: any verified caller reads a widget's settings (the defaults
/// when its owner saved none).
#[server(prefix = "/api", endpoint = "widget/settings", input = Json, client = AuthClient)]
pub async fn get_widget_settings(
    #[server(flatten)] req: WidgetSettingsRequest,
) -> Result<WidgetSettings, ApiError> {
    let caller = crate::api::context::Caller::authenticate().await?;
    let comp_id = parse::comp_id_or_default(req.comp_id)?;
    let tenant = caller.identity.tenant();
    parse::copy_origin_settings(&caller).await?;
    let saved = caller.store().widgets().get(tenant, &comp_id).await?;
    Ok(saved.unwrap_or_else(|| WidgetSettings::defaults(comp_id)))
}

/// `POST /api/widget/save_settings`: the owner saves a widget's settings; answers them as stored.
#[server(prefix = "/api", endpoint = "widget/save_settings", input = Json, client = AuthClient)]
pub async fn save_widget_settings(
    #[server(flatten)] req: SaveWidgetSettingsRequest,
) -> Result<WidgetSettings, ApiError> {
    let caller = crate::api::context::Caller::authenticate().await?;
    let tenant = caller.identity.owner_tenant()?;
    let settings = WidgetSettings::try_from(req)?;
    // Copied first, so a later copy can never overwrite what the owner saves now.
    parse::copy_origin_settings(&caller).await?;
    caller.store().widgets().save(tenant, &settings).await?;
    Ok(settings)
}

/// `POST /api/widget/ids` with `{}`: the owner's list of widgets (`compId`s) feedback came from,
/// for the dashboard's filter.
#[server(prefix = "/api", endpoint = "widget/ids", input = Json, client = AuthClient)]
pub async fn list_widget_ids() -> Result<WidgetIds, ApiError> {
    let caller = crate::api::context::Caller::authenticate().await?;
    let tenant = caller.identity.owner_tenant()?;
    let comp_ids = caller.store().widgets().feedback_comp_ids(tenant).await?;
    Ok(WidgetIds { comp_ids })
}
