//! `uniffi-bindgen generate --library target/release/libtrustshot_ffi.so --language kotlin --out-dir OUT`
//! (run inside the workspace: it reads cargo metadata to find uniffi.toml).
fn main() {
    uniffi::uniffi_bindgen_main()
}
