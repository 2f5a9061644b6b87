//! The command line of the server binary: `serve` (default) and `sign-instance`.

use chrono::{DateTime, Utc};

use super::{Config, ConfigError};
use crate::auth::InstanceClaims;
use crate::model::Role;

const USAGE: &str = "\
usage:
  wix-app [serve]                 start the server (configuration from the environment / .env)
  wix-app sign-instance --instance-id ID --role owner|member|visitor [--subject ID] [--sign-date RFC3339]
                                  print a signed instance for development and curl, signed with WIX_APP_SECRET
  wix-app help";

pub enum Command {
    Serve,
    SignInstance {
        instance_id: String,
        role: Role,
        subject: Option<String>,
        sign_date: Option<DateTime<Utc>>,
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
            let role = Role::parse(&role)
                .ok_or_else(|| format!("--role must be owner, member or visitor, not {role:?}"))?;
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
            super::init_tracing();
            super::serve(config()?).await
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
                &config.app_id,
                role,
                &subject,
                sign_date.unwrap_or_else(Utc::now),
            );
            println!("{}", claims.sign(config.app_secret.expose()));
            Ok(())
        }
    }
}
