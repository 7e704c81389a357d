//! The secrets identity hands out, and the hashes it stores in their place.

use rand::Rng;
use sha2::{Digest, Sha256};
use uuid::Uuid;

/// A 6-digit verification code.
pub fn new_code() -> String {
    format!("{:06}", rand::rng().random_range(0..1_000_000))
}

/// What is stored for a code. Salted with the account id so that one table of all million
/// codes' hashes does not read every account's code; the 5-minute expiry and the attempt limit
/// are what protect so small a secret.
pub fn code_hash(user: Uuid, code: &str) -> String {
    sha256_hex(&format!("{user}:{code}"))
}

/// A refresh token: 256 random bits, hex. A bearer secret, so it is never stored.
pub fn new_refresh_token() -> String {
    hex::encode(rand::random::<[u8; 32]>())
}

/// What is stored for a refresh token. A fast hash is enough: the token is random, not chosen.
pub fn refresh_token_hash(token: &str) -> String {
    sha256_hex(token)
}

pub fn sha256_hex(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_six_digits_and_hash_per_account() {
        for _ in 0..100 {
            let code = new_code();
            assert_eq!(code.len(), 6, "{code}");
            assert!(code.chars().all(|c| c.is_ascii_digit()), "{code}");
        }
        let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
        assert_eq!(code_hash(a, "123456"), code_hash(a, "123456"));
        assert_ne!(code_hash(a, "123456"), code_hash(b, "123456"));
        assert_ne!(code_hash(a, "123456"), code_hash(a, "123457"));
    }

    #[test]
    fn refresh_tokens_are_random_and_hashed() {
        let token = new_refresh_token();
        assert_eq!(token.len(), 64);
        assert_ne!(token, new_refresh_token());
        assert_eq!(refresh_token_hash(&token).len(), 64);
        assert_ne!(refresh_token_hash(&token), token);
    }
}
