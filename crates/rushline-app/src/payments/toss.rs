use async_trait::async_trait;
use reqwest::StatusCode;
use rushline_domain::Won;
use serde::Deserialize;
use serde_json::json;

use super::provider::{Charge, ChargeRequest, PaymentProvider, ProviderError};

/// Toss Payments' confirm and cancel APIs (`POST /v1/payments/confirm`,
/// `POST /v1/payments/{paymentKey}/cancel`), authenticated with the secret key as the Basic
/// user name and an empty password.
pub struct Toss {
    client: reqwest::Client,
    base_url: String,
    secret_key: String,
}

/// Toss's error body.
#[derive(Debug, Deserialize)]
struct TossError {
    code: String,
    message: String,
}

impl Toss {
    /// `base_url` is `https://api.tosspayments.com` in production.
    pub fn new(base_url: impl Into<String>, secret_key: impl Into<String>) -> Self {
        Self {
            client: reqwest::Client::new(),
            base_url: base_url.into().trim_end_matches('/').to_owned(),
            secret_key: secret_key.into(),
        }
    }

    async fn post(
        &self,
        path: &str,
        idempotency_key: Option<&str>,
        body: serde_json::Value,
    ) -> Result<(), TossFailure> {
        let mut request = self
            .client
            .post(format!("{}{path}", self.base_url))
            .basic_auth(&self.secret_key, Some(""))
            .json(&body);
        if let Some(key) = idempotency_key {
            request = request.header("Idempotency-Key", key);
        }
        let response = request
            .send()
            .await
            .map_err(|e| TossFailure::Transport(e.to_string()))?;
        let status = response.status();
        if status.is_success() {
            return Ok(());
        }
        if status == StatusCode::TOO_MANY_REQUESTS {
            return Err(TossFailure::RateLimited);
        }
        let error = response
            .json::<TossError>()
            .await
            .unwrap_or_else(|_| TossError {
                code: status.as_u16().to_string(),
                message: status.canonical_reason().unwrap_or("error").to_owned(),
            });
        Err(if status.is_server_error() {
            TossFailure::Transport(format!("{status}: {} {}", error.code, error.message))
        } else {
            TossFailure::Refused(error)
        })
    }
}

enum TossFailure {
    Transport(String),
    /// A 429: Toss did nothing and asks us to slow down; not a sign it is failing.
    RateLimited,
    Refused(TossError),
}

#[async_trait]
impl PaymentProvider for Toss {
    fn name(&self) -> &'static str {
        "toss"
    }

    async fn confirm(&self, request: &ChargeRequest) -> Result<Charge, ProviderError> {
        let body = json!({
            "paymentKey": request.payment_ref,
            "orderId": request.order_id.to_string(),
            "amount": request.amount,
        });
        match self
            .post("/v1/payments/confirm", Some(&request.idempotency_key), body)
            .await
        {
            Ok(()) => Ok(Charge {
                payment_ref: request.payment_ref.clone(),
            }),
            Err(TossFailure::Transport(e)) => Err(ProviderError::Unavailable(e)),
            Err(TossFailure::RateLimited) => Err(ProviderError::RateLimited),
            Err(TossFailure::Refused(e)) => Err(ProviderError::Declined {
                code: e.code,
                message: e.message,
            }),
        }
    }

    async fn cancel(
        &self,
        payment_ref: &str,
        amount: Won,
        reason: &str,
    ) -> Result<(), ProviderError> {
        let body = json!({ "cancelReason": reason, "cancelAmount": amount });
        let path = format!("/v1/payments/{payment_ref}/cancel");
        // The payment key makes a cancel idempotent at Toss: cancelling twice answers
        // ALREADY_CANCELED_PAYMENT, and a payment that was never confirmed NOT_FOUND_PAYMENT.
        match self.post(&path, Some(payment_ref), body).await {
            Ok(()) => Ok(()),
            Err(TossFailure::Transport(e)) => Err(ProviderError::Unavailable(e)),
            Err(TossFailure::RateLimited) => Err(ProviderError::RateLimited),
            Err(TossFailure::Refused(e))
                if matches!(
                    e.code.as_str(),
                    "ALREADY_CANCELED_PAYMENT" | "NOT_FOUND_PAYMENT"
                ) =>
            {
                Err(ProviderError::NothingToCancel)
            }
            Err(TossFailure::Refused(e)) => Err(ProviderError::Declined {
                code: e.code,
                message: e.message,
            }),
        }
    }
}
