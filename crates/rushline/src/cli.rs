use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::commands;

/// Fair first-come-first-served sales of limited stock.
#[derive(Debug, Parser)]
#[command(name = "rushline", version, about)]
pub struct Cli {
    /// Configuration file (default: ./rushline.toml when present).
    #[arg(long, global = true, value_name = "PATH")]
    pub config: Option<PathBuf>,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTP API and the background jobs.
    Serve(commands::serve::Args),
    /// Run background jobs only, with `/healthz` and `/metrics` on `worker.addr`.
    Worker(commands::worker::Args),
    /// Apply the database migrations and exit.
    Migrate,
    /// Print a commented configuration file with every key and its default.
    DefaultConfig,
    /// Operator tasks on accounts.
    #[command(subcommand)]
    Admin(commands::admin::Command),
    /// Import verified buyer and seller accounts from a CSV or JSON-lines file.
    ImportUsers(commands::import_users::Args),
    /// Settle a business day: what each seller is owed for their orders completed that day.
    Settle(commands::settle::Args),
    /// Raffles, from the outside: check a published draw.
    #[command(subcommand)]
    Raffle(commands::raffle::Command),
    /// Rehearse a sale against running nodes, over their public API.
    #[command(subcommand)]
    Loadtest(commands::loadtest::Command),
}

impl Cli {
    pub fn run(self) -> ExitCode {
        let outcome = match self.command {
            Command::DefaultConfig => {
                print!("{}", crate::config::DEFAULT_CONFIG);
                Ok(())
            }
            Command::Serve(args) => commands::serve::run(self.config.as_deref(), args),
            Command::Worker(args) => commands::worker::run(self.config.as_deref(), args),
            Command::Migrate => commands::migrate::run(self.config.as_deref()),
            Command::Admin(command) => commands::admin::run(self.config.as_deref(), command),
            Command::ImportUsers(args) => commands::import_users::run(self.config.as_deref(), args),
            Command::Settle(args) => commands::settle::run(self.config.as_deref(), args),
            Command::Raffle(command) => commands::raffle::run(command),
            Command::Loadtest(command) => commands::loadtest::run(command),
        };
        match outcome {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("error: {e:#}");
                ExitCode::FAILURE
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    #[test]
    fn cli_definition_is_valid() {
        Cli::command().debug_assert();
    }

    #[test]
    fn serve_flags_parse() {
        let cli = Cli::try_parse_from([
            "rushline",
            "--config",
            "x.toml",
            "serve",
            "--no-migrate",
            "--no-jobs",
        ])
        .unwrap();
        let Command::Serve(args) = cli.command else {
            panic!("not serve")
        };
        assert!(args.no_migrate && args.no_jobs);
        assert_eq!(cli.config, Some(PathBuf::from("x.toml")));

        let cli = Cli::try_parse_from(["rushline", "worker", "--no-migrate"]).unwrap();
        let Command::Worker(args) = cli.command else {
            panic!("not worker")
        };
        assert!(args.no_migrate);
    }

    #[test]
    fn admin_create_user_parses_and_refuses_unknown_roles() {
        let cli = Cli::try_parse_from([
            "rushline",
            "admin",
            "create-user",
            "--email",
            "ops@example.com",
            "--name",
            "Ops",
            "--role",
            "admin",
            "--password-stdin",
        ])
        .unwrap();
        let Command::Admin(commands::admin::Command::CreateUser(args)) = cli.command else {
            panic!("not admin create-user")
        };
        assert_eq!(args.email, "ops@example.com");
        assert_eq!(args.name, "Ops");
        assert_eq!(args.role, rushline_domain::Role::Admin);
        assert!(args.password_stdin);

        let root = Cli::try_parse_from([
            "rushline",
            "admin",
            "create-user",
            "--email",
            "a@b.co",
            "--name",
            "A",
            "--role",
            "root",
        ]);
        assert!(root.is_err());
        let no_password_on_the_command_line = Cli::try_parse_from([
            "rushline",
            "admin",
            "create-user",
            "--email",
            "a@b.co",
            "--name",
            "A",
            "--role",
            "buyer",
            "--password",
            "x",
        ]);
        assert!(no_password_on_the_command_line.is_err());
    }

    #[test]
    fn import_users_and_loadtest_parse_their_flags() {
        let cli = Cli::try_parse_from([
            "rushline",
            "import-users",
            "customers.txt",
            "--format",
            "jsonl",
            "--batch-size",
            "500",
        ])
        .unwrap();
        let Command::ImportUsers(args) = cli.command else {
            panic!("not import-users")
        };
        assert_eq!(args.file, PathBuf::from("customers.txt"));
        assert_eq!(args.format, Some(crate::import::FileFormat::Jsonl));
        assert_eq!(args.batch_size, 500);
        assert!(
            Cli::try_parse_from(["rushline", "import-users", "a.csv", "--batch-size", "0"])
                .is_err()
        );

        let cli = Cli::try_parse_from([
            "rushline",
            "loadtest",
            "flash-sale",
            "--url",
            "http://a:8080",
            "--url",
            "http://b:8080",
            "--buyers",
            "20000",
            "--stock",
            "1000",
            "--per-user-limit",
            "2",
            "--connections",
            "256",
            "--duration",
            "30s",
            "--waiting-room",
            "--admit-per-minute",
            "6000",
            "--baseline",
            "5s",
            "--report",
            "r.html",
            "--json",
            "s.json",
            "--admin-email",
            "ops@example.com",
            "--admin-password",
            "s3cret!pw",
        ])
        .unwrap();
        let Command::Loadtest(commands::loadtest::Command::FlashSale(args)) = cli.command else {
            panic!("not loadtest flash-sale")
        };
        assert_eq!(args.urls, ["http://a:8080", "http://b:8080"]);
        assert_eq!(
            (
                args.buyers,
                args.stock,
                args.per_user_limit,
                args.connections
            ),
            (20_000, 1_000, 2, 256)
        );
        assert_eq!(args.duration, Some(std::time::Duration::from_secs(30)));
        assert!(args.waiting_room);
        assert_eq!(args.admit_per_minute, 6_000);
        assert_eq!(args.open_in, std::time::Duration::from_secs(5));
        assert_eq!(args.baseline, Some(std::time::Duration::from_secs(5)));
        assert_eq!(args.report, Some(PathBuf::from("r.html")));

        let without_url = Cli::try_parse_from([
            "rushline",
            "loadtest",
            "flash-sale",
            "--admin-email",
            "a@b.co",
            "--admin-password",
            "x",
        ]);
        assert!(without_url.is_err());
        let rate_without_room = Cli::try_parse_from([
            "rushline",
            "loadtest",
            "flash-sale",
            "--url",
            "http://a",
            "--admin-email",
            "a@b.co",
            "--admin-password",
            "x",
            "--admit-per-minute",
            "60",
        ]);
        assert!(rate_without_room.is_err());
    }
}
