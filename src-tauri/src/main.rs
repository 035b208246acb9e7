//! Rowtrail's desktop app: one window showing the UI (../ui), a native menu, and two IPC
//! commands over the engine's API — `rpc` for every command and `subscribe` for its events.
//! Everything the app does goes through `rowtrail_core::api`; this shell holds no logic of
//! its own beyond choosing the workspace and starting the background work.
//!
//! Usage: `rowtrail-desktop [--data-dir DIR]` (or `ROWTRAIL_DATA_DIR`); see [`startup`].

#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

mod commands;
mod menu;
mod startup;

use std::time::Duration;

use tauri::webview::PageLoadEvent;
use tauri::{Manager, RunEvent, WebviewWindowBuilder};

use commands::Shell;

/// How long quitting waits for the background tasks to store what they read.
const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(10);

fn main() {
    let app = tauri::Builder::default()
        // First: a second launch only focuses the running window, then exits.
        .plugin(tauri_plugin_single_instance::init(|app, _argv, _cwd| {
            menu::focus_main(app)
        }))
        .plugin(tauri_plugin_window_state::Builder::default().build())
        .invoke_handler(tauri::generate_handler![commands::rpc, commands::subscribe])
        .on_page_load(|webview, payload| {
            if payload.event() == PageLoadEvent::Started {
                if let Some(shell) = webview.try_state::<Shell>() {
                    shell.stop_forwarding();
                }
            }
        })
        .on_menu_event(menu::on_event)
        .setup(|app| {
            let handle = app.handle();
            let opened = startup::open_workspace(handle)?;
            app.manage(Shell::new(opened.api.clone()));

            let theme = menu::remembered_theme(handle);
            let (menu, theme_items) = menu::build(handle, theme)?;
            app.set_menu(menu)?;
            app.manage(theme_items);

            // The window is created here, after the API is in place (`"create": false` in
            // tauri.conf.json), so the page's first call always finds it.
            let config = app
                .config()
                .app
                .windows
                .iter()
                .find(|w| w.label == menu::MAIN_WINDOW)
                .cloned()
                .ok_or("tauri.conf.json has no \"main\" window")?;
            // The remembered theme is on the window and the page before the UI's first paint.
            WebviewWindowBuilder::from_config(handle, &config)?
                .theme(menu::window_theme(theme))
                .initialization_script(menu::startup_theme_script(menu::window_theme(theme)))
                .build()?;

            startup::start_background(&opened);
            Ok(())
        })
        .build(tauri::generate_context!());
    let app = match app {
        Ok(app) => app,
        Err(e) => {
            eprintln!("rowtrail-desktop: cannot start: {e}");
            std::process::exit(1);
        }
    };
    app.run(|handle, event| {
        if let RunEvent::Exit = event {
            if let Some(shell) = handle.try_state::<Shell>() {
                let api = shell.api.clone();
                let stopped = tauri::async_runtime::block_on(async move {
                    tokio::time::timeout(SHUTDOWN_TIMEOUT, api.shutdown()).await
                });
                if stopped.is_err() {
                    eprintln!("rowtrail-desktop: background tasks did not stop in time");
                }
            }
        }
    });
}
