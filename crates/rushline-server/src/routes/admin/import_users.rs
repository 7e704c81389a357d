use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use serde::Serialize;
use utoipa::ToSchema;

use crate::auth::Admin;
use crate::identity::{ImportRecord, Importer, LineResult, Outcome};
use crate::{ApiError, AppState, ErrorBody, Json};

/// The largest body accepted: tens of thousands of lines with hashes.
pub(crate) const MAX_BODY_BYTES: usize = 8 * 1024 * 1024;
/// The most lines one request may carry; larger imports take several requests.
pub(crate) const MAX_LINES: usize = 10_000;
/// Lines written per transaction.
const BATCH: usize = 1_000;

/// What an import did, line by line.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ImportReport {
    imported: u64,
    /// Lines whose e-mail had an account already, left as it was.
    existing: u64,
    refused: u64,
    /// One per line, in input order.
    results: Vec<LineResult>,
}

/// Imports verified buyer and seller accounts: a JSON array of records
/// (`application/json`), or one record per line (`application/x-ndjson`). Each record has
/// `email`, `name`, `role` (`buyer`, the default, or `seller`) and either `password` (checked
/// against the sign-up rules, hashed here) or `password_hash` (an argon2 PHC string, stored as it
/// is; logins use the parameters in it). Accounts whose e-mail exists are skipped, so an import
/// can be sent again. Lines are independent: a refused line is reported with its reason and the
/// others are imported. At most 10,000 lines and 8 MiB per request, written 1,000 per
/// transaction; hashing plain passwords costs the server one argon2 run each, so large imports
/// should carry hashes.
#[utoipa::path(
    post,
    path = "/api/v1/admin/users/import",
    tag = "admin",
    security(("bearer" = [])),
    request_body(
        description = "A JSON array of records, or JSON lines (one record per line; blank lines are skipped). \
                       `line` in the answer is the item's position in the array, or the line's number.",
        content(
            (Vec<ImportRecord> = "application/json"),
            (ImportRecord = "application/x-ndjson"),
        )
    ),
    responses(
        (status = 200, description = "Every line's outcome; refused lines do not fail the request", body = ImportReport),
        (status = 400, description = "`malformed_json`: an `application/json` body that is not a JSON array; `invalid_encoding`: not UTF-8", body = ErrorBody),
        (status = 401, description = "`unauthorized`", body = ErrorBody),
        (status = 403, description = "`forbidden`: not an admin", body = ErrorBody),
        (status = 413, description = "`payload_too_large` (over 8 MiB), `too_many_lines` (over 10,000)", body = ErrorBody),
        (status = 415, description = "`unsupported_media_type`: neither JSON nor JSON lines", body = ErrorBody),
        (status = 503, description = "`database_unavailable`: nothing of the batch being written was imported; earlier batches were, and an import sent again skips them", body = ErrorBody),
    )
)]
pub(crate) async fn import_users(
    State(state): State<AppState>,
    Admin(admin): Admin,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<ImportReport>, ApiError> {
    let format = Format::of(&headers)?;
    let bytes = axum::body::to_bytes(body, MAX_BODY_BYTES)
        .await
        .map_err(|_| {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                format!("an import carries at most {MAX_BODY_BYTES} bytes; split it"),
            )
        })?;
    let text = std::str::from_utf8(&bytes)
        .map_err(|_| ApiError::bad_request("invalid_encoding", "the body is not valid UTF-8"))?;
    let lines = format.lines(text)?;
    if lines.len() > MAX_LINES {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_many_lines",
            format!("an import carries at most {MAX_LINES} lines; split it"),
        ));
    }

    let mut importer = Importer::new(&state);
    let mut results = Vec::with_capacity(lines.len());
    let mut lines = lines.into_iter().peekable();
    while lines.peek().is_some() {
        let batch: Vec<_> = lines.by_ref().take(BATCH).collect();
        results.extend(importer.import(batch).await?);
    }
    let count =
        |wanted: fn(&Outcome) -> bool| results.iter().filter(|r| wanted(&r.outcome)).count() as u64;
    let report = ImportReport {
        imported: count(|o| matches!(o, Outcome::Imported { .. })),
        existing: count(|o| matches!(o, Outcome::Existing)),
        refused: count(|o| matches!(o, Outcome::Refused { .. })),
        results,
    };
    tracing::info!(
        admin = %admin.id,
        imported = report.imported,
        existing = report.existing,
        refused = report.refused,
        "imported users"
    );
    Ok(Json(report))
}

enum Format {
    Array,
    Lines,
}

type Line = (u64, Result<ImportRecord, String>);

impl Format {
    fn of(headers: &HeaderMap) -> Result<Self, ApiError> {
        let essence = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .map(|v| v.trim().to_ascii_lowercase());
        match essence.as_deref() {
            Some("application/json") => Ok(Self::Array),
            Some("application/x-ndjson" | "application/jsonl" | "application/json-lines") => {
                Ok(Self::Lines)
            }
            _ => Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "send a JSON array (`application/json`) or JSON lines (`application/x-ndjson`)",
            )),
        }
    }

    /// The records, each with its line number, or the reason it cannot be read.
    fn lines(&self, text: &str) -> Result<Vec<Line>, ApiError> {
        match self {
            Self::Array => {
                let items: Vec<serde_json::Value> = serde_json::from_str(text).map_err(|e| {
                    ApiError::bad_request(
                        "malformed_json",
                        format!("expected a JSON array of records: {e}"),
                    )
                })?;
                Ok((1..)
                    .zip(items)
                    .map(|(line, item)| (line, record_from(serde_json::from_value(item))))
                    .collect())
            }
            Self::Lines => Ok((1..)
                .zip(text.lines())
                .filter(|(_, line)| !line.trim().is_empty())
                .map(|(number, line)| (number, record_from(serde_json::from_str(line))))
                .collect()),
        }
    }
}

fn record_from(parsed: Result<ImportRecord, serde_json::Error>) -> Result<ImportRecord, String> {
    parsed.map_err(|e| format!("not a record: {e}"))
}
