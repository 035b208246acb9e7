//! The native menu: File → Add source…, Quit; View → Theme (System / Light / Dark);
//! Help → About. Shortcuts are the items' accelerators: Ctrl+N adds a source, Ctrl+Q quits.
//!
//! The menu talks to the page without any IPC permission: the shell evaluates a one-line
//! script in it. "Add source…" dispatches a `rowtrail:menu` DOM event (detail
//! `{action: "add-source"}`) and, unless a listener cancels it, goes to `#/sources?add=1`,
//! which opens the dialog. The theme items set `data-theme` on `<html>` (removed for System),
//! which the UI follows, and the window's own GTK theme. In the app the menu owns the theme
//! (the page's own theme button is hidden there): the choice is remembered in the app's config
//! directory and applied to the window, the check marks and the page before it loads.

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

/// The file in the app's config directory holding the View → Theme choice (an item id).
const THEME_FILE: &str = "theme";

/// The View → Theme items, kept to move the check mark.
pub struct ThemeItems(Vec<(&'static str, CheckMenuItem<Wry>)>);

/// The theme chosen last time (an item id of the View → Theme menu); System when none.
pub fn remembered_theme(app: &AppHandle) -> &'static str {
    let saved = app
        .path()
        .app_config_dir()
        .ok()
        .and_then(|d| std::fs::read_to_string(d.join(THEME_FILE)).ok());
    theme_id(saved.as_deref().unwrap_or_default().trim())
}

/// The menu's item id for `saved`, System for anything unknown.
fn theme_id(saved: &str) -> &'static str {
    THEMES.iter().find(|(id, _, _)| *id == saved).map_or(THEMES[0].0, |(id, _, _)| id)
}

/// The window's GTK theme for a theme item id (`None`: follow the system).
pub fn window_theme(id: &str) -> Option<Theme> {
    THEMES.iter().find(|(t, _, _)| *t == id).and_then(|(_, _, theme)| *theme)
}

/// The script that puts theme `theme` on the page (`data-theme` on `<html>`).
pub fn theme_script(theme: Option<Theme>) -> &'static str {
    match theme {
        None => "document.documentElement.removeAttribute('data-theme')",
        Some(Theme::Dark) => "document.documentElement.setAttribute('data-theme','dark')",
        Some(_) => "document.documentElement.setAttribute('data-theme','light')",
    }
}

/// [`theme_script`] for a page that is only starting: it runs before the document has an
/// `<html>` element, so it waits for one.
pub fn startup_theme_script(theme: Option<Theme>) -> String {
    format!(
        "(()=>{{const apply=()=>{{{}}};if(document.documentElement)apply();\
         else new MutationObserver((_,o)=>{{if(document.documentElement){{o.disconnect();apply();}}}}).observe(document,{{childList:true}});}})()",
        theme_script(theme)
    )
}

/// Builds the app menu with theme item `theme` checked, and the theme items to manage as state.
pub fn build(app: &AppHandle, theme_choice: &str) -> tauri::Result<(Menu<Wry>, ThemeItems)> {
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
    for (id, label, _) in THEMES.iter() {
        let item = CheckMenuItemBuilder::with_id(*id, *label).checked(*id == theme_choice).build(app)?;
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

/// Applies a theme choice — the check marks, the window's theme, the page's `data-theme` —
/// and remembers it for the next start.
fn set_theme(app: &AppHandle, chosen: &str, theme: Option<Theme>) {
    if let Ok(dir) = app.path().app_config_dir() {
        let saved = std::fs::create_dir_all(&dir).and_then(|()| std::fs::write(dir.join(THEME_FILE), chosen));
        if let Err(e) = saved {
            eprintln!("rowtrail-desktop: could not remember the theme in {}: {e}", dir.display());
        }
    }
    if let Some(items) = app.try_state::<ThemeItems>() {
        for (id, item) in &items.0 {
            let _ = item.set_checked(*id == chosen);
        }
    }
    if let Some(w) = app.get_webview_window(MAIN_WINDOW) {
        let _ = w.set_theme(theme);
    }
    run_in_page(app, theme_script(theme));
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_remembered_theme_maps_to_its_item_window_theme_and_script() {
        assert_eq!(theme_id("theme-dark"), "theme-dark");
        assert_eq!(theme_id(""), "theme-system", "nothing remembered: System");
        assert_eq!(theme_id("purple"), "theme-system", "an unknown value: System");
        assert_eq!(window_theme("theme-light"), Some(Theme::Light));
        assert_eq!(window_theme("theme-system"), None);
        assert!(theme_script(Some(Theme::Dark)).contains("'dark'"));
        assert!(theme_script(None).contains("removeAttribute"));
    }
}
