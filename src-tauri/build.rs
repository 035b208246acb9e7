//! Build script of the desktop shell: Tauri's code generation (the config, the capabilities
//! and their permissions), after checking that the UI it embeds has been built.

fn main() {
    // With the `embed-ui` feature (the default, and what `tauri build` uses) the UI in
    // ../ui/dist is compiled into the binary. Say how to make it rather than letting Tauri's
    // macro fail with a bare "path doesn't exist".
    if std::env::var_os("CARGO_FEATURE_EMBED_UI").is_some() {
        let index = std::path::Path::new("../ui/dist/index.html");
        println!("cargo:rerun-if-changed=../ui/dist");
        if !index.exists() {
            panic!(
                "the desktop app embeds the built UI, and ../ui/dist/index.html does not exist: \
                 run `make desktop` (or `npm --prefix ui ci && npm --prefix ui run build`) first, \
                 or build with --no-default-features to load the dev server (`npm run dev` in ui/)"
            );
        }
    }
    // Declaring the app's commands makes Tauri check them against the capabilities too
    // (capabilities/main.toml): without a manifest, app commands are open to any local page.
    let attrs = tauri_build::Attributes::new()
        .app_manifest(tauri_build::AppManifest::new().commands(&["rpc", "subscribe"]));
    if let Err(e) = tauri_build::try_build(attrs) {
        panic!("tauri-build failed: {e:#}");
    }
}
