use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use rushline_domain::SystemClock;

use crate::Rushline;
use crate::import::{FileFormat, ImportSummary, import_file};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// A CSV file with a header row, or JSON lines, with the fields email, name, role (buyer or
    /// seller; default buyer) and password or password_hash (an argon2 PHC string, kept as is).
    pub file: PathBuf,
    /// The file's format; by default, its extension's (.csv, .jsonl or .ndjson).
    #[arg(long, value_enum)]
    pub format: Option<FileFormat>,
    /// Lines written per transaction.
    #[arg(long, default_value_t = 1_000, value_parser = clap::value_parser!(u16).range(1..=10_000))]
    pub batch_size: u16,
}

pub fn run(config: Option<&Path>, args: Args) -> anyhow::Result<()> {
    let format = match args.format {
        Some(format) => format,
        None => FileFormat::of_path(&args.file).with_context(|| {
            format!(
                "cannot tell the format of {} from its extension: pass --format csv or --format jsonl",
                args.file.display()
            )
        })?,
    };
    let size = std::fs::metadata(&args.file)
        .with_context(|| format!("cannot open {}", args.file.display()))?
        .len();
    let config = super::load_config(config)?;
    let _telemetry = crate::telemetry::init(&config.log, &config.telemetry)?;
    let summary = super::runtime()?.block_on(async {
        let node = Rushline::build(config, Arc::new(SystemClock)).await?;
        node.state
            .store
            .migrate()
            .await
            .context("migration failed")?;
        let bar = ProgressBar::new(size).with_style(
            ProgressStyle::with_template(
                "{elapsed_precise} [{wide_bar}] {bytes}/{total_bytes} {msg}",
            )
            .context("the progress bar's template")?
            .progress_chars("=> "),
        );
        let summary = import_file(
            &node.state,
            &args.file,
            format,
            usize::from(args.batch_size),
            |bytes, summary| {
                bar.set_position(bytes);
                bar.set_message(counts(summary));
            },
        )
        .await;
        bar.finish_and_clear();
        summary
    })?;
    print!("{}", report(&summary));
    anyhow::ensure!(
        summary.refused.is_empty(),
        "{} lines were refused",
        summary.refused.len()
    );
    Ok(())
}

fn counts(summary: &ImportSummary) -> String {
    format!(
        "imported {}, skipped {} existing, refused {}",
        summary.imported,
        summary.existing,
        summary.refused.len()
    )
}

/// The summary, then every refused line with its reason.
fn report(summary: &ImportSummary) -> String {
    let mut text = counts(summary);
    text.push('\n');
    for (line, reason) in &summary.refused {
        text.push_str(&format!("  line {line}: {reason}\n"));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_report_lists_every_refused_line() {
        let summary = ImportSummary {
            imported: 3,
            existing: 1,
            refused: vec![
                (4, "email: is not a valid e-mail address".to_owned()),
                (9, "email: repeats line 2".to_owned()),
            ],
        };
        assert_eq!(
            report(&summary),
            "imported 3, skipped 1 existing, refused 2\n\
             \x20 line 4: email: is not a valid e-mail address\n\
             \x20 line 9: email: repeats line 2\n"
        );
    }
}
