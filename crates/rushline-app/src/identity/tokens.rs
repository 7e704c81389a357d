//! Access tokens: HS256 JWTs issued at login and refresh, verified without a database read; and
//! device tokens, which a login hands out so that the client that got it is told apart from a
//! guesser when the account's failed logins are throttled.

use chrono::{DateTime, TimeDelta, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rushline_domain::Role;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The claims of an access token.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AccessClaims {
    pub sub: Uuid,
    pub role: Role,
    pub exp: i64,
    pub iat: i64,
    pub jti: Uuid,
    /// The login session (refresh-token family) the token was issued for; absent on tokens
    /// issued outside a login.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sid: Option<Uuid>,
}

/// The claims of a device token: the client that logged in to `acct` (a hash of its e-mail
/// address) as device `did`.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct DeviceClaims {
    /// Always `device`: no access token deserialises as one, nor one as an access token.
    typ: String,
    acct: String,
    did: Uuid,
    exp: i64,
}

const DEVICE: &str = "device";

/// How long a device token is honoured after the login that issued it.
const DEVICE_TTL: TimeDelta = TimeDelta::days(90);

/// Signs and checks access and device tokens (HS256) with the configured secret.
pub struct AccessTokens {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    pub ttl: TimeDelta,
}

impl AccessTokens {
    pub fn new(secret: &[u8], ttl: TimeDelta) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        // Expiry is checked against the application clock, which tests move.
        validation.validate_exp = false;
        validation.required_spec_claims.clear();
        Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
            ttl,
        }
    }

    /// A token for `user`, valid from `now` for `ttl`.
    pub fn issue(&self, user: Uuid, role: Role, now: DateTime<Utc>) -> String {
        self.sign(user, role, None, now)
    }

    /// A token for `user` within the login `session`, so that a password change made with it
    /// can keep that session and end the others.
    pub fn issue_for_session(
        &self,
        user: Uuid,
        role: Role,
        session: Uuid,
        now: DateTime<Utc>,
    ) -> String {
        self.sign(user, role, Some(session), now)
    }

    #[expect(
        clippy::expect_used,
        reason = "HS256 signing with a key in memory cannot fail"
    )]
    fn sign(&self, user: Uuid, role: Role, sid: Option<Uuid>, now: DateTime<Utc>) -> String {
        let claims = AccessClaims {
            sub: user,
            role,
            exp: (now + self.ttl).timestamp(),
            iat: now.timestamp(),
            jti: Uuid::new_v4(),
            sid,
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .expect("HS256 signing cannot fail")
    }

    /// A device token for the client that just logged in to `account` (hashed e-mail).
    #[expect(
        clippy::expect_used,
        reason = "HS256 signing with a key in memory cannot fail"
    )]
    pub fn issue_device(&self, account: &str, now: DateTime<Utc>) -> String {
        let claims = DeviceClaims {
            typ: DEVICE.to_owned(),
            acct: account.to_owned(),
            did: Uuid::new_v4(),
            exp: (now + DEVICE_TTL).timestamp(),
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .expect("HS256 signing cannot fail")
    }

    /// The device of a well-signed, unexpired device token issued for `account`.
    pub fn verify_device(&self, token: &str, account: &str, now: DateTime<Utc>) -> Option<Uuid> {
        let claims = jsonwebtoken::decode::<DeviceClaims>(token, &self.decoding, &self.validation)
            .ok()?
            .claims;
        (claims.typ == DEVICE && claims.acct == account && claims.exp > now.timestamp())
            .then_some(claims.did)
    }

    /// The claims of a well-signed token that has not expired at `now`.
    pub fn verify(&self, token: &str, now: DateTime<Utc>) -> Option<AccessClaims> {
        let claims = jsonwebtoken::decode::<AccessClaims>(token, &self.decoding, &self.validation)
            .ok()?
            .claims;
        (claims.exp > now.timestamp()).then_some(claims)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_verify_until_they_expire_and_not_with_another_secret() {
        let tokens = AccessTokens::new(b"0123456789abcdef0123456789abcdef", TimeDelta::minutes(15));
        let now = Utc::now();
        let user = Uuid::now_v7();
        let token = tokens.issue(user, Role::Seller, now);
        let claims = tokens.verify(&token, now + TimeDelta::minutes(14)).unwrap();
        assert_eq!((claims.sub, claims.role), (user, Role::Seller));
        assert_eq!(claims.exp - claims.iat, 15 * 60);
        assert!(
            tokens
                .verify(&token, now + TimeDelta::minutes(15))
                .is_none()
        );

        let other = AccessTokens::new(b"another secret of enough length!", TimeDelta::minutes(15));
        assert!(other.verify(&token, now).is_none());
        assert!(tokens.verify("not.a.token", now).is_none());
        assert_eq!(claims.sid, None);

        let session = Uuid::now_v7();
        let token = tokens.issue_for_session(user, Role::Buyer, session, now);
        assert_eq!(tokens.verify(&token, now).unwrap().sid, Some(session));
    }

    #[test]
    fn device_tokens_name_one_account_and_are_never_access_tokens() {
        let tokens = AccessTokens::new(b"0123456789abcdef0123456789abcdef", TimeDelta::minutes(15));
        let now = Utc::now();
        let device = tokens.issue_device("account-a", now);
        let did = tokens.verify_device(&device, "account-a", now).unwrap();
        assert_eq!(
            tokens.verify_device(&device, "account-a", now + TimeDelta::days(89)),
            Some(did)
        );
        assert!(
            tokens
                .verify_device(&device, "account-a", now + DEVICE_TTL)
                .is_none()
        );
        assert!(tokens.verify_device(&device, "account-b", now).is_none());
        assert!(tokens.verify(&device, now).is_none(), "not an access token");
        let access = tokens.issue(Uuid::now_v7(), Role::Buyer, now);
        assert!(tokens.verify_device(&access, "account-a", now).is_none());
        let other = AccessTokens::new(b"another secret of enough length!", TimeDelta::minutes(15));
        assert!(other.verify_device(&device, "account-a", now).is_none());
    }
}
