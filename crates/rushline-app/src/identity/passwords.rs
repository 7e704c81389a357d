use std::sync::Arc;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use tokio::sync::Semaphore;

use crate::AppError;

/// Hashes and checks passwords with argon2id, off the async threads.
///
/// Each hash takes `memory_kib` of memory and tens of milliseconds of CPU on purpose, so at most
/// one runs per CPU at a time; more requests wait for a permit rather than piling up threads and
/// memory in the blocking pool.
pub struct Passwords {
    argon2: Argon2<'static>,
    permits: Arc<Semaphore>,
    /// A hash of a random password with the configured cost, checked when there is no account,
    /// so that an unknown e-mail takes as long to refuse as a wrong password.
    dummy_hash: String,
}

impl Passwords {
    /// Fails, saying why, when argon2 refuses the parameters.
    pub fn new(memory_kib: u32, iterations: u32, parallelism: u32) -> Result<Self, String> {
        let params =
            Params::new(memory_kib, iterations, parallelism, None).map_err(|e| e.to_string())?;
        let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
        let dummy_password = hex::encode(rand::random::<[u8; 16]>());
        let dummy_hash = hash_with(&argon2, &dummy_password).map_err(|e| e.to_string())?;
        let cpus = std::thread::available_parallelism().map_or(1, usize::from);
        Ok(Self {
            argon2,
            permits: Arc::new(Semaphore::new(cpus)),
            dummy_hash,
        })
    }

    /// A PHC string (`$argon2id$v=19$m=…,t=…,p=…$salt$hash`) of `password` with a fresh salt.
    pub async fn hash(&self, password: &str) -> Result<String, AppError> {
        let argon2 = self.argon2.clone();
        let password = password.to_owned();
        self.blocking(move || hash_with(&argon2, &password))
            .await?
            .map_err(|e| AppError::internal(format!("password hashing failed: {e}")))
    }

    /// Whether `password` matches `hash`. With no hash (no such account), or one that is not a
    /// PHC string, the dummy hash is checked instead and the answer is `false`.
    pub async fn verify(&self, password: &str, hash: Option<&str>) -> Result<bool, AppError> {
        let usable = hash.filter(|h| PasswordHash::new(h).is_ok());
        let target = usable.unwrap_or(&self.dummy_hash).to_owned();
        let password = password.to_owned();
        let argon2 = self.argon2.clone();
        let matches = self
            .blocking(move || {
                PasswordHash::new(&target).is_ok_and(|parsed| {
                    argon2.verify_password(password.as_bytes(), &parsed).is_ok()
                })
            })
            .await?;
        Ok(matches && usable.is_some())
    }

    async fn blocking<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, AppError> {
        let permit = self
            .permits
            .clone()
            .acquire_owned()
            .await
            .map_err(AppError::internal)?;
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            work()
        })
        .await
        .map_err(|e| AppError::internal(format!("password task failed: {e}")))
    }
}

fn hash_with(argon2: &Argon2<'_>, password: &str) -> Result<String, argon2::password_hash::Error> {
    let salt = SaltString::encode_b64(&rand::random::<[u8; 16]>())?;
    Ok(argon2
        .hash_password(password.as_bytes(), &salt)?
        .to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_verify_only_their_password_and_carry_their_parameters() {
        let passwords = Passwords::new(64, 1, 1).unwrap();
        let hash = passwords.hash("s3cret!pw").await.unwrap();
        assert!(hash.starts_with("$argon2id$v=19$m=64,t=1,p=1$"), "{hash}");
        assert_ne!(hash, passwords.hash("s3cret!pw").await.unwrap(), "salted");
        assert!(passwords.verify("s3cret!pw", Some(&hash)).await.unwrap());
        assert!(!passwords.verify("s3cret!pW", Some(&hash)).await.unwrap());
        assert!(!passwords.verify("s3cret!pw", None).await.unwrap());
        assert!(
            !passwords
                .verify("s3cret!pw", Some("not a PHC string"))
                .await
                .unwrap()
        );
    }

    #[test]
    fn impossible_parameters_are_refused() {
        assert!(Passwords::new(19456, 0, 1).is_err());
        assert!(Passwords::new(4, 1, 1).is_err());
    }
}
