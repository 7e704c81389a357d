//! Slack incoming webhooks: a seller's URL, checked against the allowed prefixes, and the one call
//! that posts a message to it, behind a timeout and a circuit breaker.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use reqwest::StatusCode;
use reqwest::header::RETRY_AFTER;
use rushline_domain::{Clock, FieldErrors};

use crate::breaker::{Breaker, BreakerSettings};

/// The longest webhook URL a seller may set.
const MAX_URL_LEN: usize = 500;
/// How long a 429 without a usable `Retry-After` waits, and the longest wait one may ask for.
const DEFAULT_RETRY_AFTER: TimeDelta = TimeDelta::seconds(30);
const MAX_RETRY_AFTER: TimeDelta = TimeDelta::hours(1);

/// Checks `url` as a webhook: at most 500 characters, and starting with one of `allowed` (by
/// default `https://hooks.slack.com/`). Only an allowed prefix that is itself `http://` (a test's
/// local server) admits a URL that is not `https`.
pub fn check_webhook(url: &str, allowed: &[String]) -> Result<(), FieldErrors> {
    let mut errors = FieldErrors::new();
    let parsed = reqwest::Url::parse(url).ok();
    let https_or_allowed_http = parsed.as_ref().is_some_and(|u| {
        u.scheme() == "https"
            || (u.scheme() == "http" && allowed.iter().any(|p| p.starts_with("http://")))
    });
    if url.len() > MAX_URL_LEN {
        errors.add(
            "webhook_url",
            format!("must be at most {MAX_URL_LEN} characters"),
        );
    } else if parsed.is_none() || !https_or_allowed_http {
        errors.add("webhook_url", "must be an https URL");
    } else if !allowed
        .iter()
        .any(|prefix| url.starts_with(prefix.as_str()))
    {
        errors.add(
            "webhook_url",
            format!(
                "must be a Slack incoming webhook, starting with {}",
                allowed.join(" or ")
            ),
        );
    }
    errors.into_result(|| ())
}

/// How one post went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Posted {
    Delivered,
    /// A 4xx other than 429: the webhook or the message is wrong, and trying again changes
    /// nothing. Counts as an answer, not against the breaker.
    Refused(String),
    /// 429: Slack asks us to wait until `at`.
    SlowDown {
        at: DateTime<Utc>,
        error: String,
    },
    /// A 5xx, a timeout or no connection: worth another attempt, and counted by the breaker.
    Failed(String),
    /// The breaker is open: nothing was sent.
    Open,
}

pub struct Slack {
    client: reqwest::Client,
    timeout: Duration,
    breaker: Breaker,
    clock: Arc<dyn Clock>,
}

impl Slack {
    pub fn new(timeout: Duration, breaker: BreakerSettings, clock: Arc<dyn Clock>) -> Self {
        Self {
            client: reqwest::Client::new(),
            timeout,
            breaker: Breaker::new("slack", breaker, clock.clone()),
            clock,
        }
    }

    /// Posts `text` to `url` as Slack's incoming webhooks take it: `{"text": …}`.
    pub async fn post(&self, url: &str, text: &str) -> Posted {
        let Some(permit) = self.breaker.allow() else {
            return Posted::Open;
        };
        let sent = self
            .client
            .post(url)
            .timeout(self.timeout)
            .json(&serde_json::json!({ "text": text }))
            .send()
            .await;
        let response = match sent {
            Ok(response) => response,
            Err(e) => {
                permit.record(true);
                return Posted::Failed(format!("slack unreachable: {e}"));
            }
        };
        let status = response.status();
        let retry_after = response
            .headers()
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<i64>().ok())
            .map(TimeDelta::seconds);
        // Slack answers a few words (`ok`, `invalid_payload`, `no_service`): enough for the log.
        let body = response.text().await.unwrap_or_default();
        let answer: String = format!("slack answered {status}: {body}")
            .chars()
            .take(200)
            .collect();
        if status.is_server_error() {
            permit.record(true);
            return Posted::Failed(answer);
        }
        permit.record(false);
        if status.is_success() {
            Posted::Delivered
        } else if status == StatusCode::TOO_MANY_REQUESTS {
            let wait = retry_after
                .filter(|wait| *wait > TimeDelta::zero())
                .unwrap_or(DEFAULT_RETRY_AFTER)
                .min(MAX_RETRY_AFTER);
            Posted::SlowDown {
                at: self.clock.now() + wait,
                error: answer,
            }
        } else {
            Posted::Refused(answer)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slack() -> Vec<String> {
        vec!["https://hooks.slack.com/".to_owned()]
    }

    #[test]
    fn only_slack_webhooks_over_https_are_taken() {
        assert!(check_webhook("https://hooks.slack.com/services/T0/B0/x", &slack()).is_ok());
        for bad in [
            "http://hooks.slack.com/services/T0/B0/x",
            "https://hooks.slack.com.evil.example/services",
            "https://example.com/hooks.slack.com/",
            "https://10.0.0.1/services",
            "not a url",
            "",
        ] {
            assert!(check_webhook(bad, &slack()).is_err(), "{bad}");
        }
        let long = format!("https://hooks.slack.com/{}", "a".repeat(500));
        assert!(check_webhook(&long, &slack()).is_err());
    }

    #[test]
    fn an_allowed_http_prefix_admits_a_local_test_server_only() {
        let local = vec!["http://127.0.0.1:4000/".to_owned()];
        assert!(check_webhook("http://127.0.0.1:4000/hook", &local).is_ok());
        assert!(check_webhook("http://127.0.0.1:4001/hook", &local).is_err());
        assert!(check_webhook("http://hooks.slack.com/services", &slack()).is_err());
    }
}
