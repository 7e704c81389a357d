//! Bulk import of accounts: what an operator loads an existing customer base with (from a file,
//! `rushline import-users`, or over HTTP, `POST /api/v1/admin/users/import`), and what the load
//! test makes its buyers with. Imported accounts are verified at once: no mail round trip.

use std::collections::{HashMap, HashSet};

use argon2::password_hash::PasswordHash;
use argon2::{Algorithm, Params, Version};
use rushline_domain::Role;
use rushline_domain::identity::{
    normalize_email, validate_email, validate_name, validate_password,
};
use rushline_store::DbError;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{NewAccount, new_user};
use crate::App;

/// One account to import. Exactly one of `password` and `password_hash` is given.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ImportRecord {
    #[serde(default)]
    pub email: String,
    #[serde(default)]
    pub name: String,
    /// `buyer` (when absent or empty) or `seller`; admins are refused.
    #[serde(default)]
    pub role: Option<String>,
    /// A password, checked against the sign-up rules and hashed with the configured cost.
    #[serde(default)]
    pub password: Option<String>,
    /// An argon2 PHC string (`$argon2id$v=19$m=…,t=…,p=…$salt$hash`), stored as it is; logins
    /// are checked with the parameters written in it.
    #[serde(default)]
    pub password_hash: Option<String>,
}

/// What became of one line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Outcome {
    /// A new, verified account.
    Imported { id: Uuid },
    /// An account with this e-mail existed and was left as it is.
    Existing,
    /// The line was not imported, for `reason`.
    Refused { reason: String },
}

/// One line's outcome: its number in the input (a file's line, a JSON array's item, from 1) and
/// its normalized e-mail when it had one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LineResult {
    pub line: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(flatten)]
    pub outcome: Outcome,
}

/// Imports batches of lines, remembering the e-mails it has seen so that a repeated one is
/// refused with the line it repeats, across batches.
pub struct Importer<'a> {
    app: &'a App,
    seen: HashMap<String, u64>,
}

/// A line that passed the checks, waiting for its hash.
struct Checked {
    line: u64,
    account: NewAccount,
    role: Role,
    password: Secret,
}

enum Secret {
    Plain(String),
    Hash(String),
}

impl<'a> Importer<'a> {
    pub fn new(app: &'a App) -> Self {
        Self {
            app,
            seen: HashMap::new(),
        }
    }

    /// Imports one batch in one transaction: each line is a record, or the reason it could not
    /// be read. Answers one result per line, in the batch's order. Fails only when the database
    /// does, and then imports nothing of the batch.
    pub async fn import(
        &mut self,
        batch: Vec<(u64, Result<ImportRecord, String>)>,
    ) -> Result<Vec<LineResult>, DbError> {
        let mut results: Vec<LineResult> = Vec::with_capacity(batch.len());
        let mut checked = Vec::new();
        for (line, record) in batch {
            let email = record.as_ref().ok().map(|r| normalize_email(&r.email));
            let outcome = match record
                .map_err(|e| vec![e])
                .and_then(|r| self.check(line, r))
            {
                Ok(line_ok) => {
                    checked.push((results.len(), line_ok));
                    // Filled in once the batch is written.
                    Outcome::Existing
                }
                Err(reasons) => Outcome::Refused {
                    reason: reasons.join("; "),
                },
            };
            results.push(LineResult {
                line,
                email: email.filter(|e| !e.is_empty()),
                outcome,
            });
        }

        let now = self.app.clock.now();
        let hashes = futures::future::join_all(checked.iter().map(|(_, c)| async {
            match &c.password {
                Secret::Hash(hash) => Ok(hash.clone()),
                Secret::Plain(password) => self.app.passwords.hash(password).await,
            }
        }))
        .await;
        let mut users = Vec::with_capacity(checked.len());
        let mut slots = Vec::with_capacity(checked.len());
        for ((slot, c), hash) in checked.into_iter().zip(hashes) {
            match hash {
                Ok(hash) => {
                    users.push(new_user(c.account, c.role, hash, Some(now), now));
                    slots.push(slot);
                }
                Err(e) => {
                    tracing::error!(
                        line = c.line,
                        code = %e.code(),
                        "hashing an imported password failed"
                    );
                    results[slot].outcome = Outcome::Refused {
                        reason: "the password could not be hashed".to_owned(),
                    };
                }
            }
        }
        let inserted: HashSet<Uuid> = self
            .app
            .store
            .insert_new_users(&users)
            .await?
            .into_iter()
            .collect();
        for (user, slot) in users.iter().zip(slots) {
            if inserted.contains(&user.id) {
                results[slot].outcome = Outcome::Imported { id: user.id };
            }
        }
        Ok(results)
    }

    /// Every reason `record` cannot be imported, or what to import.
    fn check(&mut self, line: u64, record: ImportRecord) -> Result<Checked, Vec<String>> {
        let mut reasons = Vec::new();
        let mut field = |name: &str, outcome: Result<(), Vec<&'static str>>| {
            if let Err(messages) = outcome {
                reasons.push(format!("{name}: {}", messages.join(", ")));
            }
        };
        let account = NewAccount {
            email: normalize_email(&record.email),
            name: record.name.trim().to_owned(),
        };
        field("email", validate_email(&account.email));
        field("name", validate_name(&account.name));
        let role = match record.role.as_deref().map(str::trim) {
            None | Some("" | "buyer") => Role::Buyer,
            Some("seller") => Role::Seller,
            Some("admin") => {
                field(
                    "role",
                    Err(vec![
                        "admins are not imported; create them with `rushline admin create-user`",
                    ]),
                );
                Role::Buyer
            }
            Some(_) => {
                field("role", Err(vec!["must be buyer or seller"]));
                Role::Buyer
            }
        };
        let given = |value: Option<String>| value.filter(|v| !v.is_empty());
        let password = match (given(record.password), given(record.password_hash)) {
            (Some(password), None) => {
                field("password", validate_password(&password));
                Some(Secret::Plain(password))
            }
            (None, Some(hash)) => {
                field("password_hash", check_phc(&hash));
                Some(Secret::Hash(hash))
            }
            (Some(_), Some(_)) => {
                field(
                    "password",
                    Err(vec!["give either password or password_hash, not both"]),
                );
                None
            }
            (None, None) => {
                field(
                    "password",
                    Err(vec!["password or password_hash is required"]),
                );
                None
            }
        };
        if reasons.is_empty()
            && let Some(first) = self.seen.get(&account.email)
        {
            reasons.push(format!("email: repeats line {first}"));
        }
        if reasons.is_empty() {
            self.seen.insert(account.email.clone(), line);
        }
        match password {
            Some(password) if reasons.is_empty() => Ok(Checked {
                line,
                account,
                role,
                password,
            }),
            _ => Err(reasons),
        }
    }
}

/// Accepts an argon2 PHC string that logins can check: a known variant and version, parameters
/// argon2 accepts, a salt and a hash.
fn check_phc(hash: &str) -> Result<(), Vec<&'static str>> {
    let invalid = || {
        Err(vec![
            "must be an argon2 PHC string ($argon2id$v=19$m=…,t=…,p=…$salt$hash)",
        ])
    };
    let Ok(parsed) = PasswordHash::new(hash) else {
        return invalid();
    };
    let known = Algorithm::try_from(parsed.algorithm).is_ok()
        && parsed.version.is_none_or(|v| Version::try_from(v).is_ok())
        && Params::try_from(&parsed).is_ok()
        && parsed.salt.is_some()
        && parsed.hash.is_some();
    if known { Ok(()) } else { invalid() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_complete_argon2_phc_strings_are_accepted() {
        let good = "$argon2id$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA";
        assert_eq!(check_phc(good), Ok(()));
        assert_eq!(
            check_phc("$argon2i$v=19$m=4096,t=3,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA"),
            Ok(())
        );
        for bad in [
            "",
            "s3cret!pw",
            "$2b$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW",
            "$pbkdf2-sha256$i=1000$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
            "$argon2id$v=19$m=8,t=1,p=1$c2FsdHNhbHQ",
            "$argon2id$v=19$m=8,t=0,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
            "$argon2id$v=7$m=8,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
        ] {
            assert!(check_phc(bad).is_err(), "{bad:?} was accepted");
        }
    }
}
