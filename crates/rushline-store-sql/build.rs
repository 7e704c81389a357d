//! `sqlx::migrate!` embeds the migration files at compile time, but stable Rust cannot tell
//! Cargo that a new file appeared in the directory: without this, adding a migration left the
//! old set compiled in until some source file of the crate changed.
fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
