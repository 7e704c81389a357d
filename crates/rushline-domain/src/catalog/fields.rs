use crate::ProductStatus;
pub use crate::money::MAX_PRICE;
use crate::money::{MAX_LINE_QUANTITY, Won};
use crate::validation::{CONTROL_CHARACTERS, FieldErrors, is_plain_line, is_plain_text, required};

pub const NAME_MAX_CHARS: usize = 100;
pub const DESCRIPTION_MAX_CHARS: usize = 5000;
pub const CATEGORY_MAX_CHARS: usize = 50;
pub const MAX_STOCK: i64 = 1_000_000_000;
/// Units of a product one order may hold unless its seller says otherwise.
pub const DEFAULT_MAX_PER_ORDER: i32 = 10;

/// A product's editable fields as a client sent them; any may be missing.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ProductFields {
    pub name: Option<String>,
    pub description: Option<String>,
    pub category: Option<String>,
    pub price: Option<Won>,
    pub stock: Option<i64>,
    pub status: Option<String>,
    /// Units of the product one order may hold, 1–1000.
    pub max_per_order: Option<i64>,
}

/// The checked fields of a product to create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewProduct {
    pub name: String,
    pub description: String,
    pub category: String,
    pub price: Won,
    pub stock: i64,
    pub status: ProductStatus,
    pub max_per_order: i32,
}

/// The checked changes to a product: `None` leaves a field as it is.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ProductChanges {
    pub name: Option<String>,
    pub description: Option<String>,
    pub category: Option<String>,
    pub price: Option<Won>,
    pub stock: Option<i64>,
    pub status: Option<ProductStatus>,
    pub max_per_order: Option<i32>,
}

impl ProductFields {
    /// Every field is required except `status`, which defaults to `draft` (a new product cannot
    /// start `archived`), and `max_per_order`, which defaults to [`DEFAULT_MAX_PER_ORDER`].
    pub fn validate_new(self) -> Result<NewProduct, FieldErrors> {
        let mut errors = FieldErrors::new();
        let name = required(&mut errors, "name", self.name).and_then(|n| name(&mut errors, &n));
        let description = required(&mut errors, "description", self.description)
            .and_then(|d| description(&mut errors, d));
        let category = required(&mut errors, "category", self.category)
            .and_then(|c| category(&mut errors, &c));
        let price = required(&mut errors, "price", self.price).and_then(|p| price(&mut errors, p));
        let stock = required(&mut errors, "stock", self.stock).and_then(|s| stock(&mut errors, s));
        let status = match self.status.as_deref() {
            None => Some(ProductStatus::Draft),
            Some(s @ ("draft" | "active")) => s.parse().ok(),
            Some(_) => {
                errors.add("status", "must be draft or active");
                None
            }
        };
        let max_per_order = match self.max_per_order {
            None => Some(DEFAULT_MAX_PER_ORDER),
            Some(max) => max_per_order(&mut errors, max),
        };
        match (
            name,
            description,
            category,
            price,
            stock,
            status,
            max_per_order,
        ) {
            (
                Some(name),
                Some(description),
                Some(category),
                Some(price),
                Some(stock),
                Some(status),
                Some(max_per_order),
            ) if errors.is_empty() => Ok(NewProduct {
                name,
                description,
                category,
                price,
                stock,
                status,
                max_per_order,
            }),
            _ => Err(errors),
        }
    }

    /// Checks the fields present; absent ones stay unchanged. Any status may be set.
    pub fn validate_changes(self) -> Result<ProductChanges, FieldErrors> {
        let mut errors = FieldErrors::new();
        let changes = ProductChanges {
            name: self.name.and_then(|n| name(&mut errors, &n)),
            description: self.description.and_then(|d| description(&mut errors, d)),
            category: self.category.and_then(|c| category(&mut errors, &c)),
            price: self.price.and_then(|p| price(&mut errors, p)),
            stock: self.stock.and_then(|s| stock(&mut errors, s)),
            status: self.status.and_then(|s| match s.parse() {
                Ok(status) => Some(status),
                Err(_) => {
                    errors.add("status", "must be draft, active or archived");
                    None
                }
            }),
            max_per_order: self
                .max_per_order
                .and_then(|max| max_per_order(&mut errors, max)),
        };
        errors.into_result(|| changes)
    }
}

fn name(errors: &mut FieldErrors, name: &str) -> Option<String> {
    let name = name.trim();
    let chars = name.chars().count();
    if chars == 0 || chars > NAME_MAX_CHARS {
        errors.add("name", format!("must be 1 to {NAME_MAX_CHARS} characters"));
        return None;
    }
    if !is_plain_line(name) {
        errors.add("name", CONTROL_CHARACTERS);
        return None;
    }
    Some(name.to_owned())
}

fn description(errors: &mut FieldErrors, description: String) -> Option<String> {
    if description.chars().count() > DESCRIPTION_MAX_CHARS {
        errors.add(
            "description",
            format!("must be at most {DESCRIPTION_MAX_CHARS} characters"),
        );
        return None;
    }
    if !is_plain_text(&description) {
        errors.add(
            "description",
            "must not contain control characters other than line breaks and tabs",
        );
        return None;
    }
    Some(description)
}

fn category(errors: &mut FieldErrors, category: &str) -> Option<String> {
    let category = normalize_category(category);
    let chars = category.chars().count();
    if chars == 0 || chars > CATEGORY_MAX_CHARS {
        errors.add(
            "category",
            format!("must be 1 to {CATEGORY_MAX_CHARS} characters"),
        );
        return None;
    }
    if !is_plain_line(&category) {
        errors.add("category", CONTROL_CHARACTERS);
        return None;
    }
    Some(category)
}

fn price(errors: &mut FieldErrors, price: Won) -> Option<Won> {
    if !price.is_price_from(Won::new(1)) {
        errors.add(
            "price",
            format!("must be a whole number of KRW from 1 to {MAX_PRICE}"),
        );
        return None;
    }
    Some(price)
}

fn stock(errors: &mut FieldErrors, stock: i64) -> Option<i64> {
    if !(0..=MAX_STOCK).contains(&stock) {
        errors.add("stock", format!("must be from 0 to {MAX_STOCK}"));
        return None;
    }
    Some(stock)
}

fn max_per_order(errors: &mut FieldErrors, max: i64) -> Option<i32> {
    let valid = i32::try_from(max)
        .ok()
        .filter(|max| (1..=MAX_LINE_QUANTITY).contains(&i64::from(*max)));
    if valid.is_none() {
        errors.add(
            "max_per_order",
            format!("must be from 1 to {MAX_LINE_QUANTITY}"),
        );
    }
    valid
}

/// Categories compare case-insensitively and without surrounding spaces, on write and on filter.
pub fn normalize_category(category: &str) -> String {
    category.trim().to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn complete() -> ProductFields {
        ProductFields {
            name: Some("  Aurora sneakers ".to_owned()),
            description: Some(String::new()),
            category: Some(" Shoes".to_owned()),
            price: Some(Won::new(129_000)),
            stock: Some(0),
            status: None,
            max_per_order: None,
        }
    }

    #[test]
    fn a_complete_product_is_trimmed_normalised_and_draft_by_default() {
        let product = complete().validate_new().unwrap();
        assert_eq!(
            product,
            NewProduct {
                name: "Aurora sneakers".to_owned(),
                description: String::new(),
                category: "shoes".to_owned(),
                price: Won::new(129_000),
                stock: 0,
                status: ProductStatus::Draft,
                max_per_order: DEFAULT_MAX_PER_ORDER,
            }
        );
        let active = ProductFields {
            status: Some("active".to_owned()),
            ..complete()
        };
        assert_eq!(active.validate_new().unwrap().status, ProductStatus::Active);
    }

    #[test]
    fn every_missing_field_is_reported_at_once() {
        let errors = ProductFields::default().validate_new().unwrap_err();
        for field in ["name", "description", "category", "price", "stock"] {
            assert_eq!(errors.get(field).unwrap(), ["is required"], "{field}");
        }
        assert_eq!(errors.get("status"), None);
    }

    #[test]
    fn bounds_are_checked_at_their_edges() {
        let at_limits = ProductFields {
            name: Some("가".repeat(NAME_MAX_CHARS)),
            description: Some("d".repeat(DESCRIPTION_MAX_CHARS)),
            category: Some("c".repeat(CATEGORY_MAX_CHARS)),
            price: Some(Won::new(1)),
            stock: Some(MAX_STOCK),
            status: Some("draft".to_owned()),
            max_per_order: Some(MAX_LINE_QUANTITY),
        };
        assert!(at_limits.validate_new().is_ok());

        let beyond = ProductFields {
            name: Some("가".repeat(NAME_MAX_CHARS + 1)),
            description: Some("d".repeat(DESCRIPTION_MAX_CHARS + 1)),
            category: Some("c".repeat(CATEGORY_MAX_CHARS + 1)),
            price: Some(Won::new(0)),
            stock: Some(-1),
            status: Some("archived".to_owned()),
            max_per_order: Some(0),
        };
        let errors = beyond.validate_new().unwrap_err();
        for field in [
            "name",
            "description",
            "category",
            "price",
            "stock",
            "status",
            "max_per_order",
        ] {
            assert!(errors.get(field).is_some(), "{field} passed");
        }

        let blank = ProductFields {
            name: Some("   ".to_owned()),
            category: Some(" ".to_owned()),
            price: Some(Won::new(MAX_PRICE.get() + 1)),
            ..complete()
        };
        let errors = blank.validate_new().unwrap_err();
        for field in ["name", "category", "price"] {
            assert!(errors.get(field).is_some(), "{field} passed");
        }
    }

    #[test]
    fn control_characters_are_refused_but_a_description_keeps_its_lines() {
        let with_nul = ProductFields {
            name: Some("Aurora\0".to_owned()),
            description: Some("soft\0".to_owned()),
            category: Some("sho\u{1b}es".to_owned()),
            ..complete()
        };
        let errors = with_nul.validate_new().unwrap_err();
        for field in ["name", "description", "category"] {
            assert_eq!(errors.get(field).unwrap().len(), 1, "{field} passed");
        }
        let changes = ProductFields {
            name: Some("two\nlines".to_owned()),
            ..ProductFields::default()
        };
        assert!(
            changes
                .validate_changes()
                .unwrap_err()
                .get("name")
                .is_some()
        );

        let lines = ProductFields {
            description: Some("Light.\r\n\tBreathable.\n".to_owned()),
            ..complete()
        };
        assert_eq!(
            lines.validate_new().unwrap().description,
            "Light.\r\n\tBreathable.\n"
        );
    }

    #[test]
    fn changes_check_only_present_fields_and_allow_archiving() {
        assert_eq!(
            ProductFields::default().validate_changes().unwrap(),
            ProductChanges::default()
        );
        let changes = ProductFields {
            price: Some(Won::new(99_000)),
            status: Some("archived".to_owned()),
            ..ProductFields::default()
        }
        .validate_changes()
        .unwrap();
        assert_eq!(changes.price, Some(Won::new(99_000)));
        assert_eq!(changes.status, Some(ProductStatus::Archived));
        assert_eq!(changes.name, None);

        let errors = ProductFields {
            name: Some(String::new()),
            stock: Some(-5),
            status: Some("deleted".to_owned()),
            ..ProductFields::default()
        }
        .validate_changes()
        .unwrap_err();
        assert!(errors.get("name").is_some());
        assert!(errors.get("stock").is_some());
        assert_eq!(
            errors.get("status").unwrap(),
            ["must be draft, active or archived"]
        );
        assert_eq!(errors.get("price"), None);
    }
}
