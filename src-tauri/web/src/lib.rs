//! Rowtrail's HTTP face: the engine's [`Api`] as `POST /api/{command}`, its events as
//! server-sent events on `GET /api/events`, and the built UI as static files.
//!
//! The server can reach databases that can be written, so it is closed to everyone but the
//! person who started it:
//! - it listens on 127.0.0.1 only (there is no option to listen elsewhere);
//! - every `/api` request needs the token (32 random bytes, hex; `rowtrail serve` keeps one per
//!   workspace in a file only the user can read) printed in the URL as a fragment (`#token=…`,
//!   never sent to a server or written to a log): the UI sends it as `Authorization: Bearer …`,
//!   and as `?token=` on the event stream only, since `EventSource` cannot set headers. When a
//!   page first loads with the token it trades it for a session cookie (`POST /api/session`:
//!   HttpOnly, `SameSite=Strict`, `Path=/api`, named after the port, gone when the browser
//!   closes), so a new tab, a reload or a download works without the fragment. A request that
//!   relies on the cookie must also come from the page itself: a `Sec-Fetch-Site` other than
//!   `same-origin` (or `none`, typed by the user) is refused. Tokens are compared in constant
//!   time;
//! - a request whose `Host` is not `127.0.0.1:PORT` or `localhost:PORT` is refused (421), and
//!   so is one carrying an `Origin` other than the served origin (403): a web page on another
//!   site, or a DNS name rebound to 127.0.0.1, cannot talk to it;
//! - no CORS headers are ever sent, so browsers keep other origins out;
//! - every response carries a strict Content-Security-Policy and `X-Content-Type-Options: nosniff`.
//!
//! Static UI files need no token (they hold no data).

use std::future::Future;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::{Path as UrlPath, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use axum::Router;
use futures_util::stream::{self, Stream};
use rowtrail_core::api::{Api, ApiError, ErrorCode, ServerEvent};
use serde_json::{json, Value};
use tokio::net::TcpListener;
use tokio::sync::broadcast::error::RecvError;
use tokio_util::sync::CancellationToken;

/// The Content-Security-Policy of every response.
pub const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

/// Environment variable naming the built UI directory.
pub const UI_DIR_ENV: &str = "ROWTRAIL_UI_DIR";

/// Largest request body accepted (a command's JSON arguments).
const MAX_BODY: usize = 4 * 1024 * 1024;

/// How `serve` runs.
#[derive(Debug, Clone, Default)]
pub struct WebOptions {
    /// Port on 127.0.0.1; 0 picks a free one.
    pub port: u16,
    /// The built UI (`ui/dist`); `None` serves a page that says how to build it.
    pub ui_dir: Option<PathBuf>,
    /// The token to require (64 hex digits, as [`new_token`] makes); `None` makes a fresh one.
    pub token: Option<String>,
}

/// Finds the built UI: `explicit`, else `$ROWTRAIL_UI_DIR`, else `ui/dist` or `ui` next to
/// the executable (an installed layout) or in the source tree the executable was built in,
/// else `ui/dist` under the current directory. A directory counts when it holds `index.html`.
pub fn find_ui_dir(explicit: Option<&Path>) -> Option<PathBuf> {
    let ok = |p: &Path| p.join("index.html").is_file();
    if let Some(p) = explicit {
        return Some(p.to_path_buf());
    }
    if let Some(p) = std::env::var_os(UI_DIR_ENV).map(PathBuf::from) {
        return Some(p);
    }
    let mut candidates = Vec::new();
    if let Some(exe_dir) = std::env::current_exe().ok().and_then(|e| e.parent().map(Path::to_path_buf)) {
        candidates.push(exe_dir.join("ui"));
        candidates.push(exe_dir.join("ui").join("dist"));
        // target/{debug,release}/rowtrail inside the repository.
        if let Some(repo) = exe_dir.parent().and_then(Path::parent) {
            candidates.push(repo.join("ui").join("dist"));
        }
    }
    if let Ok(cwd) = std::env::current_dir() {
        candidates.push(cwd.join("ui").join("dist"));
    }
    candidates.into_iter().find(|p| ok(p))
}

struct Shared {
    api: Api,
    token: String,
    port: u16,
    ui_dir: Option<PathBuf>,
    shutdown: CancellationToken,
}

/// A bound (not yet serving) HTTP face.
pub struct WebServer {
    listener: TcpListener,
    shared: Arc<Shared>,
}

impl WebServer {
    /// Binds 127.0.0.1:`opts.port`, with `opts.token` or a fresh one.
    pub async fn bind(api: Api, opts: WebOptions) -> std::io::Result<WebServer> {
        let token = match opts.token {
            Some(t) if is_token(&t) => t,
            Some(_) => return Err(std::io::Error::new(std::io::ErrorKind::InvalidInput, "a token must be 64 hexadecimal digits")),
            None => new_token()?,
        };
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, opts.port)).await.map_err(|e| {
            std::io::Error::new(
                e.kind(),
                format!("cannot listen on 127.0.0.1:{}: {e} (choose another port with --port, or --port 0 for any free one)", opts.port),
            )
        })?;
        let port = listener.local_addr()?.port();
        Ok(WebServer {
            listener,
            shared: Arc::new(Shared {
                api,
                token,
                port,
                ui_dir: opts.ui_dir,
                shutdown: CancellationToken::new(),
            }),
        })
    }

    /// The address it listens on.
    pub fn local_addr(&self) -> SocketAddr {
        SocketAddr::from((Ipv4Addr::LOCALHOST, self.shared.port))
    }

    /// The token every API request needs.
    pub fn token(&self) -> &str {
        &self.shared.token
    }

    /// The address to open, token included (as a fragment, so it never reaches a log).
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/#token={}", self.shared.port, self.shared.token)
    }

    /// The UI directory served, if any.
    pub fn ui_dir(&self) -> Option<&Path> {
        self.shared.ui_dir.as_deref()
    }

    /// Serves until `shutdown` completes; then ends the event streams and returns.
    pub async fn run(self, shutdown: impl Future<Output = ()> + Send + 'static) -> std::io::Result<()> {
        let token = self.shared.shutdown.clone();
        let app = router(self.shared.clone());
        axum::serve(self.listener, app)
            .with_graceful_shutdown(async move {
                shutdown.await;
                token.cancel();
            })
            .await
    }
}

/// Whether `t` has the form of a token: 64 hexadecimal digits.
pub fn is_token(t: &str) -> bool {
    t.len() == 64 && t.bytes().all(|b| b.is_ascii_hexdigit())
}

/// A fresh token: 32 random bytes from the OS, as 64 hexadecimal digits.
pub fn new_token() -> std::io::Result<String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| std::io::Error::other(format!("no random numbers from the OS: {e}")))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// The file, in a workspace directory, that keeps `rowtrail serve`'s token.
pub const TOKEN_FILE: &str = "serve-token";

/// Where a workspace's token came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenOrigin {
    /// Read from the workspace's token file: addresses printed before still work.
    Kept,
    /// Made now and written to the file (none yet, `--new-token`, or the old one unusable).
    New,
}

/// The token of the workspace in `dir`: the one kept in its [`TOKEN_FILE`], or (when there is
/// none, it is malformed or others could read it, or `rotate`) a fresh one written there, readable
/// and writable by the user only (0600), so that a restarted `serve` answers to the address it
/// printed before and open pages reconnect.
pub fn workspace_token(dir: &Path, rotate: bool) -> std::io::Result<(String, TokenOrigin)> {
    let path = dir.join(TOKEN_FILE);
    if !rotate {
        if let Ok(text) = std::fs::read_to_string(&path) {
            let t = text.trim();
            if is_token(t) && private(&path) {
                return Ok((t.to_string(), TokenOrigin::Kept));
            }
        }
    }
    let token = new_token()?;
    let tmp = dir.join(format!("{TOKEN_FILE}.tmp"));
    let _ = std::fs::remove_file(&tmp);
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    {
        use std::io::Write;
        let mut f = opts
            .open(&tmp)
            .map_err(|e| std::io::Error::new(e.kind(), format!("cannot write the token file {}: {e}", tmp.display())))?;
        f.write_all(format!("{token}\n").as_bytes())?;
        f.sync_all()?;
    }
    std::fs::rename(&tmp, &path)
        .map_err(|e| std::io::Error::new(e.kind(), format!("cannot write the token file {}: {e}", path.display())))?;
    Ok((token, TokenOrigin::New))
}

/// Whether only its owner may read or write `path` (always true where modes do not exist).
fn private(path: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::metadata(path).map(|m| m.permissions().mode() & 0o077 == 0).unwrap_or(false)
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        true
    }
}

/// Compares two byte strings in time that depends only on their lengths.
fn same_secret(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let mut diff = 0u8;
    for (x, y) in a.iter().zip(b) {
        diff |= x ^ y;
    }
    std::hint::black_box(diff) == 0
}

fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/api/events", get(events).options(preflight))
        .route("/api/session", any(session))
        .route("/api/export/events", get(export_events).options(preflight))
        .route("/api/{command}", any(command))
        .fallback(static_file)
        .layer(middleware::from_fn_with_state(shared.clone(), guard))
        .with_state(shared)
}

fn refusal(status: StatusCode, code: &str, message: &str) -> Response {
    let mut r = (status, axum::Json(json!({"code": code, "message": message}))).into_response();
    r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

/// Checks `Host` and `Origin` on every request and adds the security headers to every answer.
async fn guard(State(s): State<Arc<Shared>>, req: Request, next: Next) -> Response {
    let mut res = match refuse_host_origin(&s, req.headers()) {
        None => next.run(req).await,
        Some(r) => r,
    };
    let h = res.headers_mut();
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    h.insert("cross-origin-opener-policy", HeaderValue::from_static("same-origin"));
    h.insert("cross-origin-resource-policy", HeaderValue::from_static("same-origin"));
    res
}

/// The refusal for a request with a foreign `Host` or `Origin`, if it has one.
fn refuse_host_origin(s: &Shared, headers: &HeaderMap) -> Option<Response> {
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("");
    let allowed = [format!("127.0.0.1:{}", s.port), format!("localhost:{}", s.port)];
    if !allowed.iter().any(|a| a.eq_ignore_ascii_case(host)) {
        return Some(refusal(
            StatusCode::MISDIRECTED_REQUEST,
            "wrong_host",
            &format!("this Rowtrail server answers only to http://127.0.0.1:{}/", s.port),
        ));
    }
    if let Some(origin) = headers.get(header::ORIGIN) {
        let expected = format!("http://{}", host.to_ascii_lowercase());
        if origin.to_str().map(|o| o != expected).unwrap_or(true) {
            return Some(refusal(
                StatusCode::FORBIDDEN,
                "foreign_origin",
                "requests from other web pages are refused",
            ));
        }
    }
    None
}

/// The name of the session cookie: per port, since browsers share cookies across the ports
/// of one host and two servers must not overwrite each other's.
fn cookie_name(port: u16) -> String {
    format!("rowtrail_{port}")
}

/// The session cookie's value, if the request carries it.
fn cookie_token(s: &Shared, headers: &HeaderMap) -> Option<String> {
    let name = cookie_name(s.port);
    headers.get_all(header::COOKIE).iter().filter_map(|v| v.to_str().ok()).find_map(|v| {
        v.split(';').find_map(|kv| {
            let (k, val) = kv.trim().split_once('=')?;
            (k == name).then(|| val.trim().to_string())
        })
    })
}

/// The refusal for a request without the right token, if it lacks it: the `Authorization`
/// header, `query_token` where the caller allows one, or the session cookie when the browser
/// says the request comes from the page itself.
fn refuse_token(s: &Shared, headers: &HeaderMap, query_token: Option<&str>) -> Option<Response> {
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .or(query_token);
    let ok = |t: &str| same_secret(t.trim().as_bytes(), s.token.as_bytes());
    if given.is_some_and(ok) {
        return None;
    }
    if given.is_none() {
        if let Some(c) = cookie_token(s, headers) {
            // Browsers attach cookies to requests other pages make; only the page's own count.
            let site = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok());
            if !matches!(site, None | Some("same-origin") | Some("none")) {
                return Some(refusal(
                    StatusCode::FORBIDDEN,
                    "foreign_origin",
                    "requests from other web pages are refused",
                ));
            }
            if ok(&c) {
                return None;
            }
        }
    }
    Some(refusal(
        StatusCode::UNAUTHORIZED,
        "unauthorized",
        "missing or wrong token: open the address `rowtrail serve` printed, including its #token=… part",
    ))
}

/// `POST /api/session`: with the token in `Authorization`, sets the session cookie so that new
/// tabs, reloads and downloads of this browser session work without the token in the address.
async fn session(State(s): State<Arc<Shared>>, method: Method, headers: HeaderMap) -> Response {
    if method != Method::POST {
        let mut r = refusal(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed", "the session is opened with POST");
        r.headers_mut().insert(header::ALLOW, HeaderValue::from_static("POST"));
        return r;
    }
    let bearer = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer "));
    if !bearer.is_some_and(|t| same_secret(t.trim().as_bytes(), s.token.as_bytes())) {
        return refusal(StatusCode::UNAUTHORIZED, "unauthorized", "missing or wrong token: open the address `rowtrail serve` printed, including its #token=… part");
    }
    let mut r = StatusCode::NO_CONTENT.into_response();
    let cookie = format!("{}={}; Path=/api; HttpOnly; SameSite=Strict", cookie_name(s.port), s.token);
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        r.headers_mut().insert(header::SET_COOKIE, v);
    }
    r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

/// `GET /api/export/events?format=csv|json&newest_first=true&filter={json}`: the filtered list
/// as a file download, streamed in the list's order with no row limit.
async fn export_events(State(s): State<Arc<Shared>>, headers: HeaderMap, uri: axum::http::Uri) -> Response {
    if let Some(r) = refuse_token(&s, &headers, None) {
        return r;
    }
    let mut args = serde_json::Map::new();
    for (k, v) in form_pairs(uri.query().unwrap_or("")) {
        let value = match k.as_str() {
            "filter" => match serde_json::from_str::<Value>(&v) {
                Ok(f) => f,
                Err(e) => return api_error(ApiError::bad_request(format!("export: the filter is not JSON: {e}"))),
            },
            "newest_first" => Value::Bool(v == "true" || v == "1"),
            "limit" => match v.parse::<u64>() {
                Ok(n) => Value::from(n),
                Err(_) => return api_error(ApiError::bad_request(format!("export: limit {v:?} is not a number"))),
            },
            _ => Value::String(v),
        };
        args.insert(k, value);
    }
    let req = match serde_json::from_value(Value::Object(args)) {
        Ok(r) => r,
        Err(e) => return api_error(ApiError::bad_request(format!("export: invalid arguments: {e}"))),
    };
    let export = match s.api.export_events_stream(req).await {
        Ok(x) => x,
        Err(e) => return api_error(e),
    };
    let body = Body::from_stream(stream::unfold(export.chunks, |mut rx| async move {
        let next = rx.recv().await?;
        Some((next.map(Bytes::from).map_err(|e| std::io::Error::other(e.message)), rx))
    }));
    let mut r = (StatusCode::OK, body).into_response();
    let h = r.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&export.content_type) {
        h.insert(header::CONTENT_TYPE, v);
    }
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{}\"", export.filename)) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

/// `application/x-www-form-urlencoded` pairs of a query string.
fn form_pairs(q: &str) -> Vec<(String, String)> {
    let dec = |s: &str| percent_encoding::percent_decode_str(&s.replace('+', " ")).decode_utf8_lossy().into_owned();
    q.split('&')
        .filter(|kv| !kv.is_empty())
        .map(|kv| match kv.split_once('=') {
            Some((k, v)) => (dec(k), dec(v)),
            None => (dec(kv), String::new()),
        })
        .collect()
}

fn status_of(code: ErrorCode) -> StatusCode {
    match code {
        ErrorCode::BadRequest => StatusCode::BAD_REQUEST,
        ErrorCode::NotFound => StatusCode::NOT_FOUND,
        ErrorCode::Conflict => StatusCode::CONFLICT,
        ErrorCode::SourceError | ErrorCode::EventsLost => StatusCode::BAD_GATEWAY,
        ErrorCode::Internal => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

fn api_error(e: ApiError) -> Response {
    let mut r = (status_of(e.code), axum::Json(e)).into_response();
    r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

/// Answers a CORS preflight with no grant: browsers then refuse the cross-origin request.
async fn preflight() -> Response {
    let mut r = StatusCode::NO_CONTENT.into_response();
    r.headers_mut().insert(header::ALLOW, HeaderValue::from_static("GET, POST"));
    r
}

/// `POST /api/{command}`.
async fn command(State(s): State<Arc<Shared>>, UrlPath(cmd): UrlPath<String>, method: Method, headers: HeaderMap, body: Body) -> Response {
    if method == Method::OPTIONS {
        return preflight().await;
    }
    if method != Method::POST {
        let mut r = refusal(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed", "API commands are called with POST");
        r.headers_mut().insert(header::ALLOW, HeaderValue::from_static("POST"));
        return r;
    }
    if let Some(r) = refuse_token(&s, &headers, None) {
        return r;
    }
    let bytes: Bytes = match axum::body::to_bytes(body, MAX_BODY).await {
        Ok(b) => b,
        Err(_) => return api_error(ApiError::bad_request(format!("the request body is larger than {} MiB", MAX_BODY >> 20))),
    };
    let args: Value = if bytes.iter().all(u8::is_ascii_whitespace) {
        Value::Null
    } else {
        match serde_json::from_slice(&bytes) {
            Ok(v) => v,
            Err(e) => return api_error(ApiError::bad_request(format!("{cmd}: the body is not JSON: {e}"))),
        }
    };
    match s.api.call(&cmd, args).await {
        Ok(v) => {
            let mut r = axum::Json(v).into_response();
            r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            r
        }
        Err(e) => api_error(e),
    }
}

/// The `token` query parameter of the event stream.
fn query_token(uri: &axum::http::Uri) -> Option<String> {
    uri.query()?.split('&').find_map(|kv| {
        let (k, v) = kv.split_once('=')?;
        (k == "token").then(|| v.to_string())
    })
}

/// `GET /api/events`: server-sent events, one JSON [`ServerEvent`] per message.
async fn events(State(s): State<Arc<Shared>>, headers: HeaderMap, uri: axum::http::Uri) -> Response {
    let qt = query_token(&uri);
    if let Some(r) = refuse_token(&s, &headers, qt.as_deref()) {
        return r;
    }
    let rx = s.api.subscribe();
    let stop = s.shutdown.clone();
    let mut r = Sse::new(event_stream(rx, stop)).keep_alive(KeepAlive::default()).into_response();
    r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

fn event_stream(
    rx: tokio::sync::broadcast::Receiver<ServerEvent>,
    stop: CancellationToken,
) -> impl Stream<Item = Result<Event, std::convert::Infallible>> {
    stream::unfold((rx, stop), |(mut rx, stop)| async move {
        let ev = tokio::select! {
            _ = stop.cancelled() => return None,
            r = rx.recv() => match r {
                Ok(e) => e,
                Err(RecvError::Lagged(n)) => ServerEvent::Lagged { missed: n },
                Err(RecvError::Closed) => return None,
            },
        };
        let data = serde_json::to_string(&ev).unwrap_or_else(|_| "{}".into());
        Some((Ok(Event::default().data(data)), (rx, stop)))
    })
}

const NO_UI_PAGE: &str = "<!doctype html>
<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Rowtrail</title></head>
<body>
<h1>Rowtrail is running, but its UI is not built</h1>
<p>The API answers at <code>/api/</code>. To get the UI, build it once and start <code>rowtrail serve</code> again:</p>
<pre>cd ui &amp;&amp; npm ci &amp;&amp; npm run build</pre>
<p>or point <code>rowtrail serve --ui-dir DIR</code> (or <code>ROWTRAIL_UI_DIR</code>) at a built UI.</p>
</body></html>
";

fn content_type(path: &Path) -> &'static str {
    match path.extension().and_then(|e| e.to_str()).unwrap_or("").to_ascii_lowercase().as_str() {
        "html" | "htm" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "json" | "map" => "application/json",
        "webmanifest" => "application/manifest+json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "ico" => "image/x-icon",
        "woff2" => "font/woff2",
        "woff" => "font/woff",
        "ttf" => "font/ttf",
        "wasm" => "application/wasm",
        "txt" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

fn html(status: StatusCode, body: &'static str) -> Response {
    let mut r = (status, body).into_response();
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
    r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    r
}

/// Everything that is not `/api`: a file of the built UI, or `index.html` for app routes.
async fn static_file(State(s): State<Arc<Shared>>, method: Method, uri: axum::http::Uri) -> Response {
    if method != Method::GET && method != Method::HEAD {
        let mut r = StatusCode::METHOD_NOT_ALLOWED.into_response();
        r.headers_mut().insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
        return r;
    }
    let path = uri.path();
    if path.starts_with("/api/") || path == "/api" {
        return refusal(StatusCode::NOT_FOUND, "not_found", "no such API endpoint");
    }
    let Some(dir) = &s.ui_dir else {
        return html(StatusCode::OK, NO_UI_PAGE);
    };
    let Ok(decoded) = percent_encoding::percent_decode_str(path).decode_utf8() else {
        return (StatusCode::NOT_FOUND, "not found").into_response();
    };
    let rel = Path::new(decoded.trim_start_matches('/'));
    let safe = rel.components().all(|c| matches!(c, Component::Normal(n) if !n.to_string_lossy().starts_with('.')));
    let is_asset = rel.extension().is_some();
    let file = if safe && !rel.as_os_str().is_empty() { Some(dir.join(rel)) } else { None };
    let (file, status) = match file {
        Some(f) if f.is_file() && within(dir, &f) => (f, StatusCode::OK),
        // A missing asset is a 404, never the app page (a script must not get HTML).
        Some(_) if is_asset => return (StatusCode::NOT_FOUND, "not found").into_response(),
        _ => (dir.join("index.html"), StatusCode::OK),
    };
    match tokio::fs::read(&file).await {
        Ok(bytes) => {
            let mut r = (status, bytes).into_response();
            let h = r.headers_mut();
            h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type(&file)));
            let immutable = rel.starts_with("assets") && file != dir.join("index.html");
            h.insert(
                header::CACHE_CONTROL,
                HeaderValue::from_static(if immutable { "public, max-age=31536000, immutable" } else { "no-cache" }),
            );
            r
        }
        Err(_) => html(StatusCode::OK, NO_UI_PAGE),
    }
}

/// Whether `file` (existing) resolves inside `dir` (no symlink leads out).
fn within(dir: &Path, file: &Path) -> bool {
    match (dir.canonicalize(), file.canonicalize()) {
        (Ok(d), Ok(f)) => f.starts_with(d),
        _ => false,
    }
}

#[cfg(test)]
mod tests;
