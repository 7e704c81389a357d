use axum::http::{Method, StatusCode};
use rushline_domain::Role;
use rushline_testkit::{TestApp, backend_test};
use serde_json::json;

use super::{call, create, get_as, id_of, product_body, upload};

const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0";
const JPEG: &[u8] = b"\xFF\xD8\xFF\xE0\0\x10JFIF\0\x01\x01\0\0\x01\0\x01\0\0";
const WEBP: &[u8] =
    b"RIFF\x1a\0\0\0WEBPVP8L\x0d\0\0\0\x2f\0\0\0\x10\x07\x10\x11\x11\x88\x88\xfe\x07\0";

backend_test! {
    async fn images_are_told_by_their_bytes_stored_and_served_immutably(backend: Backend) {
        let app = TestApp::new(backend).await;
        let seller = app.user(Role::Seller).await;
        let product = id_of(&create(&app, &seller, product_body("Aurora sneakers", "shoes", 129_000)).await);

        // The claimed type is ignored; the bytes decide.
        let mut urls = Vec::new();
        for (bytes, claimed, sniffed) in [
            (PNG, "application/octet-stream", "image/png"),
            (JPEG, "image/png", "image/jpeg"),
            (WEBP, "text/plain", "image/webp"),
        ] {
            let response = upload(&app, &seller, &product, bytes, claimed).await;
            response.assert_status(StatusCode::CREATED);
            let image = response.json();
            assert_eq!(image["content_type"], sniffed);
            assert_eq!(image["size_bytes"], bytes.len());
            let url = image["url"].as_str().unwrap().to_owned();
            assert_eq!(response.headers["location"], url.as_str());
            assert!(url.starts_with(&format!("/api/v1/products/{product}/images/")), "{url}");

            let served = app.get(&url).await;
            served.assert_status(StatusCode::OK);
            assert_eq!(served.body, bytes);
            assert_eq!(served.headers["content-type"], sniffed);
            assert_eq!(served.headers["cache-control"], "public, max-age=31536000, immutable");
            assert_eq!(served.headers["x-content-type-options"], "nosniff");
            let etag = served.headers["etag"].to_str().unwrap().to_owned();
            assert_eq!(etag.len(), 66, "a quoted SHA-256: {etag}");

            for if_none_match in [etag.clone(), format!("W/{etag}"), format!("\"other\", {etag}")] {
                let revalidated = app.send(Method::GET, &url, None, &[("if-none-match", &if_none_match)]).await;
                revalidated.assert_status(StatusCode::NOT_MODIFIED);
                assert!(revalidated.body.is_empty());
                assert_eq!(revalidated.headers["etag"], etag.as_str());
            }
            let changed = app.send(Method::GET, &url, None, &[("if-none-match", "\"other\"")]).await;
            changed.assert_status(StatusCode::OK);
            urls.push(url);
        }

        let detail = get_as(&app, &format!("/api/v1/products/{product}"), None).await.json();
        let shown: Vec<&str> = detail["images"].as_array().unwrap().iter().map(|i| i["url"].as_str().unwrap()).collect();
        assert_eq!(shown, urls, "the product shows its images, oldest first");

        for not_an_image in [&b"GIF89a\x01\0\x01\0"[..], b"<svg xmlns='http://www.w3.org/2000/svg'/>", b""] {
            let response = upload(&app, &seller, &product, not_an_image, "image/png").await;
            response.assert_status(StatusCode::UNSUPPORTED_MEDIA_TYPE);
            assert_eq!(response.error_code(), "unsupported_image");
        }

        app.get(&format!("/api/v1/products/{product}/images/{}", uuid::Uuid::now_v7()))
            .await
            .assert_status(StatusCode::NOT_FOUND);
        call(&app, Method::DELETE, &format!("/api/v1/products/{product}"), None, Some(&seller))
            .await
            .assert_status(StatusCode::NO_CONTENT);
        app.get(&urls[0]).await.assert_status(StatusCode::NOT_FOUND);
        upload(&app, &seller, &product, PNG, "image/png").await.assert_status(StatusCode::NOT_FOUND);
    }
}

backend_test! {
    async fn image_uploads_are_limited_in_size_count_and_ownership(backend: Backend) {
        let app = TestApp::new(backend).await;
        let (seller, other, buyer) = (
            app.user(Role::Seller).await,
            app.user(Role::Seller).await,
            app.user(Role::Buyer).await,
        );
        let product = id_of(&create(&app, &seller, product_body("Aurora sneakers", "shoes", 129_000)).await);

        let max = app.node.config.images.max_bytes;
        assert_eq!(max, 5 * 1024 * 1024, "the default limit is 5 MiB");
        let mut largest = PNG.to_vec();
        largest.resize(max, 0);
        upload(&app, &seller, &product, &largest, "image/png").await.assert_status(StatusCode::CREATED);
        largest.push(0);
        let too_large = upload(&app, &seller, &product, &largest, "image/png").await;
        too_large.assert_status(StatusCode::PAYLOAD_TOO_LARGE);
        assert_eq!(too_large.error_code(), "image_too_large");

        for _ in 1..10 {
            upload(&app, &seller, &product, PNG, "image/png").await.assert_status(StatusCode::CREATED);
        }
        let eleventh = upload(&app, &seller, &product, JPEG, "image/jpeg").await;
        eleventh.assert_status(StatusCode::CONFLICT);
        assert_eq!(eleventh.error_code(), "image_limit_reached");
        let detail = get_as(&app, &format!("/api/v1/products/{product}"), None).await.json();
        assert_eq!(detail["images"].as_array().unwrap().len(), 10);
        let stored = app.node.config.data_dir.join("images/products").join(&product);
        assert_eq!(std::fs::read_dir(stored).unwrap().count(), 10, "bytes of refused images are not kept");

        let fresh = id_of(&create(&app, &seller, product_body("Borealis boots", "shoes", 99_000)).await);
        let not_found = upload(&app, &other, &fresh, PNG, "image/png").await;
        not_found.assert_status(StatusCode::NOT_FOUND);
        assert_eq!(not_found.error_code(), "not_found");
        upload(&app, &buyer, &fresh, PNG, "image/png").await.assert_status(StatusCode::FORBIDDEN);

        let path = format!("/api/v1/products/{fresh}/images");
        let json_body = call(&app, Method::POST, &path, Some(json!({"file": "x"})), Some(&seller)).await;
        json_body.assert_status(StatusCode::UNSUPPORTED_MEDIA_TYPE);
        assert_eq!(json_body.error_code(), "invalid_multipart");
        let bearer = seller.bearer();
        let no_file = app
            .request(
                axum::http::Request::post(&path)
                    .header("authorization", &bearer)
                    .header("content-type", "multipart/form-data; boundary=b")
                    .body(axum::body::Body::from("--b\r\nContent-Disposition: form-data; name=\"caption\"\r\n\r\nhello\r\n--b--\r\n"))
                    .unwrap(),
            )
            .await;
        assert_eq!(super::invalid_fields(&no_file), ["file"]);
        let broken = app
            .request(
                axum::http::Request::post(&path)
                    .header("authorization", &bearer)
                    .header("content-type", "multipart/form-data; boundary=b")
                    .body(axum::body::Body::from("--b\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\nunterminated"))
                    .unwrap(),
            )
            .await;
        broken.assert_status(StatusCode::BAD_REQUEST);
        assert_eq!(broken.error_code(), "invalid_multipart");
        // A body that never brings its boundary is not buffered past the image limit and framing.
        let boundless = app
            .request(
                axum::http::Request::post(&path)
                    .header("authorization", &bearer)
                    .header("content-type", "multipart/form-data; boundary=XYZ")
                    .body(axum::body::Body::from(vec![b'a'; 6 * 1024 * 1024]))
                    .unwrap(),
            )
            .await;
        boundless.assert_status(StatusCode::PAYLOAD_TOO_LARGE);
        assert_eq!(boundless.error_code(), "image_too_large");
        let detail = get_as(&app, &format!("/api/v1/products/{fresh}"), None).await.json();
        assert_eq!(detail["images"], json!([]), "nothing refused was kept");
    }
}
