//! Outbound HTTP with SSRF defences, shared by deliveries and AI providers: HTTPS only; private,
//! loopback, link-local, CGNAT, multicast and metadata addresses refused — for literal IPs before
//! sending and for host names after DNS resolution, inside the connector's resolver, so what is
//! checked is what is connected to. Redirects are never followed; responses are read with a size
//! limit. `NARRATE_ALLOW_PRIVATE_DESTINATIONS=1` lifts the address and scheme rules (tests,
//! on-premise installs).

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

/// Largest response body read from a remote server.
pub const MAX_RESPONSE_BYTES: usize = 256 * 1024;

/// Why an outbound call was refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum OutboundError {
    /// The URL cannot be used.
    #[error("{0}")]
    Refused(String),
    /// The remote side could not be reached or answered wrongly.
    #[error("{0}")]
    Transport(String),
}

/// Every block of the IANA IPv4 Special-Purpose Address Registry (RFC 6890 and updates, as of
/// 2026), plus multicast: none of them is a place a report should be sent to — private, loopback,
/// link-local, shared (CGNAT), documentation, benchmarking, anycast relays and AS112 sinks,
/// reserved and broadcast. `(block, name)`.
pub const SPECIAL_V4: &[(&str, &str)] = &[
    ("0.0.0.0/8", "this network"),
    ("10.0.0.0/8", "private use"),
    ("100.64.0.0/10", "shared address space (CGNAT)"),
    ("127.0.0.0/8", "loopback"),
    ("169.254.0.0/16", "link local (cloud metadata)"),
    ("172.16.0.0/12", "private use"),
    ("192.0.0.0/24", "IETF protocol assignments"),
    ("192.0.2.0/24", "documentation (TEST-NET-1)"),
    ("192.31.196.0/24", "AS112-v4"),
    ("192.52.193.0/24", "AMT"),
    ("192.88.99.0/24", "deprecated 6to4 relay anycast"),
    ("192.168.0.0/16", "private use"),
    ("192.175.48.0/24", "direct delegation AS112 service"),
    ("198.18.0.0/15", "benchmarking"),
    ("198.51.100.0/24", "documentation (TEST-NET-2)"),
    ("203.0.113.0/24", "documentation (TEST-NET-3)"),
    ("224.0.0.0/4", "multicast"),
    ("240.0.0.0/4", "reserved"),
    ("255.255.255.255/32", "limited broadcast"),
];

/// Every block of the IANA IPv6 Special-Purpose Address Registry (as of 2026), plus multicast and
/// the deprecated site-local and IPv4-compatible ranges. IPv4-mapped addresses (`::ffff:0:0/96`)
/// are judged as the IPv4 address they carry.
pub const SPECIAL_V6: &[(&str, &str)] = &[
    ("::/128", "unspecified"),
    ("::1/128", "loopback"),
    ("::/96", "IPv4-compatible (deprecated)"),
    ("64:ff9b::/96", "IPv4/IPv6 translation (NAT64)"),
    ("64:ff9b:1::/48", "local-use IPv4/IPv6 translation"),
    ("100::/64", "discard-only"),
    ("100:0:0:1::/64", "dummy prefix"),
    ("2001::/23", "IETF protocol assignments (Teredo, benchmarking, ORCHID, AMT …)"),
    ("2001:db8::/32", "documentation"),
    ("2002::/16", "6to4"),
    ("2620:4f:8000::/48", "direct delegation AS112 service"),
    ("3fff::/20", "documentation"),
    ("5f00::/16", "segment routing (SRv6) SIDs"),
    ("fc00::/7", "unique local"),
    ("fe80::/10", "link-local unicast"),
    ("fec0::/10", "site-local (deprecated)"),
    ("ff00::/8", "multicast"),
];

fn blocks() -> &'static [(crate::engine::config::Cidr, &'static str)] {
    static BLOCKS: std::sync::OnceLock<Vec<(crate::engine::config::Cidr, &'static str)>> = std::sync::OnceLock::new();
    BLOCKS.get_or_init(|| {
        SPECIAL_V4
            .iter()
            .chain(SPECIAL_V6)
            .map(|(b, name)| (crate::engine::config::Cidr::parse(b).expect("a valid block"), *name))
            .collect()
    })
}

/// The special-purpose block an address falls in, if any (why it is refused).
pub fn special_block(ip: IpAddr) -> Option<&'static str> {
    if let IpAddr::V6(v6) = ip {
        if let Some(v4) = v6.to_ipv4_mapped() {
            return special_block(IpAddr::V4(v4));
        }
    }
    blocks().iter().find(|(b, _)| b.contains(ip)).map(|(_, name)| *name)
}

/// Whether an address is private, loopback, link-local, metadata or otherwise not public: any
/// IANA special-purpose block.
pub fn is_forbidden(ip: IpAddr) -> bool {
    special_block(ip).is_some()
}

/// Checks a URL before any request: scheme, and the host when it is a literal IP.
pub fn check_url(raw: &str, allow_private: bool) -> Result<url::Url, OutboundError> {
    let url = url::Url::parse(raw).map_err(|_| OutboundError::Refused("the URL is not valid".into()))?;
    match url.scheme() {
        "https" => {}
        "http" if allow_private => {}
        _ => return Err(OutboundError::Refused("only https:// URLs are allowed".into())),
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(OutboundError::Refused("credentials in the URL are not allowed".into()));
    }
    let forbidden = match url.host() {
        None => return Err(OutboundError::Refused("the URL has no host".into())),
        Some(url::Host::Ipv4(ip)) => is_forbidden(IpAddr::V4(ip)),
        Some(url::Host::Ipv6(ip)) => is_forbidden(IpAddr::V6(ip)),
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost") || d.ends_with(".localhost"),
    };
    if forbidden && !allow_private {
        return Err(OutboundError::Refused(
            "private, loopback, link-local and metadata addresses are not allowed".into(),
        ));
    }
    Ok(url)
}

/// A resolver that drops forbidden addresses, and fails when none is left.
struct SafeResolver {
    allow_private: bool,
}

impl reqwest::dns::Resolve for SafeResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let allow = self.allow_private;
        let host = name.as_str().to_string();
        Box::pin(async move {
            let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let ok: Vec<SocketAddr> = addrs.into_iter().filter(|a| allow || !is_forbidden(a.ip())).collect();
            if ok.is_empty() {
                let e: Box<dyn std::error::Error + Send + Sync> =
                    format!("{host} resolves only to private, loopback or metadata addresses").into();
                return Err(e);
            }
            Ok(Box::new(ok.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// The TLS configuration every outbound client shares: the platform's trust store (what reqwest
/// would load), read and parsed once per process. Building it for every client — every delivery
/// attempt — was the largest CPU cost of a burst of deliveries (parsing the system's
/// certificate bundle each time). `None` when the platform verifier cannot be built; each client
/// then builds its own, as before.
fn tls_config() -> Option<rustls::ClientConfig> {
    static CONFIG: std::sync::OnceLock<Option<rustls::ClientConfig>> = std::sync::OnceLock::new();
    CONFIG
        .get_or_init(|| {
            let provider = Arc::new(rustls::crypto::ring::default_provider());
            let verifier = rustls_platform_verifier::Verifier::new(provider.clone()).ok()?;
            let mut config = rustls::ClientConfig::builder_with_provider(provider)
                .with_safe_default_protocol_versions()
                .ok()?
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(verifier))
                .with_no_client_auth();
            config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
            Some(config)
        })
        .clone()
}

/// Builds the outbound client: safe resolver, no redirects, no proxy, timeouts, the shared TLS
/// configuration (certificates verified against the platform's trust store).
pub fn client(allow_private: bool, timeout: Duration) -> reqwest::Client {
    install_crypto();
    let mut builder = reqwest::Client::builder();
    if let Some(tls) = tls_config() {
        builder = builder.tls_backend_preconfigured(tls);
    }
    builder
        .dns_resolver(Arc::new(SafeResolver { allow_private }))
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .connect_timeout(Duration::from_secs(10))
        .timeout(timeout)
        .user_agent(concat!("Narrate/", env!("CARGO_PKG_VERSION")))
        .build()
        .expect("the outbound HTTP client configuration is valid")
}

/// Installs rustls' ring provider once (reqwest is built without a default provider).
pub fn install_crypto() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

/// Reads a response body up to [`MAX_RESPONSE_BYTES`].
pub async fn read_limited(mut resp: reqwest::Response) -> Result<Vec<u8>, OutboundError> {
    let mut body = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(|e| OutboundError::Transport(describe(&e)))? {
        if body.len() + chunk.len() > MAX_RESPONSE_BYTES {
            body.extend_from_slice(&chunk[..MAX_RESPONSE_BYTES - body.len()]);
            break;
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// A short, secret-free description of a transport error (never the URL: it may hold a token).
pub fn describe(e: &reqwest::Error) -> String {
    let mut source: Option<&dyn std::error::Error> = std::error::Error::source(e);
    let mut root = String::new();
    while let Some(s) = source {
        root = s.to_string();
        source = s.source();
    }
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "could not connect"
    } else if e.is_redirect() {
        "redirect refused"
    } else {
        "request failed"
    };
    if root.is_empty() || root.contains("://") {
        kind.to_string()
    } else {
        format!("{kind}: {root}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A self-signed certificate for localhost and 127.0.0.1 that no trust store holds.
    const UNTRUSTED_CERT: &str = "-----BEGIN CERTIFICATE-----\nMIIBmzCCAUGgAwIBAgIUU4oMYGIQJvtpMD196skb/F8dGWYwCgYIKoZIzj0EAwIw\nFDESMBAGA1UEAwwJbG9jYWxob3N0MCAXDTI2MTIwMjAzMjMyM1oYDzIxMjYxMTA4\nMDMyMzIzWjAUMRIwEAYDVQQDDAlsb2NhbGhvc3QwWTATBgcqhkjOPQIBBggqhkjO\nPQMBBwNCAAT9jK1WjV5fWeKCLXDy/ea716vqtcL3xEl3zqptUDio6qiYz0sTatdN\nLZw3/uiB4eSqSjpbXRJ9bdRDfKy7zqwFo28wbTAdBgNVHQ4EFgQUTYT2CLQy9vAa\nUCgoklMnsniaD4EwHwYDVR0jBBgwFoAUTYT2CLQy9vAaUCgoklMnsniaD4EwDwYD\nVR0TAQH/BAUwAwEB/zAaBgNVHREEEzARgglsb2NhbGhvc3SHBH8AAAEwCgYIKoZI\nzj0EAwIDSAAwRQIhANymtyqIir75zIXPkSiEruYgYWTk/ppKHyOUCcWYqIHsAiB3\nPADVTtLOFolYSwLGR1GXs4mjLgsYXrbsgD9+kiPXKg==\n-----END CERTIFICATE-----";
    const UNTRUSTED_KEY: &str = "-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgb0MxkZgqk4/V0SGW\nQ1kMrM2Io/fq83wapHl8UmwoaoChRANCAAT9jK1WjV5fWeKCLXDy/ea716vqtcL3\nxEl3zqptUDio6qiYz0sTatdNLZw3/uiB4eSqSjpbXRJ9bdRDfKy7zqwF\n-----END PRIVATE KEY-----";

    /// The shared TLS configuration still verifies certificates: an HTTPS receiver presenting
    /// one nobody vouches for gets no request (its handshake fails), and the caller is told why.
    #[tokio::test]
    async fn an_https_receiver_with_an_untrusted_certificate_is_refused_before_anything_is_sent() {
        use rustls::pki_types::pem::PemObject;
        use rustls::pki_types::{CertificateDer, PrivateKeyDer};
        install_crypto();
        let cert = CertificateDer::from_pem_slice(UNTRUSTED_CERT.as_bytes()).unwrap();
        let key = PrivateKeyDer::from_pem_slice(UNTRUSTED_KEY.as_bytes()).unwrap();
        let server = rustls::ServerConfig::builder().with_no_client_auth().with_single_cert(vec![cert], key).unwrap();
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(server));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let requests = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let seen = requests.clone();
        tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                let (acceptor, seen) = (acceptor.clone(), seen.clone());
                tokio::spawn(async move {
                    use tokio::io::{AsyncReadExt, AsyncWriteExt};
                    if let Ok(mut tls) = acceptor.accept(tcp).await {
                        let mut buf = [0u8; 1024];
                        if tls.read(&mut buf).await.unwrap_or(0) > 0 {
                            seen.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                            let _ = tls.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n").await;
                        }
                    }
                });
            }
        });
        for _ in 0..2 {
            // Twice: the second client reuses the configuration the first one built.
            let c = client(true, Duration::from_secs(5));
            let e = c.post(format!("https://localhost:{port}/hook")).body("{}").send().await.unwrap_err();
            assert!(describe(&e).to_lowercase().contains("certificate"), "{}", describe(&e));
        }
        assert_eq!(requests.load(std::sync::atomic::Ordering::SeqCst), 0, "the receiver never got a request");
    }

    #[test]
    fn private_loopback_link_local_and_metadata_addresses_are_refused() {
        for u in [
            "https://127.0.0.1/x",
            "https://10.0.0.1/x",
            "https://169.254.169.254/latest/meta-data",
            "https://[::1]/x",
            "https://[fd00:ec2::254]/x",
            "https://[::ffff:10.1.2.3]/x",
            "https://192.168.1.10/x",
            "https://172.16.0.1/x",
            "https://100.64.0.1/x",
            "https://localhost/x",
            "http://hooks.example.com/x",
            "ftp://hooks.example.com/x",
            "https://user:pw@hooks.example.com/x",
        ] {
            assert!(check_url(u, false).is_err(), "{u} should be refused");
        }
        assert!(check_url("https://hooks.slack.com/services/T/B/X", false).is_ok());
        assert!(check_url("https://93.184.216.34/x", false).is_ok());
        assert!(check_url("http://127.0.0.1:9/x", true).is_ok(), "the operator allow-list lifts the rules");
    }

    /// The first and last address of a block, as numbers of the family's width.
    fn bounds(block: &str) -> (IpAddr, u128, u128, u32) {
        let (a, bits) = block.split_once('/').unwrap();
        let ip: IpAddr = a.parse().unwrap();
        let bits: u32 = bits.parse().unwrap();
        let width = if ip.is_ipv4() { 32 } else { 128 };
        let n = match ip {
            IpAddr::V4(v) => u128::from(u32::from(v)),
            IpAddr::V6(v) => u128::from(v),
        };
        let size = if width - bits >= 128 { u128::MAX } else { (1u128 << (width - bits)) - 1 };
        (ip, n, n.saturating_add(size), width)
    }

    fn addr(v4: bool, n: u128) -> IpAddr {
        if v4 {
            IpAddr::V4(std::net::Ipv4Addr::from(n as u32))
        } else {
            IpAddr::V6(std::net::Ipv6Addr::from(n))
        }
    }

    #[test]
    fn every_iana_special_purpose_block_is_refused_from_its_first_to_its_last_address() {
        for (block, name) in SPECIAL_V4.iter().chain(SPECIAL_V6) {
            let (ip, first, last, _) = bounds(block);
            for n in [first, first + (last - first) / 2, last] {
                let a = addr(ip.is_ipv4(), n);
                assert!(is_forbidden(a), "{a} in {block} ({name})");
                let url = if a.is_ipv4() { format!("https://{a}/hook") } else { format!("https://[{a}]/hook") };
                assert!(check_url(&url, false).is_err(), "{url}");
            }
        }
    }

    #[test]
    fn the_neighbours_of_the_blocks_are_public_where_the_registry_says_so() {
        // Just outside blocks whose neighbours are ordinary unicast space.
        for public in [
            "9.255.255.255",
            "11.0.0.0",
            "100.63.255.255",
            "100.128.0.0",
            "172.15.255.255",
            "172.32.0.0",
            "192.88.98.255",
            "192.88.100.0",
            "198.17.255.255",
            "198.20.0.0",
            "223.255.255.255",
            "1.1.1.1",
            "2001:200::1",
            "2001:4860:4860::8888",
            "2003::1",
            "2606:4700:4700::1111",
            "64:ff9a:ffff::1",
        ] {
            let ip: IpAddr = public.parse().unwrap();
            assert!(!is_forbidden(ip), "{ip} is public");
        }
        // The examples the security review named.
        for special in [
            "198.18.0.1",
            "198.19.255.254",
            "192.88.99.1",
            "::a00:1",
            "2002:c000:0204::1",
            "64:ff9b::a00:1",
            "64:ff9b:1::1",
            "fec0::1",
            "::ffff:169.254.169.254",
        ] {
            let ip: IpAddr = special.parse().unwrap();
            assert!(is_forbidden(ip), "{ip} is special-purpose ({:?})", special_block(ip));
        }
    }

    #[tokio::test]
    async fn a_host_name_that_resolves_to_loopback_is_refused_at_connect_time() {
        let client = client(false, Duration::from_secs(5));
        let err = client.get("https://localhost:9/").send().await.unwrap_err();
        assert!(
            describe(&err).contains("could not connect") || describe(&err).contains("private"),
            "{}",
            describe(&err)
        );
        let chain = format!("{:?}", err);
        assert!(chain.contains("private, loopback or metadata"), "{chain}");
    }
}
