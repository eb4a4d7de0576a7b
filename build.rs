//! Rebuilds when anything under `templates/` changes: the pack is compiled into the binary
//! (`include_dir!`), which does not see new files on its own.
fn main() {
    println!("cargo:rerun-if-changed=templates");
}
