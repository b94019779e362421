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

/// Whether an address is private, loopback, link-local, metadata or otherwise not public.
pub fn is_forbidden(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || v4.is_documentation()
                || o[0] == 0
                || (o[0] == 100 && (64..128).contains(&o[1]))
                || (o[0] == 192 && o[1] == 0 && o[2] == 0)
                || o[0] >= 240
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_forbidden(IpAddr::V4(v4));
            }
            let s = v6.segments();
            v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (s[0] & 0xfe00) == 0xfc00
                || (s[0] & 0xffc0) == 0xfe80
                || (s[0] == 0x2001 && s[1] == 0x0db8)
                || (s[0] == 0x64 && s[1] == 0xff9b)
        }
    }
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

/// Builds the outbound client: safe resolver, no redirects, no proxy, timeouts.
pub fn client(allow_private: bool, timeout: Duration) -> reqwest::Client {
    install_crypto();
    reqwest::Client::builder()
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
