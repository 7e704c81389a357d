//! Extractors whose rejections answer with [`ApiError`]'s JSON body instead of axum's plain text.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequest, FromRequestParts};
use axum::http::HeaderValue;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use ipnet::IpNet;
use rushline_app::ErrorCode;

use crate::{ApiError, AppState};

#[derive(Debug, Clone, Copy, Default, FromRequest)]
#[from_request(via(axum::Json), rejection(ApiError))]
pub struct Json<T>(pub T);

impl<T: serde::Serialize> IntoResponse for Json<T> {
    fn into_response(self) -> Response {
        axum::Json(self.0).into_response()
    }
}

/// An optional body: none when the request has no `Content-Type` (nothing was sent); otherwise
/// parsed like [`Json`], with its rejections.
impl<T, S> axum::extract::OptionalFromRequest<S> for Json<T>
where
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(
        request: axum::extract::Request,
        state: &S,
    ) -> Result<Option<Self>, ApiError> {
        if !request
            .headers()
            .contains_key(axum::http::header::CONTENT_TYPE)
        {
            return Ok(None);
        }
        <Self as FromRequest<S>>::from_request(request, state)
            .await
            .map(Some)
    }
}

#[derive(Debug, Clone, Copy, Default, FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(ApiError))]
pub struct Path<T>(pub T);

#[derive(Debug, Clone, Copy, Default, FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(ApiError))]
pub struct Query<T>(pub T);

/// The address the request came from. Without a load balancer it is the TCP peer, as `serve`
/// records it (connect info). When the peer is one of the configured trusted proxies
/// (`http.trusted_proxies`), `X-Forwarded-For` is read from the right: each hop a trusted proxy
/// appended is skipped, and the first address no trusted proxy stands for is the client. So a
/// client cannot choose its address by sending the header itself: only what the proxies appended
/// counts. A router driven without a listener has no peer; all its callers then count as one
/// address, `0.0.0.0`, which throttles them together rather than not at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientIp(pub IpAddr);

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |info| info.0.ip());
        Ok(ClientIp(state.trusted_proxies.client(
            peer,
            parts.headers.get_all("x-forwarded-for").iter(),
        )))
    }
}

/// The load balancers whose `X-Forwarded-For` is believed: addresses and networks
/// (`10.0.0.0/8`, `127.0.0.1`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<IpNet>);

impl TrustedProxies {
    pub fn new(networks: Vec<IpNet>) -> Self {
        Self(networks)
    }

    pub fn networks(&self) -> &[IpNet] {
        &self.0
    }

    fn trusts(&self, ip: IpAddr) -> bool {
        self.0.iter().any(|net| net.contains(&ip))
    }

    /// The client behind `peer`: the right-most forwarded address that is not a trusted proxy's.
    /// A hop that is not an address ends the walk at the last trusted one, which a client cannot
    /// forge past; so does a header with every hop trusted.
    pub fn client<'a>(
        &self,
        peer: IpAddr,
        forwarded: impl DoubleEndedIterator<Item = &'a HeaderValue>,
    ) -> IpAddr {
        let mut client = peer;
        if !self.trusts(peer) {
            return client;
        }
        let hops = forwarded.rev().flat_map(|value| {
            let text = value.to_str().unwrap_or("?");
            text.rsplit(',').map(str::trim).collect::<Vec<_>>()
        });
        for hop in hops {
            let Ok(ip) = hop.parse::<IpAddr>() else {
                break;
            };
            client = ip;
            if !self.trusts(ip) {
                break;
            }
        }
        client
    }
}

impl std::str::FromStr for TrustedProxies {
    type Err = String;

    /// A comma-separated list of addresses and networks; empty for none.
    fn from_str(text: &str) -> Result<Self, String> {
        text.split(',')
            .map(str::trim)
            .filter(|part| !part.is_empty())
            .map(|part| {
                part.parse::<IpNet>()
                    .or_else(|_| part.parse::<IpAddr>().map(IpNet::from))
                    .map_err(|_| format!("{part:?} is not an IP address or network"))
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Self)
    }
}

impl fmt::Display for TrustedProxies {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self.0.iter().map(ToString::to_string).collect();
        f.write_str(&parts.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use axum::Router;
    use axum::body::Body;
    use axum::http::{Request, StatusCode};
    use axum::routing::post;
    use tower::ServiceExt;

    use super::*;

    #[derive(Debug, serde::Deserialize)]
    struct Sample {
        #[allow(dead_code)]
        quantity: u32,
    }

    async fn call(body: &'static str, content_type: &str) -> (StatusCode, serde_json::Value) {
        let app = Router::new().route("/", post(|Json(_): Json<Sample>| async { "ok" }));
        let request = Request::post("/")
            .header("content-type", content_type)
            .body(Body::from(body))
            .unwrap();
        let response = app.oneshot(request).await.unwrap();
        let status = response.status();
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 16)
            .await
            .unwrap();
        (status, serde_json::from_slice(&bytes).unwrap_or_default())
    }

    fn forwarded_client(trusted: &str, peer: &str, headers: &[&str]) -> String {
        let proxies: TrustedProxies = trusted.parse().unwrap();
        let values: Vec<HeaderValue> = headers
            .iter()
            .map(|h| HeaderValue::from_str(h).unwrap())
            .collect();
        proxies
            .client(peer.parse().unwrap(), values.iter())
            .to_string()
    }

    #[test]
    fn forwarded_for_is_believed_only_from_trusted_proxies() {
        // No trusted proxy: the header is the client's to invent, so it is ignored.
        assert_eq!(
            forwarded_client("", "203.0.113.9", &["1.2.3.4"]),
            "203.0.113.9"
        );
        // From nginx on 10.0.0.2: the address it appended.
        assert_eq!(
            forwarded_client("10.0.0.0/8", "10.0.0.2", &["198.51.100.7"]),
            "198.51.100.7"
        );
        // A client's own forged entries stay to the left of what nginx appended.
        assert_eq!(
            forwarded_client(
                "10.0.0.0/8, 127.0.0.1",
                "127.0.0.1",
                &["1.1.1.1, 198.51.100.7, 10.0.0.5"]
            ),
            "198.51.100.7"
        );
        // Several header lines read as one list, in order.
        assert_eq!(
            forwarded_client("127.0.0.1", "127.0.0.1", &["1.1.1.1", "198.51.100.7"]),
            "198.51.100.7"
        );
        // Garbage ends the walk at the last trusted hop; every hop trusted gives the left-most.
        assert_eq!(
            forwarded_client("10.0.0.0/8", "10.0.0.2", &["x, 10.0.0.3"]),
            "10.0.0.3"
        );
        assert_eq!(
            forwarded_client("10.0.0.0/8", "10.0.0.2", &["10.0.0.3"]),
            "10.0.0.3"
        );
        assert_eq!(forwarded_client("10.0.0.0/8", "10.0.0.2", &[]), "10.0.0.2");
        assert!("10.0.0.0/33".parse::<TrustedProxies>().is_err());
        assert!("nginx".parse::<TrustedProxies>().is_err());
        assert_eq!(
            "10.0.0.0/8,::1"
                .parse::<TrustedProxies>()
                .unwrap()
                .to_string(),
            "10.0.0.0/8, ::1/128"
        );
    }

    #[tokio::test]
    async fn body_rejections_use_the_json_error_body() {
        let (status, body) = call("{not json", "application/json").await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(body["error"]["code"], "malformed_json");

        let (status, body) = call(r#"{"quantity": "two"}"#, "application/json").await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(body["error"]["code"], "invalid_body");
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("quantity"),
            "{body}"
        );

        let (status, body) = call(r#"{"quantity": 2}"#, "text/plain").await;
        assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
        assert_eq!(body["error"]["code"], "unsupported_media_type");
    }
}

/// The `Idempotency-Key` header: 1–255 visible ASCII characters. Claiming and paying require
/// it (missing → 400 `idempotency_key_required`); the other creating POSTs take
/// `Option<IdempotencyKey>` and honour it when sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyKey(pub String);

impl<S: Send + Sync> axum::extract::OptionalFromRequestParts<S> for IdempotencyKey {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Option<Self>, ApiError> {
        if !parts.headers.contains_key("idempotency-key") {
            return Ok(None);
        }
        <Self as FromRequestParts<S>>::from_request_parts(parts, state)
            .await
            .map(Some)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for IdempotencyKey {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _: &S,
    ) -> Result<Self, ApiError> {
        let value = parts.headers.get("idempotency-key").ok_or_else(|| {
            ApiError::new(
                ErrorCode::IdempotencyKeyRequired,
                "send an Idempotency-Key header",
            )
        })?;
        let key = value
            .to_str()
            .ok()
            .filter(|key| {
                (1..=255).contains(&key.len()) && key.bytes().all(|b| b.is_ascii_graphic())
            })
            .ok_or_else(|| {
                ApiError::new(
                    ErrorCode::InvalidIdempotencyKey,
                    "an Idempotency-Key is 1-255 visible ASCII characters",
                )
            })?;
        Ok(Self(key.to_owned()))
    }
}

/// The `X-Queue-Pass` header, when sent: the buyer's pass on a drop with a waiting room. A value
/// that is not text counts as a pass that fails the check.
pub struct QueuePass(pub Option<String>);

impl<S: Send + Sync> FromRequestParts<S> for QueuePass {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Self(parts.headers.get("x-queue-pass").map(|value| {
            value.to_str().unwrap_or_default().to_owned()
        })))
    }
}
