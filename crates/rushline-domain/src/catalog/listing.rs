use std::fmt;
use std::str::FromStr;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::fields::normalize_category;
use crate::money::Won;
use crate::validation::{CONTROL_CHARACTERS, FieldErrors, is_plain_line, is_storable_time};

pub const LIMIT_DEFAULT: u32 = 20;
pub const LIMIT_MAX: u32 = 100;
pub const SEARCH_MAX_CHARS: usize = 200;
/// More words than this narrow a search no further in practice and only cost index lookups.
const SEARCH_MAX_TERMS: usize = 8;

/// The order of a listing. Every order ends with the product id, so it is total and a cursor
/// names one position in it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum ProductSort {
    /// Newest first: `created_at` descending.
    #[default]
    Newest,
    PriceAsc,
    PriceDesc,
}

impl ProductSort {
    pub fn as_str(self) -> &'static str {
        match self {
            ProductSort::Newest => "newest",
            ProductSort::PriceAsc => "price_asc",
            ProductSort::PriceDesc => "price_desc",
        }
    }
}

impl fmt::Display for ProductSort {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ProductSort {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "newest" => Ok(ProductSort::Newest),
            "price_asc" => Ok(ProductSort::PriceAsc),
            "price_desc" => Ok(ProductSort::PriceDesc),
            other => Err(format!("unknown sort {other:?}")),
        }
    }
}

/// Where the next page starts: strictly after this sort key and id. Keyset paging, so products
/// added while a client pages never shift or repeat what it has not seen yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ProductCursor {
    Newest { created_at: DateTime<Utc>, id: Uuid },
    PriceAsc { price: Won, id: Uuid },
    PriceDesc { price: Won, id: Uuid },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CursorError {
    Malformed,
    /// The cursor came from a listing in another order.
    OtherSort,
}

impl fmt::Display for CursorError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CursorError::Malformed => "the cursor is not one this server issued",
            CursorError::OtherSort => "the cursor belongs to a listing in another sort order",
        })
    }
}

impl std::error::Error for CursorError {}

impl ProductCursor {
    /// The cursor just after the product with these keys, in `sort`.
    pub fn after(sort: ProductSort, created_at: DateTime<Utc>, price: Won, id: Uuid) -> Self {
        match sort {
            ProductSort::Newest => ProductCursor::Newest { created_at, id },
            ProductSort::PriceAsc => ProductCursor::PriceAsc { price, id },
            ProductSort::PriceDesc => ProductCursor::PriceDesc { price, id },
        }
    }

    pub fn sort(&self) -> ProductSort {
        match self {
            ProductCursor::Newest { .. } => ProductSort::Newest,
            ProductCursor::PriceAsc { .. } => ProductSort::PriceAsc,
            ProductCursor::PriceDesc { .. } => ProductSort::PriceDesc,
        }
    }

    /// Opaque to clients: base64url of `sort|key|id`, the key in microseconds or KRW.
    pub fn encode(&self) -> String {
        let text = match self {
            ProductCursor::Newest { created_at, id } => {
                format!("newest|{}|{id}", created_at.timestamp_micros())
            }
            ProductCursor::PriceAsc { price, id } => format!("price_asc|{price}|{id}"),
            ProductCursor::PriceDesc { price, id } => format!("price_desc|{price}|{id}"),
        };
        URL_SAFE_NO_PAD.encode(text)
    }

    /// Reads a cursor for a listing in `sort`. A time no product can have been created at is
    /// malformed too: a database would refuse it.
    pub fn decode(cursor: &str, sort: ProductSort) -> Result<Self, CursorError> {
        let bytes = URL_SAFE_NO_PAD
            .decode(cursor)
            .map_err(|_| CursorError::Malformed)?;
        let text = String::from_utf8(bytes).map_err(|_| CursorError::Malformed)?;
        let mut parts = text.split('|');
        let (Some(cursor_sort), Some(key), Some(id), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(CursorError::Malformed);
        };
        let cursor_sort: ProductSort = cursor_sort.parse().map_err(|_| CursorError::Malformed)?;
        let id: Uuid = id.parse().map_err(|_| CursorError::Malformed)?;
        let key: i64 = key.parse().map_err(|_| CursorError::Malformed)?;
        if cursor_sort != sort {
            return Err(CursorError::OtherSort);
        }
        Ok(match sort {
            ProductSort::Newest => ProductCursor::Newest {
                created_at: DateTime::from_timestamp_micros(key)
                    .filter(|t| is_storable_time(*t))
                    .ok_or(CursorError::Malformed)?,
                id,
            },
            ProductSort::PriceAsc => ProductCursor::PriceAsc {
                price: Won::new(key),
                id,
            },
            ProductSort::PriceDesc => ProductCursor::PriceDesc {
                price: Won::new(key),
                id,
            },
        })
    }
}

/// A checked listing request, except its cursor (a bad cursor is a 400, not a field error).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListingRequest {
    pub sort: ProductSort,
    pub limit: u32,
    pub category: Option<String>,
    /// Words every listed product must contain, lowercased; empty means no search.
    pub terms: Vec<String>,
}

impl ListingRequest {
    pub fn validate(
        sort: Option<&str>,
        limit: Option<u32>,
        category: Option<&str>,
        q: Option<&str>,
    ) -> Result<Self, FieldErrors> {
        let mut errors = FieldErrors::new();
        let sort = match sort.map(str::parse) {
            None => ProductSort::default(),
            Some(Ok(sort)) => sort,
            Some(Err(_)) => {
                errors.add("sort", "must be newest, price_asc or price_desc");
                ProductSort::default()
            }
        };
        let limit = limit.unwrap_or(LIMIT_DEFAULT);
        if !(1..=LIMIT_MAX).contains(&limit) {
            errors.add("limit", format!("must be from 1 to {LIMIT_MAX}"));
        }
        let category = category.map(normalize_category).filter(|c| !c.is_empty());
        if category.as_deref().is_some_and(|c| !is_plain_line(c)) {
            errors.add("category", CONTROL_CHARACTERS);
        }
        let terms = match q {
            None => Vec::new(),
            Some(q) if q.chars().count() > SEARCH_MAX_CHARS => {
                errors.add(
                    "q",
                    format!("must be at most {SEARCH_MAX_CHARS} characters"),
                );
                Vec::new()
            }
            Some(q) => {
                let terms = search_terms(q);
                if terms.is_empty() && !q.trim().is_empty() {
                    errors.add("q", "must contain a word of letters or digits");
                }
                terms
            }
        };
        errors.into_result(|| ListingRequest {
            sort,
            limit,
            category,
            terms,
        })
    }
}

/// The words of a search: runs of letters and digits, lowercased, without repeats. Both stores
/// index words the same way, and no user text reaches a full-text query's syntax.
pub fn search_terms(q: &str) -> Vec<String> {
    let mut terms: Vec<String> = Vec::new();
    for word in q
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
    {
        let word = word.to_lowercase();
        if !terms.contains(&word) {
            terms.push(word);
        }
        if terms.len() == SEARCH_MAX_TERMS {
            break;
        }
    }
    terms
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorts_round_trip_through_their_names() {
        for sort in [
            ProductSort::Newest,
            ProductSort::PriceAsc,
            ProductSort::PriceDesc,
        ] {
            assert_eq!(sort.as_str().parse::<ProductSort>(), Ok(sort));
        }
        assert!("cheapest".parse::<ProductSort>().is_err());
    }

    #[test]
    fn cursors_round_trip_and_refuse_other_sorts_and_garbage() {
        let id = Uuid::now_v7();
        let created_at = DateTime::from_timestamp_micros(1_772_355_600_123_456).unwrap();
        for sort in [
            ProductSort::Newest,
            ProductSort::PriceAsc,
            ProductSort::PriceDesc,
        ] {
            let cursor = ProductCursor::after(sort, created_at, Won::new(129_000), id);
            assert_eq!(cursor.sort(), sort);
            let encoded = cursor.encode();
            assert!(
                encoded
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'),
                "{encoded}"
            );
            assert_eq!(ProductCursor::decode(&encoded, sort), Ok(cursor));
        }
        let newest =
            ProductCursor::after(ProductSort::Newest, created_at, Won::new(1), id).encode();
        assert_eq!(
            ProductCursor::decode(&newest, ProductSort::PriceAsc),
            Err(CursorError::OtherSort)
        );
        for garbage in [
            "",
            "!!!",
            "bm90IGEgY3Vyc29y",
            &URL_SAFE_NO_PAD.encode("newest|soon|x"),
            &URL_SAFE_NO_PAD.encode(format!("newest|1|{id}|extra")),
            &URL_SAFE_NO_PAD.encode(format!("newest|{}|{id}", i64::MAX)),
            // Valid for chrono, out of range for PostgreSQL.
            &URL_SAFE_NO_PAD.encode(format!("newest|{}|{id}", 8_000_000_000_000_000_000_i64)),
            &URL_SAFE_NO_PAD.encode(format!("newest|{}|{id}", -8_000_000_000_000_000_000_i64)),
        ] {
            assert_eq!(
                ProductCursor::decode(garbage, ProductSort::Newest),
                Err(CursorError::Malformed),
                "{garbage}"
            );
        }
    }

    #[test]
    fn listing_defaults_and_bounds() {
        let request = ListingRequest::validate(None, None, None, None).unwrap();
        assert_eq!(
            request,
            ListingRequest {
                sort: ProductSort::Newest,
                limit: LIMIT_DEFAULT,
                category: None,
                terms: Vec::new(),
            }
        );
        let request =
            ListingRequest::validate(Some("price_desc"), Some(100), Some(" Shoes "), Some(""))
                .unwrap();
        assert_eq!(request.sort, ProductSort::PriceDesc);
        assert_eq!(request.limit, 100);
        assert_eq!(request.category.as_deref(), Some("shoes"));

        let errors =
            ListingRequest::validate(Some("cheap"), Some(0), None, Some("?!")).unwrap_err();
        assert_eq!(
            ListingRequest::validate(None, None, Some("shoes\0"), None)
                .unwrap_err()
                .get("category")
                .unwrap(),
            [CONTROL_CHARACTERS]
        );
        for field in ["sort", "limit", "q"] {
            assert!(errors.get(field).is_some(), "{field} passed");
        }
        assert!(ListingRequest::validate(None, Some(101), None, None).is_err());
        let long = "a".repeat(SEARCH_MAX_CHARS + 1);
        assert!(ListingRequest::validate(None, None, None, Some(&long)).is_err());
    }

    #[test]
    fn search_terms_are_lowercased_words_without_query_syntax() {
        assert_eq!(
            search_terms(r#"Aurora "sneakers" OR -limited* aurora 한정판"#),
            ["aurora", "sneakers", "or", "limited", "한정판"]
        );
        assert!(search_terms("  ?! ").is_empty());
        assert_eq!(search_terms("a b c d e f g h i j").len(), SEARCH_MAX_TERMS);
    }
}
