//! Who is asking, as far as the connection tells: the client's address and
//! the scheme and host it used. stockroom is meant to be reached directly,
//! so `X-Forwarded-For`, `X-Forwarded-Proto` and `X-Forwarded-Host` are
//! ignored — anyone can send them — unless the connection comes from a
//! proxy listed in `http.trusted_proxies`. Then the client is the
//! right-most address in `X-Forwarded-For` that is not itself a trusted
//! proxy, and the scheme and host are the ones the proxy says the browser
//! used (for the CSRF origin check).

use std::net::{IpAddr, SocketAddr};

use actix_web::http::Uri;
use actix_web::http::header::{self, HeaderMap};

use crate::outbound::IpNet;

/// The client of one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Client {
    pub ip: Option<IpAddr>,
    /// `http` or `https`, as the browser used it.
    pub scheme: String,
    /// `host[:port]` as the browser used it.
    pub host: String,
}

fn header_text<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
}

/// Reads the client of a request that came from `peer`.
pub fn client(
    peer: Option<SocketAddr>,
    headers: &HeaderMap,
    uri: &Uri,
    tls: bool,
    trusted: &[IpNet],
) -> Client {
    let own_host = header_text(headers, header::HOST.as_str())
        .map(str::to_string)
        .or_else(|| uri.authority().map(|a| a.to_string()))
        .unwrap_or_default();
    let own_scheme = if tls { "https" } else { "http" };
    let peer_ip = peer.map(|p| p.ip().to_canonical());
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|n| n.contains(&ip.to_canonical()));
    if !peer_ip.as_ref().is_some_and(is_trusted) {
        return Client {
            ip: peer_ip,
            scheme: own_scheme.into(),
            host: own_host,
        };
    }
    // From a trusted proxy: the nearest address it did not add itself.
    let forwarded: Vec<IpAddr> = header_text(headers, "x-forwarded-for")
        .map(|v| {
            v.split(',')
                .filter_map(|a| a.trim().parse::<IpAddr>().ok())
                .collect()
        })
        .unwrap_or_default();
    let ip = forwarded
        .iter()
        .rev()
        .find(|ip| !is_trusted(ip))
        .or(forwarded.first())
        .copied()
        .or(peer_ip);
    let scheme = match header_text(headers, "x-forwarded-proto") {
        Some(p) if p.eq_ignore_ascii_case("https") => "https",
        Some(p) if p.eq_ignore_ascii_case("http") => "http",
        _ => own_scheme,
    };
    Client {
        ip,
        scheme: scheme.into(),
        host: header_text(headers, "x-forwarded-host")
            .map(str::to_string)
            .unwrap_or(own_host),
    }
}

#[cfg(test)]
mod tests {
    use actix_web::http::header::{HeaderName, HeaderValue};

    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(HeaderName::from_static(k), HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn forwarded_headers_count_only_from_a_trusted_proxy() {
        let sent = headers(&[
            ("host", "stockroom.lan:8080"),
            ("x-forwarded-for", "203.0.113.9, 10.0.0.2"),
            ("x-forwarded-host", "evil.example"),
            ("x-forwarded-proto", "https"),
        ]);
        let uri = Uri::from_static("/login");
        let peer = Some("192.168.1.50:40000".parse().unwrap());
        let direct = client(peer, &sent, &uri, false, &[]);
        assert_eq!(
            direct,
            Client {
                ip: Some("192.168.1.50".parse().unwrap()),
                scheme: "http".into(),
                host: "stockroom.lan:8080".into()
            }
        );
        let proxies: Vec<IpNet> = vec![
            "192.168.1.50/32".parse().unwrap(),
            "10.0.0.0/8".parse().unwrap(),
        ];
        let proxied = client(peer, &sent, &uri, false, &proxies);
        assert_eq!(proxied.ip, Some("203.0.113.9".parse().unwrap()));
        assert_eq!(
            (proxied.scheme.as_str(), proxied.host.as_str()),
            ("https", "evil.example")
        );
    }
}
