use std::io::BufRead;
use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use clap::builder::{PossibleValuesParser, TypedValueParser};
use rushline_domain::{Role, SystemClock};

use crate::Rushline;

/// The environment variable `create-user` reads the password from without `--password-stdin`.
pub const PASSWORD_ENV: &str = "RUSHLINE_ADMIN_PASSWORD";

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Create a verified account of any role; the only way to make an admin. The password comes
    /// from standard input (--password-stdin) or RUSHLINE_ADMIN_PASSWORD, never from the command
    /// line, where other users of the machine could read it.
    CreateUser(CreateUserArgs),
}

#[derive(Debug, clap::Args)]
pub struct CreateUserArgs {
    #[arg(long)]
    pub email: String,
    #[arg(long)]
    pub name: String,
    #[arg(
        long,
        value_parser = PossibleValuesParser::new(["admin", "seller", "buyer"])
            .map(|role| role.parse::<Role>().expect("one of the possible values")),
    )]
    pub role: Role,
    /// Read the password from the first line of standard input.
    #[arg(long)]
    pub password_stdin: bool,
}

pub fn run(config: Option<&Path>, command: Command) -> anyhow::Result<()> {
    let Command::CreateUser(args) = command;
    let password = password(
        args.password_stdin,
        std::io::stdin().lock(),
        std::env::var(PASSWORD_ENV).ok(),
    )?;
    let config = super::load_config(config)?;
    let _telemetry = crate::telemetry::init(&config.log, &config.telemetry)?;
    super::runtime()?.block_on(async {
        let node = Rushline::build(config, Arc::new(SystemClock)).await?;
        node.state
            .store
            .migrate()
            .await
            .context("migration failed")?;
        let user = rushline_app::identity::create_verified_user(
            &node.state,
            &args.email,
            &args.name,
            args.role,
            &password,
        )
        .await?;
        println!("created {} {} ({})", user.role, user.email, user.id);
        Ok(())
    })
}

/// The password from the first line of `stdin` when asked to, else from the environment.
fn password(from_stdin: bool, stdin: impl BufRead, env: Option<String>) -> anyhow::Result<String> {
    if from_stdin {
        let line = stdin
            .lines()
            .next()
            .context("--password-stdin: standard input is empty")?
            .context("--password-stdin: cannot read standard input")?;
        return Ok(line.trim_end_matches('\r').to_owned());
    }
    env.filter(|p| !p.is_empty()).with_context(|| {
        format!("give the password on standard input with --password-stdin, or in {PASSWORD_ENV}")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_password_comes_from_stdin_when_asked_else_from_the_environment() {
        let stdin = "s3cret!pw\r\nignored\n".as_bytes();
        assert_eq!(
            password(true, stdin, Some("env".into())).unwrap(),
            "s3cret!pw"
        );
        assert!(password(true, "".as_bytes(), None).is_err());
        assert_eq!(
            password(false, "".as_bytes(), Some("fr0m-env!".into())).unwrap(),
            "fr0m-env!"
        );
        let missing = password(false, "".as_bytes(), None).unwrap_err();
        assert!(missing.to_string().contains(PASSWORD_ENV), "{missing}");
        assert!(password(false, "".as_bytes(), Some(String::new())).is_err());
    }
}
