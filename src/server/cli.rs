//! The command line of the server binary: `serve` (default), `sign-instance` and `sign-webhook`.

use chrono::{DateTime, Utc};

use super::{Config, ConfigError};
use crate::auth::InstanceClaims;
use crate::model::Role;

const USAGE: &str = "\
usage:
  wix-app [serve]                 start the server (configuration from the environment / .env)
  wix-app sign-instance --instance-id ID --role owner|member|visitor [--subject ID] [--sign-date RFC3339]
                                  print a signed instance for development and curl, signed with WIX_APP_SECRET
  wix-app sign-webhook --event AppInstalled|AppRemoved|PaidPlanPurchased|PaidPlanChanged|... --instance-id ID
                       [--plan VENDOR_PRODUCT_ID] [--key-file PEM] [--issued-at RFC3339]
                                  print a webhook body (RS256 JWT) shaped like Wix's, signed with the
                                  development key dev/webhook-dev-private.pem unless --key-file is given
  wix-app help";

pub enum Command {
    Serve,
    SignInstance {
        instance_id: String,
        role: Role,
        subject: Option<String>,
        sign_date: Option<DateTime<Utc>>,
    },
    SignWebhook {
        event: String,
        instance_id: String,
        key_file: Option<std::path::PathBuf>,
        issued_at: Option<DateTime<Utc>>,
        /// `--plan`: a billing event body with this `vendorProductId` (empty = free).
        plan: Option<String>,
    },
    Help,
}

/// Parses the arguments after the program name. pico-args keeps this to a few lines; a full
/// argument framework would cost more compile time than two subcommands are worth.
pub fn parse(args: Vec<std::ffi::OsString>) -> Result<Command, String> {
    let mut args = pico_args::Arguments::from_vec(args);
    let command = args.subcommand().map_err(|e| e.to_string())?;
    let parsed = match command.as_deref() {
        None | Some("serve") => Command::Serve,
        Some("help") | Some("--help") | Some("-h") => Command::Help,
        Some("sign-instance") => {
            let instance_id: String = args
                .value_from_str("--instance-id")
                .map_err(|_| "sign-instance needs --instance-id ID".to_owned())?;
            let role: String = args
                .value_from_str("--role")
                .map_err(|_| "sign-instance needs --role owner|member|visitor".to_owned())?;
            let role: Role = role
                .parse()
                .map_err(|_| format!("--role must be owner, member or visitor, not {role:?}"))?;
            let subject: Option<String> = args
                .opt_value_from_str("--subject")
                .map_err(|e| e.to_string())?;
            let sign_date: Option<String> = args
                .opt_value_from_str("--sign-date")
                .map_err(|e| e.to_string())?;
            let sign_date = sign_date
                .map(|d| {
                    DateTime::parse_from_rfc3339(&d)
                        .map(|d| d.with_timezone(&Utc))
                        .map_err(|_| format!("--sign-date must be RFC 3339, not {d:?}"))
                })
                .transpose()?;
            Command::SignInstance {
                instance_id,
                role,
                subject,
                sign_date,
            }
        }
        Some("sign-webhook") => {
            let event: String = args.value_from_str("--event").map_err(|_| {
                "sign-webhook needs --event AppInstalled|AppRemoved (or another Wix event type)"
                    .to_owned()
            })?;
            if event.trim().is_empty() {
                return Err("--event must not be empty".to_owned());
            }
            let instance_id: String = args
                .value_from_str("--instance-id")
                .map_err(|_| "sign-webhook needs --instance-id ID".to_owned())?;
            let key_file: Option<std::path::PathBuf> = args
                .opt_value_from_str("--key-file")
                .map_err(|e| e.to_string())?;
            let plan: Option<String> = args
                .opt_value_from_str("--plan")
                .map_err(|e| e.to_string())?;
            let issued_at: Option<String> = args
                .opt_value_from_str("--issued-at")
                .map_err(|e| e.to_string())?;
            let issued_at = issued_at
                .map(|d| {
                    DateTime::parse_from_rfc3339(&d)
                        .map(|d| d.with_timezone(&Utc))
                        .map_err(|_| format!("--issued-at must be RFC 3339, not {d:?}"))
                })
                .transpose()?;
            Command::SignWebhook {
                event,
                instance_id,
                key_file,
                issued_at,
                plan,
            }
        }
        Some(other) => return Err(format!("unknown command {other:?}\n{USAGE}")),
    };
    let rest = args.finish();
    if !rest.is_empty() {
        return Err(format!("unexpected arguments: {rest:?}\n{USAGE}"));
    }
    Ok(parsed)
}

/// Runs the command; the error is one line for stderr.
pub async fn run(args: Vec<std::ffi::OsString>) -> Result<(), String> {
    let command = parse(args)?;
    let config =
        || Config::from_env().map_err(|e: ConfigError| format!("configuration error: {e}"));
    match command {
        Command::Help => {
            println!("{USAGE}");
            Ok(())
        }
        Command::Serve => {
            let config = config()?;
            super::init_tracing(config.log_format);
            super::serve(config).await
        }
        Command::SignInstance {
            instance_id,
            role,
            subject,
            sign_date,
        } => {
            let config = config()?;
            let subject =
                subject.unwrap_or_else(|| format!("{}-{}", role.as_str(), uuid::Uuid::new_v4()));
            let claims = InstanceClaims::for_role(
                &instance_id,
                &config.wix.app_id,
                role,
                &subject,
                sign_date.unwrap_or_else(Utc::now),
            );
            println!("{}", claims.sign(config.wix.app_secret.expose()));
            Ok(())
        }
        Command::SignWebhook {
            event,
            instance_id,
            key_file,
            issued_at,
            plan,
        } => sign_webhook_command(
            &event,
            &instance_id,
            key_file.as_deref(),
            issued_at,
            plan.as_deref(),
        ),
    }
}

/// `sign-webhook`: a development tool, so only in builds with the `dev-tools` feature (the
/// committed development private key is not in production binaries).
#[cfg(feature = "dev-tools")]
fn sign_webhook_command(
    event: &str,
    instance_id: &str,
    key_file: Option<&std::path::Path>,
    issued_at: Option<DateTime<Utc>>,
    plan: Option<&str>,
) -> Result<(), String> {
    use super::config::DEV_APP_ID;
    use crate::auth::{sign_webhook, DEV_WEBHOOK_PRIVATE_KEY};

    // Only the app id is needed (for the event body); no full configuration required.
    let app_id = std::env::var("WIX_APP_ID")
        .ok()
        .map(|id| id.trim().to_owned())
        .filter(|id| !id.is_empty())
        .unwrap_or_else(|| DEV_APP_ID.to_owned());
    let key = match key_file {
        Some(path) => std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read --key-file {}: {e}", path.display()))?,
        None => DEV_WEBHOOK_PRIVATE_KEY.to_owned(),
    };
    let issued_at = issued_at.unwrap_or_else(Utc::now);
    let body = match plan {
        // A billing event's body, as Wix shapes it.
        Some(plan) => {
            let plan = Some(plan.trim()).filter(|p| !p.is_empty());
            serde_json::json!({
                "operationTimeStamp": issued_at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
                "vendorProductId": plan,
                "cycle": if plan.is_some() { "MONTHLY" } else { "NO_CYCLE" },
            })
        }
        None => serde_json::json!({ "appId": app_id }),
    };
    let token = sign_webhook(&key, event, instance_id, &body, issued_at)?;
    println!("{token}");
    Ok(())
}

#[cfg(not(feature = "dev-tools"))]
fn sign_webhook_command(
    _event: &str,
    _instance_id: &str,
    _key_file: Option<&std::path::Path>,
    _issued_at: Option<DateTime<Utc>>,
    _plan: Option<&str>,
) -> Result<(), String> {
    Err("sign-webhook is a development tool; this binary was built without the dev-tools feature (use make dev / cargo run --features dev-tools)".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<std::ffi::OsString> {
        list.iter().map(Into::into).collect()
    }

    #[test]
    fn sign_webhook_arguments() {
        match parse(args(&[
            "sign-webhook",
            "--event",
            "AppRemoved",
            "--instance-id",
            "site-1",
            "--issued-at",
            "2026-01-02T03:04:05Z",
        ])) {
            Ok(Command::SignWebhook {
                event,
                instance_id,
                key_file: None,
                issued_at: Some(at),
                plan: None,
            }) => {
                assert_eq!(event, "AppRemoved");
                assert_eq!(instance_id, "site-1");
                assert_eq!(at.timestamp(), 1_767_323_045);
            }
            _ => panic!("sign-webhook did not parse"),
        }
        assert!(parse(args(&["sign-webhook", "--instance-id", "x"])).is_err());
        assert!(parse(args(&["sign-webhook", "--event", "AppInstalled"])).is_err());
        assert!(parse(args(&[
            "sign-webhook",
            "--event",
            "AppInstalled",
            "--instance-id",
            "x",
            "--issued-at",
            "yesterday"
        ]))
        .is_err());
    }
}
