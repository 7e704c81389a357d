//! Bulk import of accounts: the admin endpoint and the file reader behind `rushline import-users`,
//! on both backend pairs.

use argon2::password_hash::{PasswordHasher, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use rushline::import::{FileFormat, ImportSummary, import_file};
use rushline_domain::Role;
use rushline_store::DbError;
use rushline_testkit::{TestApp, TestResponse, TestUser, backend_test};
use serde_json::{Value, json};

use crate::identity::{PASSWORD, log_in};

const IMPORT: &str = "/api/v1/admin/users/import";

/// A PHC string of `password` with parameters unlike the server's.
fn hash_of(password: &str) -> String {
    let params = Params::new(16, 2, 1, None).unwrap();
    let salt = SaltString::encode_b64(b"0123456789abcdef").unwrap();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
        .hash_password(password.as_bytes(), &salt)
        .unwrap()
        .to_string()
}

async fn import(
    app: &TestApp,
    user: Option<&TestUser>,
    content_type: &str,
    body: String,
) -> TestResponse {
    let mut request = Request::post(IMPORT).header(header::CONTENT_TYPE, content_type);
    if let Some(user) = user {
        request = request.header(header::AUTHORIZATION, user.bearer());
    }
    app.request(request.body(Body::from(body)).unwrap()).await
}

fn lines(records: &[Value]) -> String {
    records
        .iter()
        .map(Value::to_string)
        .collect::<Vec<_>>()
        .join("\n")
}

/// `(line, status, reason)` of every result.
fn outcomes(report: &Value) -> Vec<(u64, String, String)> {
    report["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["line"].as_u64().unwrap(),
                r["status"].as_str().unwrap().to_owned(),
                r["reason"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

backend_test! {
    async fn admins_import_json_lines_keeping_hashes_and_skipping_existing_emails(backend: Backend) {
        let app = TestApp::new(backend).await;
        let admin = app.user(Role::Admin).await;
        let hash = hash_of("imp0rted!pw");
        let body = lines(&[
            json!({"email": " Hana@Example.com ", "name": "Hana", "role": "seller", "password_hash": hash}),
            json!({"email": "jun@example.com", "name": "Jun", "password": PASSWORD}),
        ]);
        let response = import(&app, Some(&admin), "application/x-ndjson", format!("\n{body}\n\n")).await;
        response.assert_status(StatusCode::OK);
        let report = response.json();
        assert_eq!((report["imported"].as_u64(), report["existing"].as_u64(), report["refused"].as_u64()), (Some(2), Some(0), Some(0)));
        assert_eq!(
            outcomes(&report),
            [(2, "imported".to_owned(), String::new()), (3, "imported".to_owned(), String::new())],
            "line numbers count blank lines"
        );
        assert_eq!(report["results"][0]["email"], "hana@example.com");

        let hana = app.state().store.user_by_email("hana@example.com").await.unwrap();
        assert_eq!(hana.password_hash, hash, "a given hash is stored as it is");
        assert_eq!(hana.role, Role::Seller);
        assert!(hana.verified_at.is_some());
        assert_eq!(report["results"][0]["id"], hana.id.to_string());
        let jun = app.state().store.user_by_email("jun@example.com").await.unwrap();
        assert!(jun.password_hash.starts_with("$argon2id$v=19$m=8,t=1,p=1$"), "hashed with the configured cost");
        assert_eq!(jun.role, Role::Buyer);

        log_in(&app, "hana@example.com", "imp0rted!pw").await.assert_status(StatusCode::OK);
        log_in(&app, "hana@example.com", PASSWORD).await.assert_status(StatusCode::UNAUTHORIZED);
        log_in(&app, "jun@example.com", PASSWORD).await.assert_status(StatusCode::OK);

        let again = import(&app, Some(&admin), "application/x-ndjson", body).await;
        again.assert_status(StatusCode::OK);
        let report = again.json();
        assert_eq!((report["imported"].as_u64(), report["existing"].as_u64()), (Some(0), Some(2)));
        assert_eq!(outcomes(&report)[0].1, "existing");
        assert_eq!(
            app.state().store.user_by_email("hana@example.com").await.unwrap(),
            hana,
            "an existing account is left as it is"
        );
    }
}

backend_test! {
    async fn every_bad_line_is_reported_and_the_others_imported(backend: Backend) {
        let app = TestApp::new(backend).await;
        let admin = app.user(Role::Admin).await;
        let hash = hash_of("imp0rted!pw");
        let body = [
            json!({"email": "ok@example.com", "name": "Ok", "password_hash": hash}).to_string(),
            json!({"email": "not-an-address", "name": "Bad", "password": PASSWORD}).to_string(),
            json!({"email": "root@example.com", "name": "Root", "role": "admin", "password": PASSWORD}).to_string(),
            json!({"email": "odd@example.com", "name": "Odd", "role": "owner", "password": PASSWORD}).to_string(),
            json!({"email": "both@example.com", "name": "Both", "password": PASSWORD, "password_hash": hash}).to_string(),
            json!({"email": "none@example.com", "name": "None"}).to_string(),
            json!({"email": "weak@example.com", "name": "Weak", "password": "short"}).to_string(),
            json!({"email": "bcrypt@example.com", "name": "Bcrypt", "password_hash": "$2b$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW"}).to_string(),
            json!({"email": "OK@example.com", "name": "Twin", "password": PASSWORD}).to_string(),
            json!({"email": "anon@example.com", "name": "  ", "password": PASSWORD}).to_string(),
            "{\"email\": \"broken@example.com\",".to_owned(),
            json!({"email": 7, "name": "Seven", "password": PASSWORD}).to_string(),
            json!({"email": "last@example.com", "name": "Last", "password": PASSWORD}).to_string(),
        ]
        .join("\n");
        let response = import(&app, Some(&admin), "application/x-ndjson; charset=utf-8", body).await;
        response.assert_status(StatusCode::OK);
        let report = response.json();
        assert_eq!((report["imported"].as_u64(), report["refused"].as_u64()), (Some(2), Some(11)));
        let refused: Vec<(u64, String)> = outcomes(&report)
            .into_iter()
            .filter(|(_, status, _)| status == "refused")
            .map(|(line, _, reason)| (line, reason))
            .collect();
        let expect = [
            (2, "email: is not a valid e-mail address"),
            (3, "role: admins are not imported"),
            (4, "role: must be buyer or seller"),
            (5, "give either password or password_hash, not both"),
            (6, "password: password or password_hash is required"),
            (7, "password: must be 8 to 64 characters long"),
            (8, "password_hash: must be an argon2 PHC string"),
            (9, "email: repeats line 1"),
            (10, "name: is required"),
            (11, "not a record: EOF while parsing"),
            (12, "not a record: invalid type: integer `7`"),
        ];
        assert_eq!(refused.len(), expect.len(), "{refused:?}");
        for ((line, reason), (want_line, want)) in refused.iter().zip(expect) {
            assert_eq!(*line, want_line);
            assert!(reason.contains(want), "line {line}: {reason:?} lacks {want:?}");
        }
        for email in ["ok@example.com", "last@example.com"] {
            assert!(app.state().store.user_by_email(email).await.is_ok(), "{email}");
        }
        for email in ["root@example.com", "both@example.com", "anon@example.com"] {
            assert!(matches!(app.state().store.user_by_email(email).await, Err(DbError::NotFound)), "{email}");
        }
    }
}

backend_test! {
    async fn a_json_array_imports_item_by_item(backend: Backend) {
        let app = TestApp::new(backend).await;
        let admin = app.user(Role::Admin).await;
        let body = json!([
            {"email": "a@example.com", "name": "A", "password": PASSWORD},
            "not an object",
            {"email": "b@example.com", "name": "B", "role": "seller", "password": PASSWORD, "extra": 1},
        ]);
        let response = import(&app, Some(&admin), "application/json", body.to_string()).await;
        response.assert_status(StatusCode::OK);
        let report = response.json();
        let statuses: Vec<(u64, String)> = outcomes(&report).into_iter().map(|(l, s, _)| (l, s)).collect();
        assert_eq!(statuses, [(1, "imported".to_owned()), (2, "refused".to_owned()), (3, "imported".to_owned())]);

        let not_an_array = import(&app, Some(&admin), "application/json", "{\"email\": 1}".to_owned()).await;
        not_an_array.assert_status(StatusCode::BAD_REQUEST);
        assert_eq!(not_an_array.error_code(), "malformed_json");
        let empty = import(&app, Some(&admin), "application/json", "[]".to_owned()).await;
        empty.assert_status(StatusCode::OK);
        assert_eq!(empty.json()["results"], json!([]));
    }
}

backend_test! {
    async fn only_admins_import_and_bodies_are_limited(backend: Backend) {
        let app = TestApp::new(backend).await;
        let admin = app.user(Role::Admin).await;
        let record = json!({"email": "x@example.com", "name": "X", "password": PASSWORD}).to_string();

        let anonymous = import(&app, None, "application/x-ndjson", record.clone()).await;
        anonymous.assert_status(StatusCode::UNAUTHORIZED);
        assert_eq!(anonymous.error_code(), "unauthorized");
        for role in [Role::Buyer, Role::Seller] {
            let user = app.user(role).await;
            let response = import(&app, Some(&user), "application/x-ndjson", record.clone()).await;
            response.assert_status(StatusCode::FORBIDDEN);
            assert_eq!(response.error_code(), "forbidden");
        }
        assert!(matches!(app.state().store.user_by_email("x@example.com").await, Err(DbError::NotFound)));

        let csv = import(&app, Some(&admin), "text/csv", "email,name\n".to_owned()).await;
        csv.assert_status(StatusCode::UNSUPPORTED_MEDIA_TYPE);
        assert_eq!(csv.error_code(), "unsupported_media_type");

        let many = vec!["{}"; 10_001].join("\n");
        let response = import(&app, Some(&admin), "application/x-ndjson", many).await;
        response.assert_status(StatusCode::PAYLOAD_TOO_LARGE);
        assert_eq!(response.error_code(), "too_many_lines");

        let huge = format!("{{\"name\": \"{}\"}}", "x".repeat(8 * 1024 * 1024));
        let response = import(&app, Some(&admin), "application/x-ndjson", huge).await;
        response.assert_status(StatusCode::PAYLOAD_TOO_LARGE);
        assert_eq!(response.error_code(), "payload_too_large");

        let request = Request::post(IMPORT)
            .header(header::CONTENT_TYPE, "application/x-ndjson")
            .header(header::AUTHORIZATION, admin.bearer())
            .body(Body::from(vec![b'{', 0xff, b'}']))
            .unwrap();
        let response = app.request(request).await;
        response.assert_status(StatusCode::BAD_REQUEST);
        assert_eq!(response.error_code(), "invalid_encoding");
    }
}

backend_test! {
    async fn files_import_from_csv_and_json_lines_in_batches(backend: Backend) {
        let app = TestApp::new(backend).await;
        let dir = tempfile::tempdir().unwrap();
        let hash = hash_of("imp0rted!pw");
        let csv = dir.path().join("users.csv");
        std::fs::write(
            &csv,
            format!(
                "email,name,role,password,password_hash,customer_since\n\
                 hana@example.com,\"Hana, Seoul\",seller,,\"{hash}\",2019\n\
                 jun@example.com,Jun,,{PASSWORD},,2020\n\
                 short@example.com,Short\n\
                 bad,Bad,buyer,{PASSWORD},,2021\n\
                 HANA@example.com,Twin,,{PASSWORD},,2022\n\
                 mina@example.com,Mina,buyer,{PASSWORD},,2023\n"
            ),
        )
        .unwrap();
        let mut progress = Vec::new();
        let summary = import_file(app.state(), &csv, FileFormat::Csv, 2, |bytes, summary| {
            progress.push((bytes, summary.imported));
        })
        .await
        .unwrap();
        assert_eq!(summary.imported, 3);
        assert_eq!(summary.existing, 0);
        assert_eq!(summary.refused.len(), 3, "{:?}", summary.refused);
        assert_eq!(summary.refused[0].0, 4);
        assert!(summary.refused[0].1.contains("2 fields where the header has 6"), "{:?}", summary.refused);
        assert_eq!(summary.refused[1].0, 5);
        assert!(summary.refused[1].1.contains("email: is not a valid e-mail address"));
        assert_eq!(summary.refused[2], (6, "email: repeats line 2".to_owned()));
        assert_eq!(progress.len(), 3, "one call per batch of 2: {progress:?}");
        assert_eq!(progress.last().unwrap().0, std::fs::metadata(&csv).unwrap().len());
        let hana = app.state().store.user_by_email("hana@example.com").await.unwrap();
        assert_eq!((hana.name.as_str(), hana.role, hana.password_hash.as_str()), ("Hana, Seoul", Role::Seller, hash.as_str()));
        log_in(&app, "hana@example.com", "imp0rted!pw").await.assert_status(StatusCode::OK);
        log_in(&app, "mina@example.com", PASSWORD).await.assert_status(StatusCode::OK);

        let again = import_file(app.state(), &csv, FileFormat::Csv, 1_000, |_, _| {}).await.unwrap();
        assert_eq!((again.imported, again.existing, again.refused.len()), (0, 3, 3), "a second run skips what the first imported");

        let jsonl = dir.path().join("users.jsonl");
        std::fs::write(
            &jsonl,
            format!(
                "{}\n\n{}\nnot json\n",
                json!({"email": "jun@example.com", "name": "Jun", "password": PASSWORD}),
                json!({"email": "yuna@example.com", "name": "Yuna", "password_hash": hash}),
            ),
        )
        .unwrap();
        let summary = import_file(app.state(), &jsonl, FileFormat::Jsonl, 1_000, |_, _| {}).await.unwrap();
        assert_eq!((summary.imported, summary.existing), (1, 1));
        assert_eq!(summary.refused.len(), 1);
        assert_eq!(summary.refused[0].0, 4, "blank lines count");
        assert!(summary.refused[0].1.starts_with("not a record: expected ident"), "{:?}", summary.refused);
        log_in(&app, "yuna@example.com", "imp0rted!pw").await.assert_status(StatusCode::OK);

        let headless = dir.path().join("headless.csv");
        std::fs::write(&headless, "mail,full_name\nx@example.com,X\n").unwrap();
        let error = import_file(app.state(), &headless, FileFormat::Csv, 10, |_, _| {}).await.unwrap_err();
        assert!(error.to_string().contains("it names: mail, full_name"), "{error}");
        let missing = import_file(app.state(), &dir.path().join("nope.csv"), FileFormat::Csv, 10, |_, _| {}).await.unwrap_err();
        assert!(missing.to_string().contains("cannot open"), "{missing}");

        let invalid = dir.path().join("latin1.jsonl");
        std::fs::write(&invalid, b"{\"name\": \"Caf\xe9\"}\n").unwrap();
        let summary: ImportSummary = import_file(app.state(), &invalid, FileFormat::Jsonl, 10, |_, _| {}).await.unwrap();
        assert_eq!(summary.refused, [(1, "not valid UTF-8".to_owned())]);
    }
}
