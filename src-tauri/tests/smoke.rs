//! Smoke test of the real desktop build: the app under Xvfb, driven through `tauri-driver`
//! and WebKitWebDriver (Debian's `webkit2gtk-driver`) over WebDriver's HTTP protocol.
//!
//! It starts the app on a fresh workspace, waits for the built-in demo's Changes list, opens
//! one record, checks that its history shows, and takes screenshots. Then it starts the app
//! again on the same workspace (the usual case: the demo already captured), three times
//! (`ROWTRAIL_SMOKE_RUNS`). The start times — launch to the Changes list showing rows — are
//! printed and written with the screenshots to `target/desktop-smoke/` (`ROWTRAIL_SMOKE_OUT`
//! overrides). They are measurements, not assertions. The app is the debug build cargo made
//! for this test; `ROWTRAIL_DESKTOP_APP` names another (the release build, to time it).
//!
//! Needs the built UI (`ui/dist`), `tauri-driver` (`src-tauri/scripts/install-tauri-driver.sh`
//! puts it in `target/tools/bin`; `TAURI_DRIVER` overrides), `WebKitWebDriver` and `Xvfb`
//! (unless `DISPLAY` is set). Ignored by plain `cargo test`; `make test-desktop` runs it.

use std::io::Read;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine;
use serde_json::{json, Value};

/// The key WebDriver uses for element references.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A child process killed (and reaped) when dropped.
struct Proc {
    name: &'static str,
    child: Child,
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Proc {
    fn check_alive(&mut self) {
        if let Ok(Some(status)) = self.child.try_wait() {
            panic!("{} exited early ({status}); see its log in the output directory", self.name);
        }
    }
}

/// Starts Xvfb on a free display unless `DISPLAY` is set; answers the display to use.
fn display() -> (String, Option<Proc>) {
    if let Ok(d) = std::env::var("DISPLAY") {
        if !d.is_empty() {
            return (d, None);
        }
    }
    for n in 90..200 {
        if Path::new(&format!("/tmp/.X{n}-lock")).exists() || Path::new(&format!("/tmp/.X11-unix/X{n}")).exists() {
            continue;
        }
        let child = Command::new("Xvfb")
            .args([format!(":{n}").as_str(), "-screen", "0", "1280x800x24", "-nolisten", "tcp"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("Xvfb not found: install the Debian package xvfb (.ci/install-deps does)");
        let mut xvfb = Proc { name: "Xvfb", child };
        let socket = format!("/tmp/.X11-unix/X{n}");
        let until = Instant::now() + Duration::from_secs(10);
        while !Path::new(&socket).exists() {
            xvfb.check_alive();
            assert!(Instant::now() < until, "Xvfb :{n} did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
        return (format!(":{n}"), Some(xvfb));
    }
    panic!("no free X display between :90 and :199");
}

fn tauri_driver() -> PathBuf {
    if let Some(p) = std::env::var_os("TAURI_DRIVER") {
        return PathBuf::from(p);
    }
    let local = workspace_root().join("target/tools/bin/tauri-driver");
    assert!(
        local.exists(),
        "tauri-driver not found at {}: run src-tauri/scripts/install-tauri-driver.sh (or set TAURI_DRIVER)",
        local.display()
    );
    local
}

/// A minimal WebDriver client.
struct Driver {
    http: reqwest::Client,
    base: String,
    session: String,
}

impl Driver {
    async fn request(http: &reqwest::Client, method: reqwest::Method, url: &str, body: Option<Value>) -> Value {
        let mut req = http.request(method.clone(), url);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.unwrap_or_else(|e| panic!("{method} {url}: {e}"));
        let status = resp.status();
        let v: Value = resp.json().await.unwrap_or(Value::Null);
        assert!(status.is_success(), "{method} {url}: {status}: {v}");
        v["value"].clone()
    }

    /// Opens a session: tauri-driver starts the app.
    async fn start(port: u16, app: &Path) -> Driver {
        let http = reqwest::Client::builder().timeout(Duration::from_secs(60)).build().unwrap();
        let base = format!("http://127.0.0.1:{port}");
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "wry",
            "tauri:options": {"application": app}
        }}});
        let v = Driver::request(&http, reqwest::Method::POST, &format!("{base}/session"), Some(caps)).await;
        let session = v["sessionId"].as_str().expect("no sessionId").to_string();
        Driver { http, base, session }
    }

    async fn cmd(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let url = format!("{}/session/{}{}", self.base, self.session, path);
        Driver::request(&self.http, method, &url, body).await
    }

    async fn find_all(&self, css: &str) -> Vec<String> {
        let v = self
            .cmd(reqwest::Method::POST, "/elements", Some(json!({"using": "css selector", "value": css})))
            .await;
        v.as_array()
            .map(|a| a.iter().filter_map(|e| e[ELEMENT].as_str().map(String::from)).collect())
            .unwrap_or_default()
    }

    /// Waits until `css` matches at least one element; answers them.
    async fn wait_for(&self, css: &str, timeout: Duration) -> Vec<String> {
        let until = Instant::now() + timeout;
        loop {
            let found = self.find_all(css).await;
            if !found.is_empty() {
                return found;
            }
            if Instant::now() > until {
                let html = self.script("return document.body ? document.body.innerText : ''").await;
                panic!("timed out after {timeout:?} waiting for {css}; the page shows: {html}");
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    async fn text(&self, el: &str) -> String {
        self.cmd(reqwest::Method::GET, &format!("/element/{el}/text"), None)
            .await
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    async fn click(&self, el: &str) {
        self.cmd(reqwest::Method::POST, &format!("/element/{el}/click"), Some(json!({}))).await;
    }

    async fn script(&self, js: &str) -> Value {
        self.cmd(reqwest::Method::POST, "/execute/sync", Some(json!({"script": js, "args": []}))).await
    }

    async fn screenshot(&self, to: &Path) {
        let v = self.cmd(reqwest::Method::GET, "/screenshot", None).await;
        let png = base64::engine::general_purpose::STANDARD
            .decode(v.as_str().expect("screenshot is not a string"))
            .expect("screenshot is not base64");
        assert!(png.starts_with(b"\x89PNG"), "screenshot is not a PNG");
        std::fs::write(to, png).unwrap();
    }

    async fn quit(self) {
        let url = format!("{}/session/{}", self.base, self.session);
        let _ = self.http.delete(url).send().await;
    }
}

fn wait_port(port: u16, proc: &mut Proc) {
    let until = Instant::now() + Duration::from_secs(20);
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    while TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_err() {
        proc.check_alive();
        assert!(Instant::now() < until, "{} did not listen on {port}", proc.name);
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// One launch of the app: times it to the Changes list and, when `explore` names the
/// workspace's demo database, opens a record, goes back, and changes the demo database to see
/// the change arrive through the event channel.
async fn launch(driver_port: u16, app: &Path, out: &Path, tag: &str, explore: Option<&Path>) -> Value {
    let started = Instant::now();
    let d = Driver::start(driver_port, app).await;
    let session_at = started.elapsed();
    d.wait_for("[data-testid=screen-changes]", Duration::from_secs(30)).await;
    let screen_at = started.elapsed();
    let rows = d.wait_for("[data-testid=event-row]", Duration::from_secs(60)).await;
    let rows_at = started.elapsed();
    // The page's own clock: from the start of its navigation to now (rows on screen).
    let page_ms = d.script("return Math.round(performance.now())").await;
    println!(
        "{tag}: session {} ms, Changes screen {} ms, first rows {} ms ({} rows drawn; page loaded and drew them in {page_ms} ms)",
        session_at.as_millis(),
        screen_at.as_millis(),
        rows_at.as_millis(),
        rows.len()
    );
    let mut timing = json!({
        "session_ms": session_at.as_millis() as u64,
        "changes_screen_ms": screen_at.as_millis() as u64,
        "first_rows_ms": rows_at.as_millis() as u64,
        "page_ms": page_ms,
    });
    d.screenshot(&out.join(format!("{tag}-changes.png"))).await;

    if let Some(demo_db) = explore {
        // The page runs under the strict CSP and still reached the backend through IPC.
        let first = d.text(&rows[0]).await;
        assert!(!first.trim().is_empty(), "the first change row is empty");
        d.click(&rows[0]).await;
        d.wait_for("[data-testid=screen-record]", Duration::from_secs(20)).await;
        let title = d.wait_for("[data-testid=record-title]", Duration::from_secs(20)).await;
        let title = d.text(&title[0]).await;
        let versions = d.wait_for("[data-testid=version-item]", Duration::from_secs(20)).await;
        println!("{tag}: opened record {title:?}: {} versions listed", versions.len());
        assert!(!title.trim().is_empty(), "the record has no title");
        d.wait_for("[data-testid=field-changes], [data-testid=field-change], [data-testid=diff]", Duration::from_secs(20))
            .await;
        d.screenshot(&out.join(format!("{tag}-record.png"))).await;
        timing["record_title"] = json!(title);
        timing["versions"] = json!(versions.len());

        // The event stream is open (the subscribe channel works under the capabilities).
        let stream = d.script("return document.querySelector('[data-testid=stream-state]')?.dataset.state ?? null").await;
        println!("{tag}: event stream state {stream}");
        assert_eq!(stream, json!("open"), "the page's event stream is not open");
        timing["stream_state"] = stream;

        // The theme remembered from View → Theme is on the page from the start, and the page's
        // own theme button is hidden: in the app the menu owns the theme.
        let theme = d
            .script("return [document.documentElement.dataset.theme ?? null, !!document.querySelector('[data-testid=theme-toggle]')]")
            .await;
        assert_eq!(theme, json!(["dark", false]), "[data-theme, theme button shown] on a start with Dark remembered");

        // The strict CSP is in force: an inline script added to the page does not run.
        let inline_ran = d
            .script(
                "window.__rtInline = false; const s = document.createElement('script'); \
                 s.textContent = 'window.__rtInline = true'; document.head.appendChild(s); s.remove(); \
                 return window.__rtInline",
            )
            .await;
        assert_eq!(inline_ran, json!(false), "an inline script ran: the CSP is not applied");

        // Back to the list (a same-document navigation, which must not cut the event
        // stream), then a change in the demo database: the watching source captures it, the
        // engine announces it on the channel, and the list's count goes up.
        d.script("history.back(); return null").await;
        let count_el = d.wait_for("[data-testid=screen-changes] [data-testid=event-count]", Duration::from_secs(20)).await;
        let before = d.text(&count_el[0]).await;
        let db = rusqlite::Connection::open(demo_db).unwrap();
        db.busy_timeout(Duration::from_secs(5)).unwrap();
        let changed = db.execute("UPDATE shp SET notes = 'changed by the desktop smoke test' WHERE id = 1001", []).unwrap();
        assert_eq!(changed, 1, "the demo has no shipment 1001");
        drop(db);
        let until = Instant::now() + Duration::from_secs(20);
        loop {
            let count_el = d.find_all("[data-testid=screen-changes] [data-testid=event-count]").await;
            let now = match count_el.first() {
                Some(el) => d.text(el).await,
                None => String::new(),
            };
            if !now.is_empty() && now != before {
                println!("{tag}: live change arrived: {before:?} -> {now:?}");
                break;
            }
            assert!(Instant::now() < until, "the change to the demo database did not reach the list ({before:?} still)");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    d.quit().await;
    timing
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the desktop build, tauri-driver, WebKitWebDriver and Xvfb: make test-desktop"]
async fn desktop_app_opens_demo_and_a_record() {
    let app = std::env::var_os("ROWTRAIL_DESKTOP_APP")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_rowtrail-desktop")));
    let app = std::path::absolute(&app).unwrap();
    let runs: usize = std::env::var("ROWTRAIL_SMOKE_RUNS").ok().and_then(|r| r.parse().ok()).unwrap_or(3);
    let out = std::env::var_os("ROWTRAIL_SMOKE_OUT")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target/desktop-smoke"));
    std::fs::create_dir_all(&out).unwrap();
    let driver_bin = tauri_driver();

    // A fresh workspace and a fresh home: nothing of the user's (window state, WebKit caches,
    // the last workspace) is read or written.
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("workspace");
    let home = tmp.path().join("home");
    std::fs::create_dir_all(&home).unwrap();
    // View → Theme → Dark, chosen in an earlier session.
    let config = home.join(".config/dev.rowtrail.desktop");
    std::fs::create_dir_all(&config).unwrap();
    std::fs::write(config.join("theme"), "theme-dark").unwrap();

    let (display, _xvfb) = display();
    let port = free_port();
    let native_port = free_port();
    let log = std::fs::File::create(out.join("tauri-driver.log")).unwrap();
    let child = Command::new(&driver_bin)
        .args(["--port", &port.to_string(), "--native-port", &native_port.to_string()])
        .env("DISPLAY", &display)
        .env("ROWTRAIL_DATA_DIR", &data)
        .env("HOME", &home)
        .env("XDG_CONFIG_HOME", home.join(".config"))
        .env("XDG_DATA_HOME", home.join(".local/share"))
        .env("XDG_CACHE_HOME", home.join(".cache"))
        .env_remove("WAYLAND_DISPLAY")
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", driver_bin.display()));
    let mut driver = Proc { name: "tauri-driver", child };
    // tauri-driver listens at once, but answers "connection refused" until the
    // WebKitWebDriver it started listens too.
    wait_port(port, &mut driver);
    wait_port(native_port, &mut driver);

    let first = launch(port, &app, &out, "first-run", Some(&data.join("demo.sqlite"))).await;
    assert!(data.join("cache.sqlite").exists(), "the app did not create its workspace in ROWTRAIL_DATA_DIR");
    assert!(data.join("demo.sqlite").exists(), "the first run did not create the demo");
    let mut again = Vec::new();
    for i in 0..runs {
        again.push(launch(port, &app, &out, &format!("run-{}", i + 2), None).await);
    }
    let mut rows_ms: Vec<u64> = again.iter().filter_map(|t| t["first_rows_ms"].as_u64()).collect();
    rows_ms.sort_unstable();
    let median = rows_ms.get(rows_ms.len() / 2).copied();
    println!("start to first rows on an existing workspace: median {median:?} ms of {rows_ms:?}");

    let timings = json!({
        "app": app,
        "first_run": first,
        "later_runs": again,
        "later_runs_first_rows_median_ms": median,
    });
    std::fs::write(out.join("timings.json"), serde_json::to_string_pretty(&timings).unwrap()).unwrap();
    println!("screenshots and timings in {}", out.display());

    drop(driver);
    let mut driver_log = String::new();
    if let Ok(mut f) = std::fs::File::open(out.join("tauri-driver.log")) {
        let _ = f.read_to_string(&mut driver_log);
    }
    assert!(!driver_log.contains("panicked"), "the app or driver panicked:\n{driver_log}");
}
