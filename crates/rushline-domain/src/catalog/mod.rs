//! The catalog's rules: what a valid product, listing request and time sale are, how a listing
//! pages, what a product costs at a given moment, and which uploads are images.

mod fields;
mod image;
mod listing;
mod time_sale;

pub use fields::{
    CATEGORY_MAX_CHARS, DEFAULT_MAX_PER_ORDER, DESCRIPTION_MAX_CHARS, MAX_PRICE, MAX_STOCK,
    NAME_MAX_CHARS, NewProduct, ProductChanges, ProductFields, normalize_category,
};
pub use image::ImageFormat;
pub use listing::{
    CursorError, LIMIT_DEFAULT, LIMIT_MAX, ListingRequest, ProductCursor, ProductSort,
    SEARCH_MAX_CHARS, search_terms,
};
pub use time_sale::{SaleWindow, TimeSaleFields, effective_price, next_price_change};
