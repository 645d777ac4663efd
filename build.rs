//! Rebuilds when a migration or template is added, not only when one
//! changes: the embedded folders are read at compile time.
fn main() {
    println!("cargo:rerun-if-changed=migrations");
    println!("cargo:rerun-if-changed=templates");
    println!("cargo:rerun-if-changed=static");
}
