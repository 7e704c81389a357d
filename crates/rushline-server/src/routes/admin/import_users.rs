use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, header};
use rushline_app::ErrorCode;
use rushline_app::identity::{ImportRecord, Importer, Outcome};
use serde::Serialize;
use utoipa::ToSchema;

use crate::auth::Admin;
use crate::openapi::errors;
use crate::{ApiError, AppState, Json};

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
    #[schema(value_type = Vec<LineResultSchema>)]
    results: Vec<rushline_app::identity::LineResult>,
}

/// One account to import (the application's `ImportRecord`, which the handler reads). Exactly one
/// of `password` and `password_hash` is given.
#[derive(ToSchema)]
#[schema(as = ImportRecord)]
#[allow(dead_code)] // Describes the request for OpenAPI.
struct ImportRecordSchema {
    #[schema(example = "minji@example.com")]
    email: String,
    #[schema(example = "Kim Minji")]
    name: String,
    /// `buyer` (when absent or empty) or `seller`; admins are refused.
    #[schema(example = "buyer")]
    role: Option<String>,
    /// A password, checked against the sign-up rules and hashed with the configured cost.
    password: Option<String>,
    /// An argon2 PHC string (`$argon2id$v=19$m=…,t=…,p=…$salt$hash`), stored as it is; logins
    /// are checked with the parameters written in it.
    #[schema(example = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA")]
    password_hash: Option<String>,
}

/// One line's outcome (the application's `LineResult`, as it serialises): its number in the
/// input (a JSON array's item, or the line, from 1) and its normalized e-mail when it had one.
#[derive(ToSchema)]
#[schema(as = LineResult)]
#[allow(dead_code)] // Describes the response for OpenAPI.
struct LineResultSchema {
    line: u64,
    email: Option<String>,
    /// `imported` (with `id`), `existing` (an account with this e-mail was left as it is) or
    /// `refused` (with `reason`).
    status: String,
    id: Option<uuid::Uuid>,
    reason: Option<String>,
}

errors!(ImportUsersErrors: [MalformedJson, InvalidEncoding, Unauthorized, Forbidden, PayloadTooLarge, TooManyLines, UnsupportedMediaType, DatabaseUnavailable]);

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
            (Vec<ImportRecordSchema> = "application/json"),
            (ImportRecordSchema = "application/x-ndjson"),
        )
    ),
    responses(
        (status = 200, description = "Every line's outcome; refused lines do not fail the request", body = ImportReport),
        ImportUsersErrors,
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
                ErrorCode::PayloadTooLarge,
                format!("an import carries at most {MAX_BODY_BYTES} bytes; split it"),
            )
        })?;
    let text = std::str::from_utf8(&bytes)
        .map_err(|_| ApiError::new(ErrorCode::InvalidEncoding, "the body is not valid UTF-8"))?;
    let lines = format.lines(text)?;
    if lines.len() > MAX_LINES {
        return Err(ApiError::new(
            ErrorCode::TooManyLines,
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
                ErrorCode::UnsupportedMediaType,
                "send a JSON array (`application/json`) or JSON lines (`application/x-ndjson`)",
            )),
        }
    }

    /// The records, each with its line number, or the reason it cannot be read.
    fn lines(&self, text: &str) -> Result<Vec<Line>, ApiError> {
        match self {
            Self::Array => {
                let items: Vec<serde_json::Value> = serde_json::from_str(text).map_err(|e| {
                    ApiError::new(
                        ErrorCode::MalformedJson,
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
