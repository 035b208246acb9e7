//! A real server on an ephemeral port, driven over real HTTP.

use std::time::Duration;

use reqwest::header::{ACCESS_CONTROL_ALLOW_ORIGIN, AUTHORIZATION, CONTENT_SECURITY_POLICY, CONTENT_TYPE, HOST, ORIGIN, X_CONTENT_TYPE_OPTIONS};
use reqwest::{Client, Method, StatusCode};
use rowtrail_core::cache::Cache;
use rowtrail_core::workspace::Workspace;
use serde_json::{json, Value};

use super::*;

struct Running {
    _dir: tempfile::TempDir,
    base: String,
    port: u16,
    token: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    done: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Running {
    async fn stop(mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        tokio::time::timeout(Duration::from_secs(10), &mut self.done)
            .await
            .expect("the server stops promptly, event streams included")
            .unwrap()
            .unwrap();
    }
}

/// A workspace with the demo database added as a source (not yet read), served.
async fn serve(ui: Option<&[(&str, &str)]>) -> Running {
    let dir = tempfile::tempdir().unwrap();
    let ws = Workspace::resolve(Some(dir.path()));
    let info = rowtrail_core::demo::create(&ws.demo_db_path()).unwrap();
    {
        let cache = Cache::open(&ws.cache_path()).unwrap();
        rowtrail_core::sync::add_sqlite_source(&cache, "demo", &info.path, None).unwrap();
    }
    let ui_dir = ui.map(|files| {
        let d = dir.path().join("dist");
        for (name, body) in files {
            let p = d.join(name);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, body).unwrap();
        }
        d
    });
    let api = Api::open(&ws).unwrap();
    let server = WebServer::bind(api, WebOptions { port: 0, ui_dir, token: None }).await.unwrap();
    assert!(server.local_addr().ip().is_loopback());
    let port = server.local_addr().port();
    let token = server.token().to_string();
    assert_eq!(token.len(), 64);
    assert!(token.chars().all(|c| c.is_ascii_hexdigit()));
    assert_eq!(server.url(), format!("http://127.0.0.1:{port}/#token={token}"));
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let done = tokio::spawn(server.run(async move {
        let _ = rx.await;
    }));
    Running {
        _dir: dir,
        base: format!("http://127.0.0.1:{port}"),
        port,
        token,
        stop: Some(tx),
        done,
    }
}

fn client() -> Client {
    Client::builder().timeout(Duration::from_secs(30)).build().unwrap()
}

impl Running {
    fn post(&self, cmd: &str) -> reqwest::RequestBuilder {
        client().post(format!("{}/api/{cmd}", self.base))
    }

    async fn call(&self, cmd: &str, args: Value) -> (StatusCode, Value) {
        let r = self
            .post(cmd)
            .header(AUTHORIZATION, format!("Bearer {}", self.token))
            .json(&args)
            .send()
            .await
            .unwrap();
        let status = r.status();
        (status, r.json().await.unwrap())
    }
}

fn assert_hardened(r: &reqwest::Response) {
    assert_eq!(r.headers()[CONTENT_SECURITY_POLICY], CSP);
    assert_eq!(r.headers()[X_CONTENT_TYPE_OPTIONS], "nosniff");
    assert!(r.headers().get(ACCESS_CONTROL_ALLOW_ORIGIN).is_none());
    assert!(!r.headers().keys().any(|k| k.as_str().starts_with("access-control-")));
}

#[tokio::test]
async fn a_call_with_the_token_works() {
    let s = serve(None).await;
    let r = s
        .post("workspace_info")
        .header(AUTHORIZATION, format!("Bearer {}", s.token))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_hardened(&r);
    assert_eq!(r.headers()["cache-control"], "no-store");
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["source_count"], 1);
    // The page's own origin is allowed, under either name.
    let r = s
        .post("list_sources")
        .header(AUTHORIZATION, format!("Bearer {}", s.token))
        .header(ORIGIN, format!("http://127.0.0.1:{}", s.port))
        .json(&json!({"slots": false}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let r = s
        .post("list_sources")
        .header(AUTHORIZATION, format!("Bearer {}", s.token))
        .header(HOST, format!("localhost:{}", s.port))
        .header(ORIGIN, format!("http://localhost:{}", s.port))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    // API errors come back as {code, message} with a fitting status.
    let (st, v) = s.call("no_such_command", json!({})).await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert_eq!(v["code"], "bad_request");
    assert!(v["message"].as_str().unwrap().contains("no_such_command"));
    let (st, v) = s.call("record_history", json!({"table": "nope", "key": [1]})).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    assert_eq!(v["code"], "not_found");
    let r = s
        .post("list_events")
        .header(AUTHORIZATION, format!("Bearer {}", s.token))
        .header(CONTENT_TYPE, "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    s.stop().await;
}

#[tokio::test]
async fn every_refusal() {
    let s = serve(None).await;
    // No token, a wrong one, one of another length, one in the query of a POST.
    let r = s.post("workspace_info").send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert_hardened(&r);
    let wrong: String = s.token.chars().map(|c| if c == '0' { '1' } else { '0' }).collect();
    for bad in [wrong.as_str(), "short", ""] {
        let r = s.post("workspace_info").header(AUTHORIZATION, format!("Bearer {bad}")).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "{bad}");
    }
    let r = client()
        .post(format!("{}/api/workspace_info?token={}", s.base, s.token))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "the query token is for the event stream only");
    // A foreign Host (DNS rebinding: evil.example resolving to 127.0.0.1), even with the token.
    for host in ["evil.example".to_string(), format!("evil.example:{}", s.port), format!("127.0.0.1:{}", s.port + 1), "127.0.0.1".into()] {
        let r = s
            .post("workspace_info")
            .header(AUTHORIZATION, format!("Bearer {}", s.token))
            .header(HOST, host.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::MISDIRECTED_REQUEST, "{host}");
        assert_hardened(&r);
    }
    // A foreign Origin, even with the token and the right Host.
    for origin in ["http://evil.example".to_string(), "null".into(), format!("https://127.0.0.1:{}", s.port), format!("http://127.0.0.1:{}.evil.example", s.port)] {
        let r = s
            .post("workspace_info")
            .header(AUTHORIZATION, format!("Bearer {}", s.token))
            .header(ORIGIN, origin.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{origin}");
        assert_hardened(&r);
    }
    // A CORS preflight gets no grant, from a foreign page or our own.
    for origin in ["http://evil.example".to_string(), format!("http://127.0.0.1:{}", s.port)] {
        for path in ["/api/workspace_info", "/api/events"] {
            let r = client()
                .request(Method::OPTIONS, format!("{}{path}", s.base))
                .header(ORIGIN, origin.clone())
                .header("Access-Control-Request-Method", "POST")
                .header("Access-Control-Request-Headers", "authorization, content-type")
                .send()
                .await
                .unwrap();
            assert_hardened(&r);
        }
    }
    // Other methods on a command.
    let r = client()
        .get(format!("{}/api/workspace_info", s.base))
        .header(AUTHORIZATION, format!("Bearer {}", s.token))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::METHOD_NOT_ALLOWED);
    // The event stream needs the token too.
    let r = client().get(format!("{}/api/events", s.base)).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let r = client().get(format!("{}/api/events?token={wrong}", s.base)).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_sent_events_carry_the_progress_of_a_sync() {
    let s = serve(None).await;
    let mut stream = client()
        .get(format!("{}/api/events?token={}", s.base, s.token))
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), StatusCode::OK);
    assert_eq!(stream.headers()[CONTENT_TYPE], "text/event-stream");
    assert_hardened(&stream);
    let (st, started) = s.call("sync_source", json!({"name": "demo"})).await;
    assert_eq!(st, StatusCode::OK, "{started}");
    let mut seen: Vec<Value> = Vec::new();
    let mut buf = String::new();
    let found = tokio::time::timeout(Duration::from_secs(30), async {
        loop {
            let chunk = stream.chunk().await.unwrap().expect("the stream stays open");
            buf.push_str(&String::from_utf8_lossy(&chunk));
            while let Some(end) = buf.find("\n\n") {
                let msg: String = buf.drain(..end + 2).collect();
                for line in msg.lines() {
                    if let Some(data) = line.strip_prefix("data: ").or_else(|| line.strip_prefix("data:")) {
                        seen.push(serde_json::from_str(data).unwrap());
                    }
                }
            }
            let progress = seen.iter().any(|e| e["type"] == "progress" && e["source"] == "demo" && e["events"].as_u64() > Some(0));
            let finished = seen.iter().any(|e| e["type"] == "task_finished" && e["task_id"] == started["task_id"]);
            if progress && finished {
                return;
            }
        }
    })
    .await;
    assert!(found.is_ok(), "no progress and task_finished events: {seen:?}");
    let last = seen.iter().rev().find(|e| e["type"] == "progress").unwrap();
    assert!(last["events_per_sec"].is_number());
    let (_, count) = s.call("count_events", json!({})).await;
    assert!(count["count"].as_u64().unwrap() > 300);
    // Stopping the server ends the open stream instead of waiting for it.
    s.stop().await;
}

#[tokio::test]
async fn the_built_ui_is_served_with_a_spa_fallback() {
    let s = serve(Some(&[
        ("index.html", "<!doctype html><title>Rowtrail UI</title><script type=module src=/assets/app.js></script>"),
        ("assets/app.js", "console.log('rowtrail')"),
        ("favicon.svg", "<svg xmlns='http://www.w3.org/2000/svg'/>"),
    ]))
    .await;
    let get = |p: &str| client().get(format!("{}{p}", s.base)).send();
    // No token needed for the UI; every page is hardened.
    let r = get("/").await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_hardened(&r);
    assert_eq!(r.headers()[CONTENT_TYPE], "text/html; charset=utf-8");
    assert!(r.text().await.unwrap().contains("Rowtrail UI"));
    let r = get("/changes/123").await.unwrap();
    assert!(r.text().await.unwrap().contains("Rowtrail UI"), "app routes get index.html");
    let r = get("/assets/app.js").await.unwrap();
    assert_eq!(r.headers()[CONTENT_TYPE], "text/javascript; charset=utf-8");
    assert!(r.headers()["cache-control"].to_str().unwrap().contains("immutable"));
    let r = get("/favicon.svg").await.unwrap();
    assert_eq!(r.headers()[CONTENT_TYPE], "image/svg+xml");
    let r = get("/assets/missing.js").await.unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    for sneaky in ["/%2e%2e/%2e%2e/etc/passwd", "/..%2f..%2fetc%2fpasswd", "/.git/config"] {
        let r = get(sneaky).await.unwrap();
        let text = r.text().await.unwrap();
        assert!(!text.contains("root:"), "{sneaky}");
    }
    let r = get("/api/nothing/here").await.unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    // The Host check covers the UI too.
    let r = client().get(format!("{}/", s.base)).header(HOST, "evil.example").send().await.unwrap();
    assert_eq!(r.status(), StatusCode::MISDIRECTED_REQUEST);
    s.stop().await;

    // Without a built UI, a page says how to build it.
    let s = serve(None).await;
    let r = client().get(format!("{}/", s.base)).send().await.unwrap();
    assert_hardened(&r);
    assert!(r.text().await.unwrap().contains("cd ui &amp;&amp; npm ci &amp;&amp; npm run build"));
    s.stop().await;
}

/// The session cookie a page gets by showing its token once.
async fn session_cookie(s: &Running) -> String {
    let r = s.post("session").header(AUTHORIZATION, format!("Bearer {}", s.token)).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let set = r.headers()[reqwest::header::SET_COOKIE].to_str().unwrap().to_string();
    for attr in ["HttpOnly", "SameSite=Strict", "Path=/api"] {
        assert!(set.contains(attr), "{set}");
    }
    assert!(!set.contains("Expires") && !set.contains("Max-Age"), "a session cookie: {set}");
    set.split(';').next().unwrap().to_string()
}

#[tokio::test]
async fn a_session_cookie_lets_new_tabs_in_but_not_other_pages() {
    let s = serve(None).await;
    // Without the token, no cookie.
    let r = s.post("session").send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert!(r.headers().get(reqwest::header::SET_COOKIE).is_none());
    let r = s.post("session").header(AUTHORIZATION, "Bearer 00").send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let cookie = session_cookie(&s).await;
    assert_eq!(cookie, format!("rowtrail_{}={}", s.port, s.token), "named after the port");
    let with_cookie = |site: Option<&str>| {
        let mut b = s.post("workspace_info").header(reqwest::header::COOKIE, cookie.clone());
        if let Some(site) = site {
            b = b.header("sec-fetch-site", site);
        }
        b.send()
    };
    // The page itself (a new tab or a reload of it), or an address typed by the user.
    for site in [None, Some("same-origin"), Some("none")] {
        let r = with_cookie(site).await.unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{site:?}");
    }
    // Another page, even one on this machine (another port is the same site), is refused.
    for site in ["same-site", "cross-site"] {
        let r = with_cookie(Some(site)).await.unwrap();
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{site}");
        assert_hardened(&r);
    }
    let r = s
        .post("workspace_info")
        .header(reqwest::header::COOKIE, cookie.clone())
        .header(ORIGIN, "http://127.0.0.1:1")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // Another server's cookie, or a wrong value, is no key.
    for c in [format!("rowtrail_{}={}", s.port + 1, s.token), format!("rowtrail_{}={}", s.port, "0".repeat(64))] {
        let r = s.post("workspace_info").header(reqwest::header::COOKIE, c.clone()).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "{c}");
    }
    // The event stream takes the cookie too.
    let r = client().get(format!("{}/api/events", s.base)).header(reqwest::header::COOKIE, cookie.clone()).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    drop(r);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_list_downloads_whole_in_its_order() {
    let s = serve(None).await;
    let (st, started) = s.call("sync_source", json!({"name": "demo"})).await;
    assert_eq!(st, StatusCode::OK, "{started}");
    let total = tokio::time::timeout(Duration::from_secs(30), async {
        loop {
            let (_, c) = s.call("count_events", json!({})).await;
            let n = c["count"].as_u64().unwrap();
            if n > 300 {
                // Caught up when the count stays put.
                tokio::time::sleep(Duration::from_millis(300)).await;
                let (_, again) = s.call("count_events", json!({})).await;
                if again["count"] == c["count"] {
                    return n;
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
    .await
    .expect("the demo is read");
    let cookie = session_cookie(&s).await;
    let filter = percent_encoding::utf8_percent_encode(r#"{"op":"update"}"#, percent_encoding::NON_ALPHANUMERIC).to_string();
    let get = |q: String, cookie: Option<&str>| {
        let mut b = client().get(format!("{}/api/export/events?{q}", s.base));
        if let Some(c) = cookie {
            b = b.header(reqwest::header::COOKIE, c.to_string());
        }
        b.send()
    };
    let r = get("format=json&newest_first=true".into(), Some(&cookie)).await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_hardened(&r);
    assert_eq!(r.headers()[CONTENT_TYPE], "application/x-ndjson");
    assert_eq!(r.headers()["content-disposition"], "attachment; filename=\"events.jsonl\"");
    let ids: Vec<i64> = r.text().await.unwrap().lines().map(|l| serde_json::from_str::<Value>(l).unwrap()["id"].as_i64().unwrap()).collect();
    assert_eq!(ids.len() as u64, total, "every row");
    assert!(ids.windows(2).all(|w| w[0] > w[1]), "newest first");
    let (_, page) = s.call("list_events", json!({"before_id": i64::MAX, "limit": 5})).await;
    let newest: Vec<i64> = page["events"].as_array().unwrap().iter().rev().map(|e| e["id"].as_i64().unwrap()).collect();
    assert_eq!(ids[..5], newest[..]);
    // CSV of a filter, oldest first.
    let r = get(format!("format=csv&filter={filter}"), Some(&cookie)).await.unwrap();
    assert_eq!(r.headers()[CONTENT_TYPE], "text/csv; charset=utf-8");
    let text = r.text().await.unwrap();
    let (_, n) = s.call("count_events", json!({"filter": {"op": "update"}})).await;
    assert_eq!(text.lines().count() as u64, n["count"].as_u64().unwrap() + 1, "a header and every update");
    // The token is needed; a bad filter is an API error, not an empty file.
    let r = get("format=csv".into(), None).await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let r = get("format=csv".into(), Some(&cookie)).await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let r = client()
        .get(format!("{}/api/export/events?format=csv", s.base))
        .header(reqwest::header::COOKIE, cookie.clone())
        .header("sec-fetch-site", "same-site")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = get("format=csv&filter=%7B%22since%22%3A%22nope%22%7D".into(), Some(&cookie)).await.unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let r = get("format=xml".into(), Some(&cookie)).await.unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    s.stop().await;
}

#[test]
fn the_workspace_keeps_its_token_private() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let (a, o) = workspace_token(dir.path(), false).unwrap();
    assert_eq!(o, TokenOrigin::New);
    assert!(is_token(&a));
    let path = dir.path().join(TOKEN_FILE);
    assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
    let (b, o) = workspace_token(dir.path(), false).unwrap();
    assert_eq!((b.as_str(), o), (a.as_str(), TokenOrigin::Kept), "a restart keeps it");
    let (c, o) = workspace_token(dir.path(), true).unwrap();
    assert_eq!(o, TokenOrigin::New);
    assert_ne!(c, a, "--new-token rotates it");
    assert_eq!(workspace_token(dir.path(), false).unwrap().0, c);
    // A file others can read is no secret any more: replaced, and private again.
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    let (d, o) = workspace_token(dir.path(), false).unwrap();
    assert_eq!(o, TokenOrigin::New);
    assert_ne!(d, c);
    assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
    std::fs::write(&path, "not a token").unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    assert_eq!(workspace_token(dir.path(), false).unwrap().1, TokenOrigin::New);
}

#[test]
fn secrets_compare_by_content_and_length() {
    assert!(same_secret(b"abc", b"abc"));
    assert!(!same_secret(b"abc", b"abd"));
    assert!(!same_secret(b"abc", b"abcd"));
    assert!(!same_secret(b"", b"a"));
    assert_ne!(new_token().unwrap(), new_token().unwrap());
}

/// The engine stays free of every face: no HTTP server, no Tauri, no webview.
#[test]
fn the_engine_depends_on_no_face() {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = std::process::Command::new(cargo)
        .args(["tree", "-p", "rowtrail-core", "-e", "normal,build", "--prefix", "none", "--format", "{p}"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo tree runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let tree = String::from_utf8_lossy(&out.stdout);
    assert!(tree.lines().any(|l| l.starts_with("rowtrail-core ")), "{tree}");
    for l in tree.lines() {
        let name = l.split_whitespace().next().unwrap_or("");
        assert!(
            !(name.starts_with("axum") || name.starts_with("tauri") || name == "wry" || name.starts_with("webkit2gtk") || name == "rowtrail-web"),
            "rowtrail-core depends on {l}"
        );
    }
}
