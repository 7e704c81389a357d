//! Reading account files for `rushline import-users`: CSV with a header row, or JSON lines, with
//! the fields of [`ImportRecord`]. A line that cannot be read is refused with its reason, like a
//! line that breaks a rule; only an unreadable file stops the import.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::Path;

use anyhow::Context;
use rushline_app::App;
use rushline_app::identity::{ImportRecord, Importer, LineResult, Outcome};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FileFormat {
    /// Comma-separated, with a header row naming the columns.
    Csv,
    /// One JSON object per line.
    Jsonl,
}

impl FileFormat {
    /// The format a file's extension names: `.csv`, or `.jsonl` / `.ndjson`.
    pub fn of_path(path: &Path) -> Option<Self> {
        let extension = path.extension()?.to_str()?.to_ascii_lowercase();
        match extension.as_str() {
            "csv" => Some(Self::Csv),
            "jsonl" | "ndjson" => Some(Self::Jsonl),
            _ => None,
        }
    }
}

/// What an import did so far.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ImportSummary {
    pub imported: u64,
    /// Lines whose e-mail had an account already.
    pub existing: u64,
    /// Line number and reason, in file order.
    pub refused: Vec<(u64, String)>,
}

impl ImportSummary {
    fn add(&mut self, results: Vec<LineResult>) {
        for result in results {
            match result.outcome {
                Outcome::Imported { .. } => self.imported += 1,
                Outcome::Existing => self.existing += 1,
                Outcome::Refused { reason } => self.refused.push((result.line, reason)),
            }
        }
    }
}

/// Imports every line of `path`, `batch` lines per transaction, and calls `progress` with the
/// bytes read and the summary after each batch.
pub async fn import_file(
    app: &App,
    path: &Path,
    format: FileFormat,
    batch: usize,
    mut progress: impl FnMut(u64, &ImportSummary),
) -> anyhow::Result<ImportSummary> {
    let file = File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let mut lines = Lines::new(file, format)?;
    let mut importer = Importer::new(app);
    let mut summary = ImportSummary::default();
    loop {
        let mut records = Vec::with_capacity(batch);
        while records.len() < batch {
            match lines.next() {
                Some(line) => {
                    records.push(line.with_context(|| format!("cannot read {}", path.display()))?)
                }
                None => break,
            }
        }
        if records.is_empty() {
            return Ok(summary);
        }
        summary.add(importer.import(records).await?);
        progress(lines.bytes_read(), &summary);
    }
}

type Line = (u64, Result<ImportRecord, String>);

/// The records of a file, one at a time, each with its line number.
enum Lines {
    Csv {
        reader: csv::Reader<File>,
        headers: csv::StringRecord,
    },
    Jsonl {
        reader: BufReader<File>,
        line: u64,
        bytes: u64,
    },
}

impl Lines {
    fn new(file: File, format: FileFormat) -> anyhow::Result<Self> {
        Ok(match format {
            FileFormat::Csv => {
                let mut reader = csv::ReaderBuilder::new()
                    .trim(csv::Trim::All)
                    .flexible(false)
                    .from_reader(file);
                let headers = reader
                    .headers()
                    .context("cannot read the header row")?
                    .clone();
                let has = |name: &str| headers.iter().any(|h| h == name);
                anyhow::ensure!(
                    has("email") && has("name") && (has("password") || has("password_hash")),
                    "the header row must name the columns email, name, role (optional) and \
                     password or password_hash; it names: {}",
                    headers.iter().collect::<Vec<_>>().join(", ")
                );
                Self::Csv { reader, headers }
            }
            FileFormat::Jsonl => Self::Jsonl {
                reader: BufReader::new(file),
                line: 0,
                bytes: 0,
            },
        })
    }

    fn next(&mut self) -> Option<std::io::Result<Line>> {
        match self {
            Self::Csv { reader, headers } => {
                let mut record = csv::StringRecord::new();
                match reader.read_record(&mut record) {
                    Ok(false) => None,
                    Ok(true) => {
                        let line = record.position().map_or(0, csv::Position::line);
                        let parsed = record
                            .deserialize::<ImportRecord>(Some(headers))
                            .map_err(|e| format!("not a record: {}", csv_reason(&e)));
                        Some(Ok((line, parsed)))
                    }
                    Err(e) if matches!(e.kind(), csv::ErrorKind::Io(_)) => {
                        Some(Err(std::io::Error::other(e)))
                    }
                    Err(e) => {
                        let line = e.position().map_or(0, csv::Position::line);
                        Some(Ok((line, Err(format!("not a record: {}", csv_reason(&e))))))
                    }
                }
            }
            Self::Jsonl {
                reader,
                line,
                bytes,
            } => loop {
                let mut raw = Vec::new();
                match reader.read_until(b'\n', &mut raw) {
                    Ok(0) => return None,
                    Ok(n) => {
                        *line += 1;
                        *bytes += n as u64;
                    }
                    Err(e) => return Some(Err(e)),
                }
                let Ok(text) = std::str::from_utf8(&raw) else {
                    return Some(Ok((*line, Err("not valid UTF-8".to_owned()))));
                };
                if text.trim().is_empty() {
                    continue;
                }
                let parsed = serde_json::from_str::<ImportRecord>(text)
                    .map_err(|e| format!("not a record: {e}"));
                return Some(Ok((*line, parsed)));
            },
        }
    }

    fn bytes_read(&self) -> u64 {
        match self {
            Self::Csv { reader, .. } => reader.position().byte(),
            Self::Jsonl { bytes, .. } => *bytes,
        }
    }
}

/// A CSV error without the position, which the line number already gives.
fn csv_reason(error: &csv::Error) -> String {
    match error.kind() {
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => format!("{len} fields where the header has {expected_len}"),
        csv::ErrorKind::Utf8 { .. } => "not valid UTF-8".to_owned(),
        csv::ErrorKind::Deserialize { err, .. } => err.to_string(),
        _ => error.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_follow_the_extension() {
        assert_eq!(
            FileFormat::of_path(Path::new("a/users.CSV")),
            Some(FileFormat::Csv)
        );
        assert_eq!(
            FileFormat::of_path(Path::new("users.jsonl")),
            Some(FileFormat::Jsonl)
        );
        assert_eq!(
            FileFormat::of_path(Path::new("users.ndjson")),
            Some(FileFormat::Jsonl)
        );
        assert_eq!(FileFormat::of_path(Path::new("users.json")), None);
        assert_eq!(FileFormat::of_path(Path::new("users")), None);
    }
}
