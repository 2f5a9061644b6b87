//! The server binary: `wix-app` serves the app, `wix-app sign-instance …` mints dev instances.

use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    // A missing .env is normal; the real environment wins over it.
    let _ = dotenvy::dotenv();
    match wix_app::server::cli::run(std::env::args_os().skip(1).collect()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("wix-app: {message}");
            ExitCode::from(2)
        }
    }
}
