use axum::http::StatusCode;
use rushline::config::ServiceUrl;
use rushline_store::JobStatus;
use rushline_testkit::{SmtpServer, TestApp, backend_test};

use super::{code_in, sign_up, verify};

backend_test! {
    async fn smtp_delivers_the_signup_code(backend: Backend) {
        let smtp = SmtpServer::start().await;
        let app = TestApp::builder(backend)
            .config(|c| c.mail.smtp_url = Some(ServiceUrl::from(smtp.url().as_str())))
            .build()
            .await;
        sign_up(&app, "minji@example.com").await.assert_status(StatusCode::CREATED);
        assert!(smtp.received().is_empty(), "sign-up sent mail itself");

        app.worker().run_due().await.unwrap();
        let received = smtp.received();
        assert_eq!(received.len(), 1);
        let mail = &received[0];
        assert_eq!(mail.from, "noreply@rushline.localhost");
        assert_eq!(mail.to, ["minji@example.com"]);
        assert!(mail.data.contains("To: minji@example.com"), "{}", mail.data);
        assert!(mail.data.contains("Subject: Your rushline code: "), "{}", mail.data);
        assert!(!app.node.config.data_dir.join("mail").exists(), "the file sink was used too");
        verify(&app, "minji@example.com", &code_in(&mail.data))
            .await
            .assert_status(StatusCode::OK);
    }
}

backend_test! {
    async fn signup_does_not_wait_for_an_unreachable_smtp_server(backend: Backend) {
        // A port nothing listens on any more.
        let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap().local_addr().unwrap();
        let app = TestApp::builder(backend)
            .config(|c| c.mail.smtp_url = Some(ServiceUrl::from(format!("smtp://{closed}").as_str())))
            .build()
            .await;
        sign_up(&app, "minji@example.com").await.assert_status(StatusCode::CREATED);

        app.worker().run_due().await.unwrap();
        let jobs = app.state().store.list_jobs(None, 100).await.unwrap();
        let mail = jobs.iter().find(|j| j.kind == "send_mail").unwrap();
        assert_eq!(mail.status, JobStatus::Queued, "a failed delivery is retried: {mail:?}");
        assert_eq!(mail.attempts, 1);
        assert_eq!(mail.max_attempts, 8);
        assert!(mail.last_error.as_deref().unwrap().contains("delivery failed"), "{mail:?}");
    }
}
