//! The rules of accounts: how e-mail addresses are compared, which passwords and names are
//! acceptable. Each check answers with the messages a client shows next to the field.

use crate::validation::{CONTROL_CHARACTERS, FieldErrors, is_plain_line};

/// Passwords are counted in characters (Unicode scalar values), not bytes.
pub const PASSWORD_MIN_CHARS: usize = 8;
pub const PASSWORD_MAX_CHARS: usize = 64;
pub const NAME_MAX_CHARS: usize = 100;
/// RFC 5321 limits: a forward path of 256 octets (254 for the address), a local part of 64.
const EMAIL_MAX_LEN: usize = 254;
const EMAIL_LOCAL_MAX_LEN: usize = 64;

/// The form an address is stored and compared in: trimmed and lowercased, so that
/// `Minji@Example.com` and `minji@example.com` are one account.
pub fn normalize_email(email: &str) -> String {
    email.trim().to_lowercase()
}

/// An address a client gave to find its account by, normalized. One with a control character
/// cannot be any account's, and is refused on `email` before it reaches a query.
pub fn email_to_look_up(email: &str) -> Result<String, FieldErrors> {
    let email = normalize_email(email);
    let mut errors = FieldErrors::new();
    errors.check(is_plain_line(&email), "email", CONTROL_CHARACTERS);
    errors.into_result(|| email)
}

/// Checks a normalized address. Deliberately narrower than RFC 5322 (no quoted local parts, no
/// comments, ASCII only): every address it accepts is one that mail servers deliver to.
pub fn validate_email(email: &str) -> Result<(), Vec<&'static str>> {
    if email.is_empty() {
        return Err(vec!["is required"]);
    }
    let invalid = || Err(vec!["is not a valid e-mail address"]);
    if email.len() > EMAIL_MAX_LEN {
        return Err(vec!["is too long"]);
    }
    let Some((local, domain)) = email.split_once('@') else {
        return invalid();
    };
    let local_ok = !local.is_empty()
        && local.len() <= EMAIL_LOCAL_MAX_LEN
        && local.split('.').all(|atom| {
            !atom.is_empty()
                && atom
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "!#$%&'*+-/=?^_`{|}~".contains(c))
        });
    let labels: Vec<&str> = domain.split('.').collect();
    let domain_ok = labels.len() >= 2
        && labels.iter().all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
        && labels
            .last()
            .is_some_and(|tld| tld.len() >= 2 && tld.chars().all(|c| c.is_ascii_alphabetic()));
    if local_ok && domain_ok {
        Ok(())
    } else {
        invalid()
    }
}

/// 8–64 characters with at least one letter, one digit and one symbol (anything that is neither
/// a letter, a digit nor white space).
pub fn validate_password(password: &str) -> Result<(), Vec<&'static str>> {
    if password.is_empty() {
        return Err(vec!["is required"]);
    }
    let mut problems = Vec::new();
    let chars = password.chars().count();
    if !(PASSWORD_MIN_CHARS..=PASSWORD_MAX_CHARS).contains(&chars) {
        problems.push("must be 8 to 64 characters long");
    }
    if !password.chars().any(char::is_alphabetic) {
        problems.push("must contain a letter");
    }
    if !password.chars().any(|c| c.is_ascii_digit()) {
        problems.push("must contain a digit");
    }
    if !password
        .chars()
        .any(|c| !c.is_alphanumeric() && !c.is_whitespace())
    {
        problems.push("must contain a symbol");
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems)
    }
}

/// A display name, already trimmed: 1–100 characters, no control characters.
pub fn validate_name(name: &str) -> Result<(), Vec<&'static str>> {
    if name.is_empty() {
        return Err(vec!["is required"]);
    }
    if name.chars().count() > NAME_MAX_CHARS {
        return Err(vec!["must be at most 100 characters long"]);
    }
    if !is_plain_line(name) {
        return Err(vec![CONTROL_CHARACTERS]);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_normalize_to_trimmed_lowercase() {
        assert_eq!(
            normalize_email("  Minji.Kim@Example.COM\n"),
            "minji.kim@example.com"
        );
    }

    #[test]
    fn addresses_to_look_up_are_normalized_and_free_of_control_characters() {
        assert_eq!(
            email_to_look_up(" Minji@Example.com\n").unwrap(),
            "minji@example.com"
        );
        let errors = email_to_look_up("minji\0@example.com").unwrap_err();
        assert_eq!(errors.get("email").unwrap(), [CONTROL_CHARACTERS]);
    }

    #[test]
    fn ordinary_addresses_are_valid() {
        for email in [
            "minji@example.com",
            "minji.kim+drops@mail.example.co.kr",
            "o'brien@example.io",
            "a@b.cd",
            "x_y-z@sub-domain.example.com",
        ] {
            assert_eq!(validate_email(email), Ok(()), "{email}");
        }
    }

    #[test]
    fn malformed_addresses_are_refused() {
        assert_eq!(validate_email(""), Err(vec!["is required"]));
        for email in [
            "minji",
            "minji@",
            "@example.com",
            "minji@example",
            "minji@@example.com",
            "min ji@example.com",
            "minji@exa mple.com",
            ".minji@example.com",
            "minji.@example.com",
            "min..ji@example.com",
            "minji@-example.com",
            "minji@example-.com",
            "minji@example..com",
            "minji@example.c",
            "minji@example.123",
            "\"minji\"@example.com",
            "민지@example.com",
            "minji@example.com,other@example.com",
            "minji@example.com>",
        ] {
            assert!(validate_email(email).is_err(), "{email}");
        }
        let long_local = format!("{}@example.com", "a".repeat(65));
        assert!(validate_email(&long_local).is_err());
        let long = format!("a@{}.com", "b".repeat(250));
        assert_eq!(validate_email(&long), Err(vec!["is too long"]));
    }

    #[test]
    fn passwords_need_length_letter_digit_and_symbol() {
        assert_eq!(validate_password("s3cret!pw"), Ok(()));
        assert_eq!(
            validate_password("비밀번호1234!"),
            Ok(()),
            "letters of any script"
        );
        assert_eq!(validate_password(&format!("a1!{}", "x".repeat(61))), Ok(()));
        assert_eq!(validate_password(""), Err(vec!["is required"]));
        assert_eq!(
            validate_password("a1!xxxx"),
            Err(vec!["must be 8 to 64 characters long"])
        );
        assert_eq!(
            validate_password(&format!("a1!{}", "x".repeat(62))),
            Err(vec!["must be 8 to 64 characters long"])
        );
        assert_eq!(
            validate_password("12345678!"),
            Err(vec!["must contain a letter"])
        );
        assert_eq!(
            validate_password("password!"),
            Err(vec!["must contain a digit"])
        );
        assert_eq!(
            validate_password("password1"),
            Err(vec!["must contain a symbol"])
        );
        assert_eq!(
            validate_password("pass word1"),
            Err(vec!["must contain a symbol"]),
            "white space is no symbol"
        );
        assert_eq!(
            validate_password("short"),
            Err(vec![
                "must be 8 to 64 characters long",
                "must contain a digit",
                "must contain a symbol"
            ])
        );
    }

    #[test]
    fn names_are_short_printable_and_present() {
        assert_eq!(validate_name("Kim Minji"), Ok(()));
        assert_eq!(validate_name(&"김".repeat(100)), Ok(()));
        assert_eq!(validate_name(""), Err(vec!["is required"]));
        assert!(validate_name(&"a".repeat(101)).is_err());
        assert!(validate_name("Kim\u{0}Minji").is_err());
    }
}
