//! push-follow: an HTTP/2 client that follows redirects the way a browser that
//! accepts server push did, and takes a pushed response for the next hop when
//! the server pushed it.
//!
//! It requests a URL; when the answer is a redirect, it resolves `Location`,
//! and if a PUSH_PROMISE for exactly that URL arrived on an earlier hop's
//! stream it reads the pushed response instead of sending a request. Unused
//! promises are kept for the later hops, as a browser's push cache kept them,
//! so a server that pushes a whole chain with its first redirect saves every
//! hop; a pushed response is only ever taken for the URL the client asks for.
//! Each hop is
//! reported with its status, Location, whether it was pushed or requested, and
//! when it arrived, measured from the moment the first request was sent (the
//! connection set-up is reported on its own, so a round trip saved shows).
//!
//! Same-origin hops reuse the connection; a hop to another origin opens a new
//! connection to that origin (`--connect-to` only applies to the first one).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use h2::client::{PushPromises, PushedResponseFuture, SendRequest};
use h2::RecvStream;
use http::{Request, Response};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use url::Url;

/// Statuses a browser follows (with GET; 307/308 would keep the method, and
/// this client only sends GET).
pub const REDIRECT_STATUSES: [u16; 5] = [301, 302, 303, 307, 308];

/// Where trusted certificates come from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Trust {
    /// The system's CA bundle.
    System,
    /// A PEM file of CA (or self-signed) certificates.
    File(PathBuf),
    /// Accept any certificate (for self-signed test servers).
    Insecure,
}

/// What to fetch and how.
#[derive(Clone, Debug)]
pub struct Options {
    pub url: Url,
    /// Send SETTINGS_ENABLE_PUSH=0, as browsers do since Chrome 106 / Firefox 132.
    pub no_push: bool,
    pub trust: Trust,
    /// Connect to this HOST:PORT for the first URL's origin, keeping the URL's
    /// host for SNI and `:authority` (curl's --connect-to).
    pub connect_to: Option<String>,
    pub max_redirects: usize,
    pub timeout: Duration,
}

/// How a hop's response reached the client.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    Requested,
    Pushed,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Requested => "requested",
            Source::Pushed => "pushed",
        }
    }
}

/// One response of the chain.
#[derive(Clone, Debug)]
pub struct Hop {
    pub url: String,
    pub status: u16,
    pub location: Option<String>,
    pub source: Source,
    /// Since the first request was sent: the response headers arrived...
    pub headers_at: Duration,
    /// ...and its body was complete.
    pub done_at: Duration,
    pub body_bytes: usize,
    /// URLs the server promised (PUSH_PROMISE) on this hop's stream.
    pub promised: Vec<String>,
}

/// The whole run.
#[derive(Clone, Debug, Default)]
pub struct Trace {
    /// TCP connect + TLS handshake + HTTP/2 preface of the first connection.
    pub connect: Duration,
    pub hops: Vec<Hop>,
    /// Why the chain ended before a response that is not a redirect, if it did.
    pub stopped: Option<String>,
}

impl Trace {
    /// Time from the first request to the end of the last response.
    pub fn total(&self) -> Duration {
        self.hops.last().map_or(Duration::ZERO, |hop| hop.done_at)
    }
}

pub fn is_redirect(status: u16) -> bool {
    REDIRECT_STATUSES.contains(&status)
}

/// The URL a redirect from `current` with this `Location` leads to.
pub fn redirect_target(current: &Url, location: &str) -> Result<Url, String> {
    let mut target = current
        .join(location.trim())
        .map_err(|e| format!("Location {location:?} is not a URL reference: {e}"))?;
    // A fragment never reaches the server; the browser keeps it for itself.
    target.set_fragment(None);
    match target.scheme() {
        "https" => Ok(target),
        other => Err(format!(
            "Location {location:?} leads to {other}:, not https:"
        )),
    }
}

/// Scheme, host and port: what a connection is for.
pub fn origin_of(url: &Url) -> String {
    url.origin().ascii_serialization()
}

/// Whether a pushed request (its URI as h2 reports it) is for `target`.
pub fn push_matches(pushed_uri: &str, target: &Url) -> bool {
    match Url::parse(pushed_uri) {
        Ok(mut pushed) => {
            pushed.set_fragment(None);
            pushed == *target
        }
        Err(_) => false,
    }
}

/// Runs the chain from `options.url`.
pub fn run(options: &Options) -> Result<Trace, String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .enable_time()
        .build()
        .map_err(|e| format!("cannot start the runtime: {e}"))?;
    runtime.block_on(async {
        tokio::time::timeout(options.timeout, follow(options))
            .await
            .map_err(|_| format!("timed out after {:?}", options.timeout))?
    })
}

struct Connection {
    origin: String,
    sender: SendRequest<Bytes>,
}

/// A promise received on the previous hop, not yet used.
struct Promise {
    url: String,
    response: PushedResponseFuture,
}

async fn follow(options: &Options) -> Result<Trace, String> {
    let tls = tls_connector(&options.trust)?;
    let mut trace = Trace::default();
    let connecting = Instant::now();
    let first = connect(&tls, &options.url, options.connect_to.as_deref(), options).await?;
    trace.connect = connecting.elapsed();
    let mut connections = vec![first];
    let start = Instant::now();
    let mut url = options.url.clone();
    let mut promises: Vec<Promise> = Vec::new();
    loop {
        // Promises for other URLs stay for the next hops; those still unused
        // when the chain ends are dropped, and h2 resets their streams.
        let pushed = promises
            .iter()
            .position(|p| push_matches(&p.url, &url))
            .map(|i| promises.remove(i));
        // A pushed stream carries no promises of its own (h2 never has them).
        let (response, pushes) = match pushed {
            Some(promise) => (
                promise
                    .response
                    .await
                    .map_err(|e| format!("pushed {url}: {e}"))?,
                None,
            ),
            None => {
                let origin = origin_of(&url);
                if !connections.iter().any(|c| c.origin == origin) {
                    connections.push(connect(&tls, &url, None, options).await?);
                }
                let connection = connections.iter_mut().find(|c| c.origin == origin);
                let sender = &mut connection.expect("connected above").sender;
                let (response, pushes) = request(sender, &url).await?;
                (response, Some(pushes))
            }
        };
        let headers_at = start.elapsed();
        let source = match pushes {
            Some(_) => Source::Requested,
            None => Source::Pushed,
        };
        let status = response.status().as_u16();
        let location = location_of(&response)?;
        let body_bytes = read_body(response.into_body()).await?;
        let done_at = start.elapsed();
        let made = match pushes {
            Some(pushes) => collect_promises(pushes).await?,
            None => Vec::new(),
        };
        trace.hops.push(Hop {
            url: url.to_string(),
            status,
            location: location.clone(),
            source,
            headers_at,
            done_at,
            body_bytes,
            promised: made.iter().map(|p| p.url.clone()).collect(),
        });
        promises.extend(made);
        let Some(location) = location.filter(|_| is_redirect(status)) else {
            if is_redirect(status) {
                trace.stopped = Some(format!("{status} without a Location"));
            }
            return Ok(trace);
        };
        if trace.hops.len() > options.max_redirects {
            trace.stopped = Some(format!(
                "more than {} redirects (--max-redirects)",
                options.max_redirects
            ));
            return Ok(trace);
        }
        url = redirect_target(&url, &location)?;
    }
}

fn location_of(response: &Response<RecvStream>) -> Result<Option<String>, String> {
    let mut values = response.headers().get_all(http::header::LOCATION).iter();
    match (values.next(), values.next()) {
        (None, _) => Ok(None),
        (Some(value), None) => value
            .to_str()
            .map(|v| Some(v.to_owned()))
            .map_err(|_| "a Location that is not visible ASCII".to_owned()),
        (Some(_), Some(_)) => Err("several Location fields".to_owned()),
    }
}

/// Sends GET `url`; returns the response and the stream of promises made on it.
async fn request(
    sender: &mut SendRequest<Bytes>,
    url: &Url,
) -> Result<(Response<RecvStream>, PushPromises), String> {
    let request = Request::get(url.as_str())
        .header(
            http::header::USER_AGENT,
            concat!("push-follow/", env!("CARGO_PKG_VERSION")),
        )
        .header(http::header::ACCEPT, "*/*")
        .body(())
        .map_err(|e| format!("{url}: {e}"))?;
    *sender = sender
        .clone()
        .ready()
        .await
        .map_err(|e| format!("{url}: {e}"))?;
    let (mut response, _) = sender
        .send_request(request, true)
        .map_err(|e| format!("{url}: {e}"))?;
    let promises = response.push_promises();
    let response = response.await.map_err(|e| format!("{url}: {e}"))?;
    Ok((response, promises))
}

/// The promises made on a stream whose body has been read to its end: every
/// PUSH_PROMISE precedes the END_STREAM of the stream it is made on.
async fn collect_promises(mut pushes: PushPromises) -> Result<Vec<Promise>, String> {
    let mut promises = Vec::new();
    while let Some(promise) = pushes.push_promise().await {
        let (request, response) = promise
            .map_err(|e| format!("PUSH_PROMISE: {e}"))?
            .into_parts();
        promises.push(Promise {
            url: request.uri().to_string(),
            response,
        });
    }
    Ok(promises)
}

async fn read_body(mut body: RecvStream) -> Result<usize, String> {
    let mut total = 0;
    while let Some(chunk) = body.data().await {
        let chunk = chunk.map_err(|e| format!("reading a body: {e}"))?;
        total += chunk.len();
        let _ = body.flow_control().release_capacity(chunk.len());
    }
    Ok(total)
}

async fn connect(
    tls: &TlsConnector,
    url: &Url,
    connect_to: Option<&str>,
    options: &Options,
) -> Result<Connection, String> {
    let host = url.host_str().ok_or_else(|| format!("{url}: no host"))?;
    let port = url.port_or_known_default().unwrap_or(443);
    let address = connect_to.map_or_else(|| format!("{host}:{port}"), str::to_owned);
    let tcp = TcpStream::connect(&address)
        .await
        .map_err(|e| format!("connect to {address}: {e}"))?;
    tcp.set_nodelay(true)
        .map_err(|e| format!("{address}: {e}"))?;
    let sni_host = host.trim_start_matches('[').trim_end_matches(']');
    let server_name = ServerName::try_from(sni_host.to_owned())
        .map_err(|e| format!("{host}: not a TLS server name: {e}"))?;
    let stream = tls
        .connect(server_name, tcp)
        .await
        .map_err(|e| format!("TLS with {address} for {host}: {e}"))?;
    if stream.get_ref().1.alpn_protocol() != Some(b"h2") {
        return Err(format!(
            "{address} did not negotiate HTTP/2 (ALPN h2) for {host}"
        ));
    }
    let (sender, connection) = h2::client::Builder::new()
        .enable_push(!options.no_push)
        .handshake::<_, Bytes>(stream)
        .await
        .map_err(|e| format!("HTTP/2 with {address}: {e}"))?;
    tokio::spawn(async move {
        if let Err(e) = connection.await {
            if !e.is_go_away() {
                eprintln!("push-follow: connection error: {e}");
            }
        }
    });
    Ok(Connection {
        origin: origin_of(url),
        sender,
    })
}

fn tls_connector(trust: &Trust) -> Result<TlsConnector, String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS: {e}"))?;
    let mut config = match trust {
        Trust::Insecure => builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AnyCertificate(provider)))
            .with_no_client_auth(),
        Trust::File(path) => builder
            .with_root_certificates(root_store(path)?)
            .with_no_client_auth(),
        Trust::System => {
            let bundle = SYSTEM_CA_BUNDLES
                .iter()
                .map(Path::new)
                .find(|p| p.is_file())
                .ok_or("no system CA bundle found: use --cacert FILE or --insecure")?;
            builder
                .with_root_certificates(root_store(bundle)?)
                .with_no_client_auth()
        }
    };
    config.alpn_protocols = vec![b"h2".to_vec()];
    Ok(TlsConnector::from(Arc::new(config)))
}

const SYSTEM_CA_BUNDLES: [&str; 3] = [
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/pki/tls/certs/ca-bundle.crt",
    "/etc/ssl/cert.pem",
];

fn root_store(path: &Path) -> Result<rustls::RootCertStore, String> {
    let display = path.display();
    let mut store = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(path).map_err(|e| format!("{display}: {e}"))? {
        let cert = cert.map_err(|e| format!("{display}: {e}"))?;
        store
            .add(cert)
            .map_err(|e| format!("{display}: unusable certificate: {e}"))?;
    }
    if store.is_empty() {
        return Err(format!("{display}: no certificate in it"));
    }
    Ok(store)
}

/// `--insecure`: any certificate is accepted, signatures are still checked so
/// the handshake itself is a real one.
#[derive(Debug)]
struct AnyCertificate(Arc<rustls::crypto::CryptoProvider>);

impl rustls::client::danger::ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: rustls::pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        Ok(rustls::client::danger::ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        let algorithms = &self.0.signature_verification_algorithms;
        rustls::crypto::verify_tls12_signature(message, cert, dss, algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        let algorithms = &self.0.signature_verification_algorithms;
        rustls::crypto::verify_tls13_signature(message, cert, dss, algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

fn millis(d: Duration) -> String {
    format!("{:.3}", d.as_secs_f64() * 1000.0)
}

/// The trace as one JSON object (for scripts and the benchmark).
pub fn to_json(trace: &Trace, options: &Options) -> String {
    let mut out = String::new();
    let _ = write!(
        out,
        "{{\"push_enabled\":{},\"connect_ms\":{},\"total_ms\":{},\"stopped\":{},\"hops\":[",
        !options.no_push,
        millis(trace.connect),
        millis(trace.total()),
        trace
            .stopped
            .as_deref()
            .map_or("null".to_owned(), json_string),
    );
    for (i, hop) in trace.hops.iter().enumerate() {
        let promised: Vec<String> = hop.promised.iter().map(|p| json_string(p)).collect();
        let _ = write!(
            out,
            "{}{{\"url\":{},\"status\":{},\"location\":{},\"source\":\"{}\",\
             \"headers_ms\":{},\"done_ms\":{},\"body_bytes\":{},\"promised\":[{}]}}",
            if i == 0 { "" } else { "," },
            json_string(&hop.url),
            hop.status,
            hop.location
                .as_deref()
                .map_or("null".to_owned(), json_string),
            hop.source.as_str(),
            millis(hop.headers_at),
            millis(hop.done_at),
            hop.body_bytes,
            promised.join(","),
        );
    }
    out.push_str("]}");
    out
}

/// `text` as a JSON string, quotes included.
pub fn json_string(text: &str) -> String {
    serde_json::Value::from(text).to_string()
}

/// The trace for a person: one line per hop.
pub fn to_text(trace: &Trace, options: &Options) -> String {
    let mut out = String::new();
    let via = options
        .connect_to
        .as_deref()
        .map_or(String::new(), |addr| format!(" via {addr}"));
    let _ = writeln!(
        out,
        "connected to {}{via} in {} ms (TCP+TLS+h2), push {}",
        origin_of(&options.url),
        millis(trace.connect),
        if options.no_push {
            "refused (SETTINGS_ENABLE_PUSH=0)"
        } else {
            "accepted"
        },
    );
    let _ = writeln!(out, "hop status source      at ms  url");
    for (i, hop) in trace.hops.iter().enumerate() {
        let _ = writeln!(
            out,
            "{:>3} {:>6} {:<9} {:>8}  {}",
            i + 1,
            hop.status,
            hop.source.as_str(),
            millis(hop.done_at),
            hop.url
        );
        if let Some(location) = &hop.location {
            let _ = writeln!(out, "{:>30}Location: {location}", "");
        }
        for promised in &hop.promised {
            let _ = writeln!(out, "{:>30}PUSH_PROMISE: {promised}", "");
        }
    }
    if let Some(stopped) = &trace.stopped {
        let _ = writeln!(out, "stopped: {stopped}");
    }
    out
}

pub const USAGE: &str = "\
usage: push-follow [OPTIONS] URL

Requests URL over HTTP/2 (TLS, ALPN h2) and follows redirects as a browser
that accepts server push did: when the server pushed the redirect's target
(a PUSH_PROMISE for exactly that URL on the stream of this or an earlier
hop), the pushed response is used instead of a new request. Prints one line
per hop: status, pushed or requested, milliseconds since the first request
was sent, URL, then the Location and the promises made on that hop.

options:
  --no-push               refuse push (SETTINGS_ENABLE_PUSH=0), as browsers do
  --cacert FILE           trust the certificates in this PEM file
                          (default: the system's CA bundle)
  -k, --insecure          accept any server certificate
  --connect-to HOST:PORT  connect there for the URL's origin, keeping the
                          URL's host for SNI and :authority (like curl's)
  --max-redirects N       follow at most N redirects (default 10)
  --timeout SECONDS       give up after this long (default 30)
  --json                  print one JSON object instead of text
  -h, --help              this text

exit status: 0 when the chain ended in a response that is not a redirect,
1 on an error or when it stopped early, 2 on a usage error.";

/// What the command line asks for.
#[derive(Debug)]
pub enum Command {
    Help,
    Run { options: Options, json: bool },
}

pub fn parse_args(mut args: impl Iterator<Item = String>) -> Result<Command, String> {
    let mut url = None;
    let mut options_no_push = false;
    let mut trust = Trust::System;
    let mut connect_to = None;
    let mut max_redirects = 10;
    let mut timeout = Duration::from_secs(30);
    let mut json = false;
    while let Some(arg) = args.next() {
        let mut value = |name: &str| args.next().ok_or_else(|| format!("{name} needs a value"));
        match arg.as_str() {
            "-h" | "--help" => return Ok(Command::Help),
            "--no-push" => options_no_push = true,
            "-k" | "--insecure" => trust = Trust::Insecure,
            "--cacert" => trust = Trust::File(PathBuf::from(value(&arg)?)),
            "--connect-to" => {
                let address = value(&arg)?;
                if !address.contains(':') {
                    return Err(format!("--connect-to: {address:?} is not HOST:PORT"));
                }
                connect_to = Some(address);
            }
            "--max-redirects" => {
                let text = value(&arg)?;
                max_redirects = text
                    .parse()
                    .map_err(|_| format!("--max-redirects: not a count: {text:?}"))?;
            }
            "--timeout" => {
                let text = value(&arg)?;
                let seconds: f64 = text
                    .parse()
                    .ok()
                    .filter(|s: &f64| s.is_finite() && *s > 0.0)
                    .ok_or_else(|| format!("--timeout: not a number of seconds: {text:?}"))?;
                timeout = Duration::from_secs_f64(seconds);
            }
            "--json" => json = true,
            flag if flag.starts_with('-') => return Err(format!("unknown option {flag:?}")),
            _ if url.is_some() => return Err(format!("a second URL: {arg:?}")),
            _ => {
                let parsed = Url::parse(&arg).map_err(|e| format!("{arg:?}: {e}"))?;
                if parsed.scheme() != "https" {
                    return Err(format!("{arg:?}: only https:// URLs (HTTP/2 over TLS)"));
                }
                url = Some(parsed);
            }
        }
    }
    let url = url.ok_or("a URL is required")?;
    Ok(Command::Run {
        options: Options {
            url,
            no_push: options_no_push,
            trust,
            connect_to,
            max_redirects,
            timeout,
        },
        json,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(text: &str) -> Url {
        Url::parse(text).unwrap()
    }

    fn args(list: &[&str]) -> Result<Command, String> {
        parse_args(list.iter().map(|s| s.to_string()))
    }

    #[test]
    fn a_relative_location_resolves_against_the_current_url() {
        let current = url("https://example.com:8443/a/old?x=1");
        let next = redirect_target(&current, "new?y=2#top").unwrap();
        assert_eq!(next.as_str(), "https://example.com:8443/a/new?y=2");
        let next = redirect_target(&current, "/b").unwrap();
        assert_eq!(next.as_str(), "https://example.com:8443/b");
        let next = redirect_target(&current, "//other.example/c").unwrap();
        assert_eq!(next.as_str(), "https://other.example/c");
    }

    #[test]
    fn a_location_to_plain_http_or_garbage_is_an_error() {
        let current = url("https://example.com/old");
        assert!(redirect_target(&current, "http://example.com/new").is_err());
        assert!(redirect_target(&current, "https://exa mple.com/").is_err());
    }

    #[test]
    fn redirects_are_the_statuses_a_browser_follows() {
        for status in [301, 302, 303, 307, 308] {
            assert!(is_redirect(status));
        }
        for status in [200, 300, 304, 404] {
            assert!(!is_redirect(status));
        }
    }

    #[test]
    fn a_push_matches_only_its_exact_url() {
        let target = url("https://localhost:8443/new?q=1");
        assert!(push_matches("https://localhost:8443/new?q=1", &target));
        assert!(!push_matches("https://localhost:8443/new", &target));
        assert!(!push_matches("https://localhost:9443/new?q=1", &target));
        assert!(!push_matches("/new?q=1", &target));
        // The default port is folded, as in the URL the client resolves.
        assert!(push_matches(
            "https://localhost:443/",
            &url("https://localhost/")
        ));
    }

    #[test]
    fn same_origin_means_scheme_host_and_port() {
        assert_eq!(
            origin_of(&url("https://a.example/x")),
            origin_of(&url("https://a.example:443/y"))
        );
        assert_ne!(
            origin_of(&url("https://a.example/")),
            origin_of(&url("https://a.example:8443/"))
        );
    }

    #[test]
    fn json_strings_are_escaped() {
        assert_eq!(json_string("a\"b\\c\n\u{1}"), r#""a\"b\\c\n\u0001""#);
    }

    #[test]
    fn the_json_trace_has_every_field() {
        let Command::Run { options, .. } = args(&["https://localhost/old", "--no-push"]).unwrap()
        else {
            panic!("not a run")
        };
        let trace = Trace {
            connect: Duration::from_micros(1500),
            hops: vec![Hop {
                url: "https://localhost/old".into(),
                status: 302,
                location: Some("/new".into()),
                source: Source::Requested,
                headers_at: Duration::from_millis(1),
                done_at: Duration::from_millis(2),
                body_bytes: 10,
                promised: vec!["https://localhost/new".into()],
            }],
            stopped: None,
        };
        assert_eq!(
            to_json(&trace, &options),
            r#"{"push_enabled":false,"connect_ms":1.500,"total_ms":2.000,"stopped":null,"hops":[{"url":"https://localhost/old","status":302,"location":"/new","source":"requested","headers_ms":1.000,"done_ms":2.000,"body_bytes":10,"promised":["https://localhost/new"]}]}"#
        );
    }

    #[test]
    fn arguments() {
        assert!(matches!(args(&["--help"]), Ok(Command::Help)));
        let Ok(Command::Run { options, json }) = args(&[
            "--cacert",
            "/tmp/ca.pem",
            "--connect-to",
            "127.0.0.1:9",
            "--max-redirects",
            "3",
            "--json",
            "https://localhost:8443/old",
        ]) else {
            panic!("not parsed")
        };
        assert!(json && !options.no_push);
        assert_eq!(options.trust, Trust::File("/tmp/ca.pem".into()));
        assert_eq!(options.connect_to.as_deref(), Some("127.0.0.1:9"));
        assert_eq!(options.max_redirects, 3);
        assert_eq!(options.url.as_str(), "https://localhost:8443/old");
        for bad in [
            &["http://localhost/"][..],
            &[],
            &["--max-redirects", "x", "https://a/"],
            &["--connect-to", "nohost", "https://a/"],
            &["--bogus", "https://a/"],
            &["https://a/", "https://b/"],
            &["--cacert"],
        ] {
            assert!(args(bad).is_err(), "{bad:?}");
        }
    }
}
