//! Rebuild when the web UI's build output changes: it is embedded in the binary (rust-embed).
fn main() {
    println!("cargo:rerun-if-changed=../web/dist");
}
