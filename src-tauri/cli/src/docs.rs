//! Man pages and shell completions, generated from the clap definitions so they can never
//! disagree with the program: `rowtrail completions SHELL` prints one script, and the hidden
//! `rowtrail package-files DIR` writes everything the `.deb` ships
//! (src-tauri/scripts/package-files.sh runs it before bundling; tauri.conf.json's
//! `bundle.linux.deb.files` maps the results into the package).

use std::io::Write;
use std::path::Path;

use clap::CommandFactory;
use clap_complete::Shell;

/// What each exit status means; `rowtrail --help` and the man page both print this.
pub const EXIT_CODES: &[(&str, &str)] = &[
    ("0", "success"),
    ("1", "error, including a well-formed name that matches nothing (a source, table, transaction or record)"),
    ("2", "usage: a malformed or impossible argument (a time, operation, key, version number, --url or --path), or a --data-dir that holds no workspace"),
    ("3", "a source could not be reached"),
    ("4", "events were lost upstream (history has a gap)"),
    ("141", "standard output was closed early (rowtrail events | head): stopped quietly, as after SIGPIPE"),
];

/// The text after `rowtrail --help`: exit codes and where data lives.
pub fn after_long_help() -> String {
    let mut s = String::from("Exit status:\n");
    for (code, meaning) in EXIT_CODES {
        s.push_str(&format!("  {code:>3}  {meaning}\n"));
    }
    s.push_str("\nThe workspace (cache.sqlite, the demo database) is --data-dir, ROWTRAIL_DATA_DIR or ~/.local/share/rowtrail.");
    s
}

/// The shells completions are generated for, with the file name each expects and where the
/// `.deb` puts it (the paths bash-completion, zsh and fish search for vendor completions).
pub const COMPLETIONS: &[(Shell, &str)] = &[
    (Shell::Bash, "rowtrail.bash"),
    (Shell::Zsh, "_rowtrail"),
    (Shell::Fish, "rowtrail.fish"),
];

/// The program's command without its hidden subcommands: clap_complete offers hidden ones
/// too (clap has no way to remove a subcommand, so the top level is copied without them;
/// only the top level has any).
fn for_completion() -> clap::Command {
    let full = crate::Cli::command();
    let mut cmd = clap::Command::new("rowtrail")
        .version(env!("CARGO_PKG_VERSION"))
        .args(full.get_arguments().cloned())
        .subcommands(full.get_subcommands().filter(|s| !s.is_hide_set()).cloned());
    if let Some(about) = full.get_about() {
        cmd = cmd.about(about.clone());
    }
    cmd
}

/// Prints the completion script for `shell` to stdout.
pub fn print_completions(shell: Shell) {
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut for_completion(), "rowtrail", &mut script);
    print!("{}", String::from_utf8_lossy(&script));
}

/// Writes `dir/man/*.1` (rowtrail.1 and one page per subcommand, rowtrail-events.1 …) and
/// `dir/completions/{rowtrail.bash,_rowtrail,rowtrail.fish}`, replacing what was there.
pub fn write_package_files(dir: &Path) -> std::io::Result<()> {
    let man = dir.join("man");
    let completions = dir.join("completions");
    for d in [&man, &completions] {
        // Pages of subcommands that no longer exist must not linger into the package.
        if d.exists() {
            std::fs::remove_dir_all(d)?;
        }
        std::fs::create_dir_all(d)?;
    }
    // `help` has no page of its own (clap_mangen's generate_to drops it too).
    let cmd = crate::Cli::command().disable_help_subcommand(true);
    // Subcommand pages first; then the main page is rewritten with its extra sections.
    clap_mangen::generate_to(cmd.clone(), &man)?;
    let mut page = Vec::new();
    main_page(cmd, &mut page)?;
    std::fs::write(man.join("rowtrail.1"), page)?;
    for (shell, file) in COMPLETIONS {
        let mut script = Vec::new();
        clap_complete::generate(*shell, &mut for_completion(), "rowtrail", &mut script);
        std::fs::write(completions.join(file), script)?;
    }
    Ok(())
}

/// rowtrail(1): clap_mangen's sections, with EXIT STATUS, ENVIRONMENT, FILES and SEE ALSO
/// in place of its generic EXTRA (the `--help` epilogue).
fn main_page(cmd: clap::Command, w: &mut Vec<u8>) -> std::io::Result<()> {
    let man = clap_mangen::Man::new(cmd.clone());
    man.render_title(w)?;
    man.render_name_section(w)?;
    man.render_synopsis_section(w)?;
    man.render_description_section(w)?;
    man.render_options_section(w)?;
    man.render_subcommands_section(w)?;
    // Fixed text from this file only (no user data): plain roff.
    writeln!(w, ".SH \"EXIT STATUS\"")?;
    for (code, meaning) in EXIT_CODES {
        writeln!(w, ".TP\n{code}\n{}", roff_text(meaning))?;
    }
    writeln!(w, ".SH ENVIRONMENT")?;
    writeln!(
        w,
        ".TP\nROWTRAIL_DATA_DIR\nThe workspace directory, when --data-dir is not given."
    )?;
    writeln!(w, ".TP\nROWTRAIL_PG_PASSWORD, PGPASSWORD\nThe PostgreSQL password (passwords are never stored; -W asks for one).")?;
    writeln!(w, ".SH FILES")?;
    writeln!(
        w,
        ".TP\n~/.local/share/rowtrail/cache.sqlite\nThe default workspace's cache. It is only a cache: delete it and rowtrail sync rebuilds what the sources still hold."
    )?;
    writeln!(w, ".SH \"SEE ALSO\"")?;
    let subs: Vec<String> = cmd
        .get_subcommands()
        .filter(|s| !s.is_hide_set())
        .map(|s| format!(".BR rowtrail\\-{} (1)", s.get_name()))
        .collect();
    writeln!(w, "{}", subs.join(",\n"))?;
    writeln!(
        w,
        ".PP\nrowtrail-desktop, the desktop app over the same workspace."
    )?;
    man.render_version_section(w)?;
    Ok(())
}

/// Escapes text for a roff paragraph: backslashes, and a leading dot or quote that roff
/// would take for a request.
fn roff_text(s: &str) -> String {
    let s = s.replace('\\', "\\e").replace('-', "\\-");
    if s.starts_with('.') || s.starts_with('\'') {
        format!("\\&{s}")
    } else {
        s
    }
}
