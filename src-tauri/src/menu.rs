//! The native menu: File → Add source…, Quit; View → Theme (System / Light / Dark);
//! Help → About. Shortcuts are the items' accelerators: Ctrl+N adds a source, Ctrl+Q quits.
//!
//! The menu talks to the page without any IPC permission: the shell evaluates a one-line
//! script in it. "Add source…" dispatches a `rowtrail:menu` DOM event (detail
//! `{action: "add-source"}`) and, unless a listener cancels it, goes to `#/sources?add=1`,
//! which opens the dialog. The theme items set `data-theme` on `<html>` (removed for System),
//! which the UI follows, and the window's own GTK theme.

use tauri::menu::{
    AboutMetadataBuilder, CheckMenuItem, CheckMenuItemBuilder, Menu, MenuBuilder, MenuEvent,
    MenuItemBuilder, PredefinedMenuItem, SubmenuBuilder,
};
use tauri::{AppHandle, Manager, Theme, Wry};

/// The label of the app's one window.
pub const MAIN_WINDOW: &str = "main";

const ADD_SOURCE: &str = "add-source";
const QUIT: &str = "quit";
const THEMES: [(&str, &str, Option<Theme>); 3] = [
    ("theme-system", "System", None),
    ("theme-light", "Light", Some(Theme::Light)),
    ("theme-dark", "Dark", Some(Theme::Dark)),
];

/// The View → Theme items, kept to move the check mark.
pub struct ThemeItems(Vec<(&'static str, CheckMenuItem<Wry>)>);

/// Builds the app menu, and the theme items to manage as state.
pub fn build(app: &AppHandle) -> tauri::Result<(Menu<Wry>, ThemeItems)> {
    let file = SubmenuBuilder::new(app, "File")
        .item(
            &MenuItemBuilder::with_id(ADD_SOURCE, "Add source…")
                .accelerator("CmdOrCtrl+N")
                .build(app)?,
        )
        .separator()
        .item(
            &MenuItemBuilder::with_id(QUIT, "Quit")
                .accelerator("CmdOrCtrl+Q")
                .build(app)?,
        )
        .build()?;

    let mut theme = SubmenuBuilder::new(app, "Theme");
    let mut items = Vec::new();
    // No shortcuts here: GTK does not match Shift+digit accelerators (Shift turns `3` into `#`).
    for (i, (id, label, _)) in THEMES.iter().enumerate() {
        let item = CheckMenuItemBuilder::with_id(*id, *label).checked(i == 0).build(app)?;
        theme = theme.item(&item);
        items.push((*id, item));
    }
    let view = SubmenuBuilder::new(app, "View").item(&theme.build()?).build()?;

    let pkg = app.package_info();
    let about = AboutMetadataBuilder::new()
        .name(Some(pkg.name.clone()))
        .version(Some(pkg.version.to_string()))
        .comments(Some("What happened to this record, who did it, and can we undo it?"))
        .license(Some("MIT OR Apache-2.0"))
        .icon(app.default_window_icon().cloned())
        .build();
    let help = SubmenuBuilder::new(app, "Help")
        .item(&PredefinedMenuItem::about(app, Some("About Rowtrail"), Some(about))?)
        .build()?;

    let menu = MenuBuilder::new(app).items(&[&file, &view, &help]).build()?;
    Ok((menu, ThemeItems(items)))
}

/// Handles a click on (or the shortcut of) a menu item.
pub fn on_event(app: &AppHandle, event: MenuEvent) {
    let id = event.id().as_ref();
    match id {
        ADD_SOURCE => run_in_page(
            app,
            "(()=>{const e=new CustomEvent('rowtrail:menu',{detail:{action:'add-source'},cancelable:true});\
             if(window.dispatchEvent(e))location.hash='#/sources?add=1';})()",
        ),
        QUIT => app.exit(0),
        _ => {
            if let Some((_, _, theme)) = THEMES.iter().find(|(t, _, _)| *t == id) {
                set_theme(app, id, *theme);
            }
        }
    }
}

/// Applies a theme choice: the check marks, the window's theme, the page's `data-theme`.
fn set_theme(app: &AppHandle, chosen: &str, theme: Option<Theme>) {
    if let Some(items) = app.try_state::<ThemeItems>() {
        for (id, item) in &items.0 {
            let _ = item.set_checked(*id == chosen);
        }
    }
    if let Some(w) = app.get_webview_window(MAIN_WINDOW) {
        let _ = w.set_theme(theme);
    }
    let script = match theme {
        None => "document.documentElement.removeAttribute('data-theme')".to_string(),
        Some(Theme::Dark) => "document.documentElement.setAttribute('data-theme','dark')".to_string(),
        Some(_) => "document.documentElement.setAttribute('data-theme','light')".to_string(),
    };
    run_in_page(app, &script);
}

/// Evaluates a fixed script of the shell's own in the main window's page.
fn run_in_page(app: &AppHandle, script: &str) {
    if let Some(w) = app.get_webview_window(MAIN_WINDOW) {
        if let Err(e) = w.eval(script) {
            eprintln!("rowtrail-desktop: the menu could not reach the page: {e}");
        }
    }
}

/// Brings the main window to the front (a second launch does this instead of opening
/// another window).
pub fn focus_main(app: &AppHandle) {
    if let Some(w) = app.get_webview_window(MAIN_WINDOW) {
        let _ = w.unminimize();
        let _ = w.show();
        let _ = w.set_focus();
    }
}
