use axum::http::StatusCode;
use rushline_testkit::{Backend, TestApp};
use serde_json::Value;

fn schema_ref(operation: &Value, status: &str) -> String {
    operation["responses"][status]["content"]["application/json"]["schema"]["$ref"]
        .as_str()
        .unwrap_or_else(|| panic!("no {status} schema in {operation}"))
        .to_owned()
}

#[tokio::test]
async fn openapi_documents_the_identity_flows_with_their_schemas_and_error_codes() {
    let app = TestApp::new(Backend::Sqlite).await;
    let doc = app.get("/openapi.json").await;
    doc.assert_status(StatusCode::OK);
    let doc = doc.json();
    let paths = &doc["paths"];
    let schemas = &doc["components"]["schemas"];

    let flows = [
        (
            "/api/v1/auth/signup",
            "post",
            "SignupRequest",
            "201",
            vec!["email_taken", "validation_failed"],
        ),
        (
            "/api/v1/auth/verify",
            "post",
            "VerifyRequest",
            "200",
            vec!["invalid_code", "code_expired"],
        ),
        (
            "/api/v1/auth/resend",
            "post",
            "ResendRequest",
            "202",
            vec!["rate_limited"],
        ),
        (
            "/api/v1/auth/login",
            "post",
            "LoginRequest",
            "200",
            vec!["invalid_credentials", "email_unverified", "rate_limited"],
        ),
        (
            "/api/v1/auth/refresh",
            "post",
            "RefreshRequest",
            "200",
            vec!["unauthorized"],
        ),
        (
            "/api/v1/auth/logout",
            "post",
            "LogoutRequest",
            "204",
            vec![],
        ),
        (
            "/api/v1/me",
            "patch",
            "UpdateProfileRequest",
            "200",
            vec!["unauthorized", "validation_failed"],
        ),
        (
            "/api/v1/me/password",
            "post",
            "ChangePasswordRequest",
            "204",
            vec!["unauthorized", "validation_failed", "rate_limited"],
        ),
    ];
    for (path, method, request, success, codes) in flows {
        let operation = &paths[path][method];
        assert!(operation.is_object(), "{method} {path} is missing");
        assert_eq!(
            operation["requestBody"]["content"]["application/json"]["schema"]["$ref"],
            format!("#/components/schemas/{request}"),
            "{method} {path}"
        );
        assert!(schemas[request]["properties"].is_object(), "{request}");
        assert!(
            operation["responses"][success].is_object(),
            "{method} {path} {success}"
        );
        let documented = operation["responses"].to_string();
        for code in codes {
            assert!(
                documented.contains(code),
                "{method} {path} does not name {code}"
            );
        }
    }
    assert_eq!(
        schema_ref(&paths["/api/v1/auth/signup"]["post"], "201"),
        "#/components/schemas/Profile"
    );
    assert_eq!(
        schema_ref(&paths["/api/v1/auth/login"]["post"], "200"),
        "#/components/schemas/TokenPair"
    );
    assert_eq!(
        schema_ref(&paths["/api/v1/auth/refresh"]["post"], "200"),
        "#/components/schemas/TokenPair"
    );
    assert_eq!(
        schema_ref(&paths["/api/v1/me"]["get"], "200"),
        "#/components/schemas/Profile"
    );
    assert_eq!(
        schema_ref(&paths["/api/v1/auth/login"]["post"], "401"),
        "#/components/schemas/ErrorBody"
    );
    for property in ["access_token", "refresh_token", "token_type", "expires_in"] {
        assert!(
            schemas["TokenPair"]["properties"][property].is_object(),
            "{property}"
        );
    }
    for property in ["id", "email", "name", "role", "verified"] {
        assert!(
            schemas["Profile"]["properties"][property].is_object(),
            "{property}"
        );
    }
    assert_eq!(
        paths["/api/v1/me"]["get"]["security"][0]["bearer"],
        serde_json::json!([])
    );
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
}
