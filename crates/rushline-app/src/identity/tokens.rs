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

/// The claims of a browser's session cookie: login session `sid` of user `uid`. No access token
/// deserialises as one, nor one as an access token: a stolen cookie is no bearer token.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BrowserClaims {
    /// Always `browser`.
    typ: String,
    pub uid: Uuid,
    pub sid: Uuid,
    pub exp: i64,
}

const BROWSER: &str = "browser";

/// The claims of a form's CSRF token: the form may be posted by whoever holds `bind` (a login
/// session, or the anonymous browser's cookie).
#[derive(Debug, Clone, Serialize, Deserialize)]
struct FormClaims {
    /// Always `form`.
    typ: String,
    bind: String,
}

const FORM: &str = "form";

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

    /// A browser session's cookie for login session `session` of `user`, valid until `until`;
    /// whether the session still holds is the store's to say on each request.
    #[expect(
        clippy::expect_used,
        reason = "HS256 signing with a key in memory cannot fail"
    )]
    pub fn issue_browser(&self, user: Uuid, session: Uuid, until: DateTime<Utc>) -> String {
        let claims = BrowserClaims {
            typ: BROWSER.to_owned(),
            uid: user,
            sid: session,
            exp: until.timestamp(),
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .expect("HS256 signing cannot fail")
    }

    /// The claims of a well-signed browser session cookie that has not expired at `now`.
    pub fn verify_browser(&self, token: &str, now: DateTime<Utc>) -> Option<BrowserClaims> {
        let claims = jsonwebtoken::decode::<BrowserClaims>(token, &self.decoding, &self.validation)
            .ok()?
            .claims;
        (claims.typ == BROWSER && claims.exp > now.timestamp()).then_some(claims)
    }

    /// The CSRF token of the forms posted by the holder of `bind`.
    #[expect(
        clippy::expect_used,
        reason = "HS256 signing with a key in memory cannot fail"
    )]
    pub fn issue_form(&self, bind: &str) -> String {
        let claims = FormClaims {
            typ: FORM.to_owned(),
            bind: bind.to_owned(),
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .expect("HS256 signing cannot fail")
    }

    /// Whether `token` is the CSRF token of the holder of `bind`.
    pub fn verify_form(&self, token: &str, bind: &str) -> bool {
        jsonwebtoken::decode::<FormClaims>(token, &self.decoding, &self.validation)
            .is_ok_and(|data| data.claims.typ == FORM && data.claims.bind == bind)
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

    #[test]
    fn browser_form_and_access_tokens_are_never_taken_for_each_other() {
        let tokens = AccessTokens::new(b"0123456789abcdef0123456789abcdef", TimeDelta::minutes(15));
        let now = Utc::now();
        let (user, session) = (Uuid::now_v7(), Uuid::now_v7());
        let browser = tokens.issue_browser(user, session, now + TimeDelta::days(14));
        let claims = tokens.verify_browser(&browser, now).unwrap();
        assert_eq!((claims.uid, claims.sid), (user, session));
        assert!(
            tokens
                .verify_browser(&browser, now + TimeDelta::days(14))
                .is_none()
        );
        assert!(
            tokens.verify(&browser, now).is_none(),
            "a cookie is no bearer token"
        );
        let access = tokens.issue_for_session(user, Role::Buyer, session, now);
        assert!(tokens.verify_browser(&access, now).is_none());

        let form = tokens.issue_form("session-a");
        assert!(tokens.verify_form(&form, "session-a"));
        assert!(!tokens.verify_form(&form, "session-b"));
        assert!(!tokens.verify_form(&browser, "session-a"));
        assert!(tokens.verify_browser(&form, now).is_none());
        assert!(tokens.verify(&form, now).is_none());
        let other = AccessTokens::new(b"another secret, also 32 bytes...", TimeDelta::minutes(15));
        assert!(!other.verify_form(&form, "session-a"));
    }
}
