use clap::Parser;

fn main() -> std::process::ExitCode {
    rushline::Cli::parse().run()
}
