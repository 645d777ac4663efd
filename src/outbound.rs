//! Outgoing HTTP: the one client through which stockroom calls other
//! machines (suppliers' webhooks today).
//!
//! Whoever sets a supplier's endpoint chooses where this machine connects,
//! so the client refuses, by default, every address that is not on the
//! public internet: this machine (loopback, unspecified), the practice's
//! networks (private, shared/CGNAT, link-local, IPv6 unique-local) and
//! multicast, broadcast and reserved ranges. The check is made on the
//! addresses a name actually resolves to, in the resolver the connection
//! uses, so a name that resolves to a public address when it is saved and
//! to `127.0.0.1` when the order is sent (DNS rebinding) is still refused;
//! a literal address in the URL is checked before the request is built.
//! An administrator allows the rare supplier endpoint on the LAN with
//! `dispatch.webhook_allow` (addresses or networks, e.g. `192.168.1.20` or
//! `10.20.0.0/16`). Redirects are never followed, no proxy from the
//! environment is used, and answers are reported by status code only.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

pub use ipnet::IpNet;

/// Why an address may not be reached, or `None` when it may.
pub fn refusal(ip: IpAddr, allow: &[IpNet]) -> Option<&'static str> {
    // `::ffff:127.0.0.1` is 127.0.0.1.
    let ip = ip.to_canonical();
    if allow.iter().any(|net| net.contains(&ip)) {
        return None;
    }
    match ip {
        IpAddr::V4(v4) => refusal_v4(v4),
        IpAddr::V6(v6) => refusal_v6(v6),
    }
}

fn refusal_v4(ip: Ipv4Addr) -> Option<&'static str> {
    let [a, b, ..] = ip.octets();
    if ip.is_loopback() || ip.is_unspecified() || a == 0 {
        Some("is this machine")
    } else if ip.is_private() {
        Some("is on a private network")
    } else if ip.is_link_local() {
        Some("is link-local")
    } else if a == 100 && (64..128).contains(&b) {
        Some("is on a shared (carrier-grade NAT) network")
    } else if ip.is_broadcast() || ip.is_multicast() || a >= 240 {
        Some("is a broadcast, multicast or reserved address")
    } else if ip.is_documentation() || (a == 198 && (b == 18 || b == 19)) {
        Some("is reserved for documentation or testing")
    } else {
        None
    }
}

fn refusal_v6(ip: Ipv6Addr) -> Option<&'static str> {
    let first = ip.segments()[0];
    if ip.is_loopback() || ip.is_unspecified() {
        Some("is this machine")
    } else if first & 0xfe00 == 0xfc00 {
        Some("is on a private (unique-local) network")
    } else if first & 0xffc0 == 0xfe80 || first & 0xffc0 == 0xfec0 {
        Some("is link-local")
    } else if ip.is_multicast() {
        Some("is a broadcast, multicast or reserved address")
    } else if first == 0x2001 && ip.segments()[1] == 0x0db8 {
        Some("is reserved for documentation or testing")
    } else if first == 0x0064 && ip.segments()[1] == 0xff9b || first == 0x2002 {
        // NAT64 and 6to4 embed an IPv4 address that could be anything.
        Some("embeds an IPv4 address (NAT64 or 6to4)")
    } else {
        None
    }
}

/// The message for a refused address, naming the setting that allows it.
pub fn refused_message(ip: IpAddr, why: &str) -> String {
    format!(
        "refused to connect to {ip}: the address {why}; an administrator may allow it with dispatch.webhook_allow"
    )
}

/// Resolves names with the system resolver and keeps only the addresses
/// that may be reached.
struct CheckedResolver {
    allow: Arc<[IpNet]>,
}

impl reqwest::dns::Resolve for CheckedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let allow = self.allow.clone();
        let host = name.as_str().to_string();
        Box::pin(async move {
            let found: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let mut refused = None;
            let kept: Vec<SocketAddr> = found
                .into_iter()
                .filter(|a| match refusal(a.ip(), &allow) {
                    None => true,
                    Some(why) => {
                        refused.get_or_insert((a.ip(), why));
                        false
                    }
                })
                .collect();
            if kept.is_empty() {
                let message = match refused {
                    Some((ip, why)) => refused_message(ip, why),
                    None => format!("{host} has no address"),
                };
                return Err(Box::new(Refused(message)) as Box<dyn std::error::Error + Send + Sync>);
            }
            Ok(Box::new(kept.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// A destination refused by the policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused(pub String);

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Refused {}

/// The outgoing HTTP client.
#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    allow: Arc<[IpNet]>,
}

/// What became of a request, in words that never include the answer's body.
#[derive(Debug)]
pub enum Failure {
    /// The destination is not allowed; nothing was sent.
    Refused(String),
    /// No answer: the connection, the TLS handshake or the time ran out.
    NoAnswer(String),
}

impl Client {
    pub fn new(timeout: Duration, allow: &[IpNet]) -> anyhow::Result<Client> {
        let allow: Arc<[IpNet]> = allow.into();
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .dns_resolver(Arc::new(CheckedResolver {
                allow: allow.clone(),
            }))
            .user_agent(concat!("stockroom/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Client { http, allow })
    }

    /// Refuses a URL whose host is a literal address that may not be
    /// reached (names are checked when they are resolved).
    pub fn check(&self, url: &reqwest::Url) -> Result<(), Failure> {
        let ip = match url.host() {
            Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip),
            Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip),
            Some(url::Host::Domain(_)) => return Ok(()),
            None => return Err(Failure::Refused("the address has no host".into())),
        };
        match refusal(ip, &self.allow) {
            Some(why) => Err(Failure::Refused(refused_message(ip, why))),
            None => Ok(()),
        }
    }

    /// Sends `request` built on [`Client::post`], reporting a failure to
    /// get an answer by its class only.
    pub async fn send(
        &self,
        request: reqwest::RequestBuilder,
    ) -> Result<reqwest::Response, Failure> {
        request.send().await.map_err(|e| classify(&e))
    }

    /// A POST to `url`, after checking a literal address.
    pub fn post(&self, url: &reqwest::Url) -> Result<reqwest::RequestBuilder, Failure> {
        self.check(url)?;
        Ok(self.http.post(url.clone()))
    }
}

/// A failed request in a few words: never the URL (it may carry a token)
/// nor anything the other side sent.
fn classify(e: &reqwest::Error) -> Failure {
    let mut source = std::error::Error::source(e);
    let mut certificate = false;
    while let Some(s) = source {
        if let Some(refused) = s.downcast_ref::<Refused>() {
            return Failure::Refused(refused.0.clone());
        }
        let text = s.to_string().to_lowercase();
        certificate |= text.contains("certificate");
        source = s.source();
    }
    Failure::NoAnswer(
        if e.is_timeout() {
            "timed out"
        } else if certificate {
            "could not connect (its certificate was not accepted)"
        } else if e.is_connect() {
            "could not connect"
        } else {
            "the request failed"
        }
        .into(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn only_public_addresses_are_reached_by_default() {
        for refused in [
            "127.0.0.1",
            "127.9.9.9",
            "0.0.0.0",
            "10.1.2.3",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.20",
            "169.254.169.254",
            "100.64.0.1",
            "224.0.0.1",
            "255.255.255.255",
            "240.0.0.1",
            "192.0.2.1",
            "::1",
            "::",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "fd00::1",
            "fc12::1",
            "fe80::1",
            "ff02::1",
            "64:ff9b::7f00:1",
            "2002:7f00:1::",
            "2001:db8::1",
        ] {
            assert!(
                refusal(ip(refused), &[]).is_some(),
                "{refused} must be refused"
            );
        }
        for public in [
            "93.184.216.34",
            "172.32.0.1",
            "100.128.0.1",
            "2606:4700::1111",
            "8.8.8.8",
        ] {
            assert_eq!(refusal(ip(public), &[]), None, "{public} is public");
        }
    }

    #[test]
    fn the_allow_list_opens_exactly_what_it_names() {
        let allow: Vec<IpNet> = vec![
            "192.168.1.20/32".parse().unwrap(),
            "10.20.0.0/16".parse().unwrap(),
        ];
        assert_eq!(refusal(ip("192.168.1.20"), &allow), None);
        assert_eq!(refusal(ip("::ffff:192.168.1.20"), &allow), None);
        assert_eq!(refusal(ip("10.20.99.1"), &allow), None);
        assert!(refusal(ip("192.168.1.21"), &allow).is_some());
        assert!(refusal(ip("10.21.0.1"), &allow).is_some());
        assert!(refusal(ip("127.0.0.1"), &allow).is_some());
    }

    #[tokio::test]
    async fn a_name_resolving_to_this_machine_is_refused_before_connecting() {
        let client = Client::new(Duration::from_secs(5), &[]).unwrap();
        // `localhost` comes from the system resolver: the check is on what
        // the name resolves to, not on the name.
        let url = reqwest::Url::parse("http://localhost:9/hook").unwrap();
        let request = client.post(&url).unwrap();
        match client.send(request).await {
            Err(Failure::Refused(m)) => assert!(m.contains("is this machine"), "{m}"),
            other => panic!("expected a refusal, got {other:?}"),
        }
        let literal = reqwest::Url::parse("http://[::ffff:127.0.0.1]:9/hook").unwrap();
        assert!(matches!(client.post(&literal), Err(Failure::Refused(_))));
    }
}
