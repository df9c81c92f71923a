//! Rebuild when SQL changes: refinery's `embed_migrations!` and the `include_str!`ed tenant
//! migrations and policies are read at compile time, and a new file in sql/ would otherwise be
//! missed by an incremental build (an old binary would then report "migrations pending").
fn main() {
    println!("cargo:rerun-if-changed=sql");
    println!("cargo:rerun-if-changed=policies");
    println!("cargo:rerun-if-changed=static");
}
