//! Connection settings for a PostgreSQL source: the URL users paste, TLS, and the two
//! connections made from it (tokio-postgres for catalog queries, pgwire-replication for the
//! stream).
//!
//! TLS follows libpq's `sslmode` names, with a safer default: a remote host is verified
//! (`verify-full`) unless the URL says otherwise; local hosts (loopback, Unix sockets) use no TLS.

use std::path::PathBuf;
use std::sync::Arc;

use percent_encoding::percent_decode_str;
use pgwire_replication::{ReplicationConfig, TlsConfig};

/// How to use TLS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsMode {
    /// No TLS.
    Disable,
    /// Encrypt, but accept any certificate (libpq's `require`).
    Require,
    /// Encrypt and verify the certificate chain and host name.
    VerifyFull,
}

/// A parsed `postgres://` URL. The password is held separately and never printed.
#[derive(Clone)]
pub struct PgConnInfo {
    /// Host name, IP address, or a Unix socket directory (starting with `/`).
    pub host: String,
    /// Port.
    pub port: u16,
    /// Login role.
    pub user: String,
    /// Password, if any (from the URL, the environment or a prompt).
    pub password: Option<String>,
    /// Database.
    pub dbname: String,
    /// TLS mode.
    pub tls: TlsMode,
    /// Extra root certificate (`sslrootcert=`).
    pub root_cert: Option<PathBuf>,
}

impl std::fmt::Debug for PgConnInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PgConnInfo({})", self.redacted_url())
    }
}

impl PgConnInfo {
    /// Parses `postgres://user[:password]@host[:port]/db?sslmode=…&sslrootcert=…&host=/socket/dir`.
    pub fn parse(url: &str) -> Result<PgConnInfo, String> {
        let rest = url
            .strip_prefix("postgres://")
            .or_else(|| url.strip_prefix("postgresql://"))
            .ok_or_else(|| "the URL must start with postgres:// (e.g. postgres://user@host:5432/db)".to_string())?;
        let (main, query) = rest.split_once('?').unwrap_or((rest, ""));
        let (auth, hostpart) = match main.rsplit_once('@') {
            Some((a, h)) => (Some(a), h),
            None => (None, main),
        };
        let (hostport, db) = hostpart.split_once('/').unwrap_or((hostpart, ""));
        let dec = |s: &str| percent_decode_str(s).decode_utf8_lossy().into_owned();
        let (user, password) = match auth {
            Some(a) => match a.split_once(':') {
                Some((u, p)) => (dec(u), Some(dec(p))),
                None => (dec(a), None),
            },
            None => (String::new(), None),
        };
        let (mut host, port) = if let Some(h) = hostport.strip_prefix('[') {
            let (h, p) = h.split_once(']').ok_or("unclosed [ in the host")?;
            (h.to_string(), p.strip_prefix(':').unwrap_or(""))
        } else {
            match hostport.rsplit_once(':') {
                Some((h, p)) => (dec(h), p),
                None => (dec(hostport), ""),
            }
        };
        let mut port: u16 = if port.is_empty() {
            5432
        } else {
            port.parse().map_err(|_| format!("port {port:?} is not a number"))?
        };
        let mut sslmode: Option<String> = None;
        let mut root_cert = None;
        let mut user = user;
        let mut password = password;
        let mut dbname = dec(db);
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let v = dec(v);
            match k {
                "sslmode" => sslmode = Some(v),
                "sslrootcert" => root_cert = Some(PathBuf::from(v)),
                "host" => host = v,
                "port" => port = v.parse().map_err(|_| format!("port {v:?} is not a number"))?,
                "user" => user = v,
                "password" => password = Some(v),
                "dbname" => dbname = v,
                "application_name" | "connect_timeout" => {}
                other => return Err(format!("unsupported URL parameter {other:?}")),
            }
        }
        if host.is_empty() {
            host = "localhost".into();
        }
        if user.is_empty() {
            user = std::env::var("PGUSER").unwrap_or_else(|_| "postgres".into());
        }
        if dbname.is_empty() {
            dbname = user.clone();
        }
        let local = host.starts_with('/') || host == "localhost" || host == "::1" || host.starts_with("127.");
        let tls = match sslmode.as_deref() {
            None | Some("prefer") | Some("allow") => {
                if local {
                    TlsMode::Disable
                } else {
                    TlsMode::VerifyFull
                }
            }
            Some("disable") => TlsMode::Disable,
            Some("require") => TlsMode::Require,
            Some("verify-ca") | Some("verify-full") => TlsMode::VerifyFull,
            Some(other) => return Err(format!(
                "sslmode {other:?} is not one of disable, require, verify-ca, verify-full"
            )),
        };
        Ok(PgConnInfo {
            host,
            port,
            user,
            password,
            dbname,
            tls,
            root_cert,
        })
    }

    /// The URL without the password, safe to store and print.
    pub fn redacted_url(&self) -> String {
        let enc = |s: &str| {
            percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
        };
        let mut params = Vec::new();
        let host = if self.host.starts_with('/') {
            params.push(format!("host={}", enc(&self.host)));
            String::new()
        } else if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        params.push(format!(
            "sslmode={}",
            match self.tls {
                TlsMode::Disable => "disable",
                TlsMode::Require => "require",
                TlsMode::VerifyFull => "verify-full",
            }
        ));
        if let Some(c) = &self.root_cert {
            params.push(format!("sslrootcert={}", enc(&c.to_string_lossy())));
        }
        format!(
            "postgres://{}@{}:{}/{}?{}",
            enc(&self.user),
            host,
            self.port,
            enc(&self.dbname),
            params.join("&")
        )
    }

    /// `host:port/db` for messages.
    pub fn target(&self) -> String {
        format!("{}:{}/{}", self.host, self.port, self.dbname)
    }

    /// Opens a catalog connection and drives it on a background task.
    pub async fn connect(&self) -> Result<tokio_postgres::Client, String> {
        let mut cfg = tokio_postgres::Config::new();
        cfg.host(&self.host)
            .port(self.port)
            .user(&self.user)
            .dbname(&self.dbname)
            .application_name("rowtrail")
            .connect_timeout(std::time::Duration::from_secs(15));
        if let Some(p) = &self.password {
            cfg.password(p);
        }
        let describe = |e: tokio_postgres::Error| describe_pg_error(&e);
        match self.tls {
            TlsMode::Disable => {
                cfg.ssl_mode(tokio_postgres::config::SslMode::Disable);
                let (client, conn) = cfg.connect(tokio_postgres::NoTls).await.map_err(describe)?;
                tokio::spawn(conn);
                Ok(client)
            }
            mode => {
                cfg.ssl_mode(tokio_postgres::config::SslMode::Require);
                let tls = tokio_postgres_rustls::MakeRustlsConnect::new(self.rustls_config(mode)?);
                let (client, conn) = cfg.connect(tls).await.map_err(describe)?;
                tokio::spawn(conn);
                Ok(client)
            }
        }
    }

    fn rustls_config(&self, mode: TlsMode) -> Result<rustls::ClientConfig, String> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(|e| e.to_string())?;
        if mode == TlsMode::Require {
            return Ok(builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(AcceptAnyCert(provider)))
                .with_no_client_auth());
        }
        let mut roots = rustls::RootCertStore::empty();
        for cert in rustls_native_certs::load_native_certs().certs {
            let _ = roots.add(cert);
        }
        if let Some(path) = &self.root_cert {
            let pem = std::fs::read(path)
                .map_err(|e| format!("cannot read sslrootcert {}: {e}", path.display()))?;
            for cert in rustls::pki_types::pem::PemObject::pem_slice_iter(&pem) {
                let cert: rustls::pki_types::CertificateDer<'static> =
                    cert.map_err(|e| format!("bad certificate in {}: {e}", path.display()))?;
                roots.add(cert).map_err(|e| e.to_string())?;
            }
        }
        Ok(builder.with_root_certificates(roots).with_no_client_auth())
    }

    /// The replication-stream settings for `slot` and `publications`. Session settings are
    /// pinned so values arrive in one deterministic text form (UTC times, ISO dates, hex bytea).
    pub fn replication_config(&self, slot: &str, publications: Vec<String>) -> ReplicationConfig {
        let tls = match self.tls {
            TlsMode::Disable => TlsConfig::disabled(),
            TlsMode::Require => TlsConfig::require(),
            TlsMode::VerifyFull => TlsConfig::verify_full(self.root_cert.clone()),
        };
        ReplicationConfig::new(
            self.host.clone(),
            self.user.clone(),
            self.password.clone().unwrap_or_default(),
            self.dbname.clone(),
            slot,
            publications,
        )
        .with_port(self.port)
        .with_tls(tls)
        .with_options(session_options())
        .with_application_name("rowtrail")
    }
}

/// Session settings for every connection whose text output we store, so values arrive in
/// one deterministic text form (UTC times, ISO dates, hex bytea, exact floats).
pub const SESSION_SETTINGS: &[(&str, &str)] = &[
    ("TimeZone", "UTC"),
    ("DateStyle", "ISO,MDY"),
    ("IntervalStyle", "postgres"),
    ("extra_float_digits", "3"),
    ("bytea_output", "hex"),
];

/// [`SESSION_SETTINGS`] as a startup `options` string.
pub fn session_options() -> String {
    SESSION_SETTINGS
        .iter()
        .map(|(k, v)| format!("-c {k}={v}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// [`SESSION_SETTINGS`] as SQL `SET` statements.
pub fn session_set_sql() -> String {
    SESSION_SETTINGS
        .iter()
        .map(|(k, v)| format!("SET {k} TO '{v}'"))
        .collect::<Vec<_>>()
        .join("; ")
}

/// A server error as `message (SQLSTATE code)` with its detail and hint; other errors as text.
pub fn describe_pg_error(e: &tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => {
            let mut s = format!("{} (SQLSTATE {})", db.message(), db.code().code());
            if let Some(d) = db.detail() {
                s.push_str(&format!("; {d}"));
            }
            if let Some(h) = db.hint() {
                s.push_str(&format!("; hint: {h}"));
            }
            s
        }
        None => {
            let mut s = e.to_string();
            let mut src = std::error::Error::source(e);
            while let Some(inner) = src {
                s.push_str(&format!(": {inner}"));
                src = inner.source();
            }
            s
        }
    }
}

/// `sslmode=require`: encryption without certificate checks, as libpq does.
#[derive(Debug)]
struct AcceptAnyCert(Arc<rustls::crypto::CryptoProvider>);

impl rustls::client::danger::ServerCertVerifier for AcceptAnyCert {
    fn verify_server_cert(
        &self,
        _: &rustls::pki_types::CertificateDer<'_>,
        _: &[rustls::pki_types::CertificateDer<'_>],
        _: &rustls::pki_types::ServerName<'_>,
        _: &[u8],
        _: rustls::pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        Ok(rustls::client::danger::ServerCertVerified::assertion())
    }
    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }
    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }
    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_urls_and_never_prints_the_password() {
        let c = PgConnInfo::parse("postgres://ana:s%40cret@db.example.com:6543/shop?sslmode=require").unwrap();
        assert_eq!((c.host.as_str(), c.port, c.user.as_str(), c.dbname.as_str()), ("db.example.com", 6543, "ana", "shop"));
        assert_eq!(c.password.as_deref(), Some("s@cret"));
        assert_eq!(c.tls, TlsMode::Require);
        assert!(!c.redacted_url().contains("cret"));
        assert!(!format!("{c:?}").contains("cret"));
        let remote = PgConnInfo::parse("postgres://u@db.example.com/x").unwrap();
        assert_eq!(remote.tls, TlsMode::VerifyFull, "remote hosts are verified by default");
        let local = PgConnInfo::parse("postgres://u@127.0.0.1:5433/x").unwrap();
        assert_eq!(local.tls, TlsMode::Disable);
        let sock = PgConnInfo::parse("postgres://u@/x?host=%2Fvar%2Frun%2Fpostgresql").unwrap();
        assert_eq!(sock.host, "/var/run/postgresql");
        assert!(PgConnInfo::parse("mysql://x").is_err());
        assert!(PgConnInfo::parse("postgres://u@h/x?sslmode=bogus").unwrap_err().contains("bogus"));
        let round = PgConnInfo::parse(&c.redacted_url()).unwrap();
        assert_eq!((round.host, round.port, round.tls), (c.host, c.port, c.tls));
    }
}
