//! Throttling password guesses: failed attempts are counted per account (by e-mail, known or
//! not) and per client address, and a caller over either limit is refused before its password
//! is checked. A client with a device token from an earlier login to the account is counted on
//! its own instead of with the account, so that guesses from everywhere else never lock it out. Sign-ups, verifications and code requests, each of which may cost a password
//! hash or a mail, are counted the same two ways, every one of them.

use std::net::IpAddr;

use chrono::{DateTime, TimeDelta, Utc};
use rushline_domain::identity::normalize_email;
use rushline_ratelimit::{Admission, RateLimitError, Ticket};

use super::secrets::sha256_hex;
use crate::{App, AppError, ErrorCode};

/// A password check in progress, counted as a failure until [`PasswordAttempt::not_a_failure`]
/// says otherwise. Counting before the check, not after, keeps concurrent guesses within the
/// limit: each takes a place in the window before argon2 runs.
pub struct PasswordAttempt {
    places: Vec<(String, Ticket)>,
}

impl PasswordAttempt {
    /// Takes a place in the account's windows, then in the address's, or answers 429 with the
    /// wait of the first that is full (and gives back any place taken). With a valid `device`
    /// token for this account, the device's window replaces the account's.
    pub async fn begin(
        app: &App,
        email: &str,
        device: Option<&str>,
        ip: IpAddr,
        now: DateTime<Utc>,
    ) -> Result<Self, AppError> {
        let policy = &app.identity;
        let mut attempt = Self { places: Vec::new() };
        // The e-mail is hashed: keys stay short whatever a caller sends, and Redis holds no
        // addresses.
        let account = sha256_hex(email);
        let known_device = device.and_then(|token| app.tokens.verify_device(token, &account, now));
        let windows = match known_device {
            Some(device) => vec![
                (
                    format!("login:device:{device}"),
                    policy.account_login_failures,
                ),
                (format!("login:ip:{ip}"), policy.ip_login_failures),
            ],
            None => vec![
                (
                    format!("login:account:{account}:ip:{ip}"),
                    policy.account_login_failures,
                ),
                (format!("login:ip:{ip}"), policy.ip_login_failures),
                (
                    format!("login:account:{account}"),
                    policy.account_login_failures_everywhere,
                ),
            ],
        };
        for (key, limit) in windows {
            let admission = app.limiter.acquire(&key, limit, now).await;
            match admission {
                Ok(Admission::Allowed(ticket)) => attempt.places.push((key, ticket)),
                Ok(Admission::Refused { retry_after }) => {
                    attempt.not_a_failure(app).await?;
                    return Err(AppError::too_many_requests(whole_seconds(retry_after)));
                }
                Err(e) => {
                    attempt.not_a_failure(app).await?;
                    return Err(limiter_down(e));
                }
            }
        }
        Ok(attempt)
    }

    /// The password was right (or never checked): the attempt does not count.
    pub async fn not_a_failure(self, app: &App) -> Result<(), AppError> {
        for (key, ticket) in self.places {
            app.limiter
                .release(&key, ticket)
                .await
                .map_err(limiter_down)?;
        }
        Ok(())
    }
}

/// Counts a sign-up, verification or code request for `email` from `ip`; 429 once the address
/// or the e-mail address has made its limit of them within the window.
pub async fn account_request(app: &App, email: &str, ip: IpAddr) -> Result<(), AppError> {
    let policy = &app.identity;
    let now = app.clock.now();
    let windows = [
        (format!("account:ip:{ip}"), policy.ip_account_requests),
        (
            format!("account:email:{}", sha256_hex(&normalize_email(email))),
            policy.email_account_requests,
        ),
    ];
    for (key, limit) in windows {
        match app.limiter.acquire(&key, limit, now).await {
            Ok(Admission::Allowed(_)) => {}
            Ok(Admission::Refused { retry_after }) => {
                return Err(AppError::too_many_requests(whole_seconds(retry_after)));
            }
            Err(e) => return Err(limiter_down(e)),
        }
    }
    Ok(())
}

/// `Retry-After` in whole seconds, rounded up so that a client waiting that long is let in.
pub fn whole_seconds(wait: TimeDelta) -> u64 {
    let micros = u64::try_from(wait.num_microseconds().unwrap_or(i64::MAX)).unwrap_or(0);
    micros.div_ceil(1_000_000)
}

fn limiter_down(e: RateLimitError) -> AppError {
    tracing::warn!(error = %e, "login throttle unavailable");
    AppError::new(
        ErrorCode::RateLimiterUnavailable,
        "the rate limiter is unavailable; retry later",
    )
    .with_retry_after(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_round_up_to_whole_seconds() {
        assert_eq!(whole_seconds(TimeDelta::seconds(180)), 180);
        assert_eq!(whole_seconds(TimeDelta::milliseconds(179_001)), 180);
        assert_eq!(whole_seconds(TimeDelta::microseconds(1)), 1);
        assert_eq!(whole_seconds(TimeDelta::zero()), 0);
    }
}
