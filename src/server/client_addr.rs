//! Who is on the other end: the client address behind the TLS proxy every deployment has.
//!
//! Behind a proxy the TCP peer is the proxy, so every per-address limit would lump all clients
//! together (one flooder locks everyone out). `X-Forwarded-For` names the client, but anyone can
//! send it, so it is believed only from `TRUSTED_PROXIES`: the client is the right-most entry that
//! is not itself a trusted proxy (each proxy appends the address it saw; entries left of the first
//! untrusted one are the client's own claims). Without trusted proxies the header is ignored.
//!
//! Addresses are normalised for keying limits: IPv4-mapped IPv6 becomes IPv4, and IPv6 clients
//! are keyed by their /64 (one host usually holds a whole /64, so per-address keys would let it
//! rotate through 2^64 of them).

use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

use axum::extract::{ConnectInfo, Request};
use axum::http::HeaderMap;
use axum::middleware::Next;
use axum::response::Response;
use ipnet::IpNet;

/// The resolved client address of a request, put in its extensions by [`resolve_client`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddr(pub IpAddr);

impl ClientAddr {
    /// The key per-address limits use: IPv4 as is, IPv6 by its /64.
    pub fn limit_key(self) -> IpAddr {
        match self.0 {
            IpAddr::V4(v4) => IpAddr::V4(v4),
            IpAddr::V6(v6) => {
                let [a, b, c, d, ..] = v6.segments();
                IpAddr::V6(Ipv6Addr::new(a, b, c, d, 0, 0, 0, 0))
            }
        }
    }
}

/// Decides the client address from the TCP peer and `X-Forwarded-For`.
#[derive(Debug, Clone, Default)]
pub struct ClientAddrResolver {
    trusted: Arc<[IpNet]>,
}

impl ClientAddrResolver {
    pub fn new(trusted: &[IpNet]) -> Self {
        Self {
            trusted: trusted.into(),
        }
    }

    fn is_trusted(&self, ip: IpAddr) -> bool {
        self.trusted.iter().any(|net| net.contains(&ip))
    }

    pub fn resolve(&self, peer: IpAddr, headers: &HeaderMap) -> ClientAddr {
        let peer = unmap(peer);
        if self.trusted.is_empty() || !self.is_trusted(peer) {
            return ClientAddr(peer);
        }
        // Repeated headers are one list, in order.
        let entries: Vec<&str> = headers
            .get_all("x-forwarded-for")
            .iter()
            .flat_map(|value| value.to_str().unwrap_or("\u{0}").split(','))
            .map(str::trim)
            .collect();
        let mut leftmost = None;
        for entry in entries.iter().rev() {
            let Some(ip) = parse_entry(entry) else {
                // The entry we would choose is unreadable: only the peer is certain.
                return ClientAddr(peer);
            };
            if !self.is_trusted(ip) {
                return ClientAddr(ip);
            }
            leftmost = Some(ip);
        }
        ClientAddr(leftmost.unwrap_or(peer))
    }
}

/// One `X-Forwarded-For` entry: `1.2.3.4`, `1.2.3.4:5678`, `::1`, `[::1]` or `[::1]:80`.
fn parse_entry(entry: &str) -> Option<IpAddr> {
    let entry = entry.trim();
    if let Ok(ip) = entry.parse::<IpAddr>() {
        return Some(unmap(ip));
    }
    if let Ok(addr) = entry.parse::<SocketAddr>() {
        return Some(unmap(addr.ip()));
    }
    let inner = entry.strip_prefix('[')?.strip_suffix(']')?;
    inner
        .parse::<Ipv6Addr>()
        .ok()
        .map(|ip| unmap(IpAddr::V6(ip)))
}

fn unmap(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
        v4 => v4,
    }
}

/// Middleware: resolves the client address once per request, stores it as a [`ClientAddr`]
/// extension and records it on the request's log span.
pub async fn resolve_client(
    axum::extract::State(resolver): axum::extract::State<ClientAddrResolver>,
    mut req: Request,
    next: Next,
) -> Response {
    if let Some(ConnectInfo(peer)) = req.extensions().get::<ConnectInfo<SocketAddr>>().copied() {
        let client = resolver.resolve(peer.ip(), req.headers());
        tracing::Span::current().record("client_addr", tracing::field::display(client.0));
        req.extensions_mut().insert(client);
    }
    next.run(req).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn headers(values: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append("x-forwarded-for", HeaderValue::from_str(v).unwrap());
        }
        h
    }

    fn resolver(trusted: &str) -> ClientAddrResolver {
        let nets: Vec<IpNet> = trusted
            .split(',')
            .filter(|s| !s.is_empty())
            .map(|s| s.parse().unwrap())
            .collect();
        ClientAddrResolver::new(&nets)
    }

    #[test]
    fn without_trusted_proxies_the_header_is_ignored() {
        let r = resolver("");
        assert_eq!(
            r.resolve(ip("10.0.0.1"), &headers(&["1.2.3.4"])).0,
            ip("10.0.0.1")
        );
        // An untrusted peer cannot spoof either.
        let r = resolver("10.0.0.0/8");
        assert_eq!(
            r.resolve(ip("8.8.8.8"), &headers(&["1.2.3.4"])).0,
            ip("8.8.8.8")
        );
    }

    #[test]
    fn the_rightmost_untrusted_entry_is_the_client() {
        let r = resolver("10.0.0.0/8,fd00::/8");
        let peer = ip("10.0.0.1");
        for (values, want) in [
            (vec!["6.6.6.6, 1.2.3.4, 10.0.0.2"], "1.2.3.4"),
            (vec!["6.6.6.6", "1.2.3.4", "10.0.0.2"], "1.2.3.4"),
            (vec!["1.2.3.4:5678"], "1.2.3.4"),
            (vec!["[2001:db8::1]:80"], "2001:db8::1"),
            (vec!["[2001:db8::1]"], "2001:db8::1"),
            (vec!["::ffff:1.2.3.4"], "1.2.3.4"),
            // All trusted: the left-most.
            (vec!["10.1.1.1, 10.2.2.2"], "10.1.1.1"),
            // No header: the peer.
            (vec![], "10.0.0.1"),
            // The chosen entry is garbage: the peer.
            (vec!["1.2.3.4, nonsense"], "10.0.0.1"),
            (vec!["1.2.3.4, unknown, 10.0.0.3"], "10.0.0.1"),
            // Garbage left of the client does not matter.
            (vec!["nonsense, 1.2.3.4"], "1.2.3.4"),
        ] {
            assert_eq!(r.resolve(peer, &headers(&values)).0, ip(want), "{values:?}");
        }
        // The peer is unmapped before it is matched against the trusted list.
        assert_eq!(
            r.resolve(ip("::ffff:10.0.0.1"), &headers(&["1.2.3.4"])).0,
            ip("1.2.3.4")
        );
    }

    #[test]
    fn ipv6_clients_are_keyed_by_their_64() {
        let a = ClientAddr(ip("2001:db8:1:2:aaaa::1")).limit_key();
        let b = ClientAddr(ip("2001:db8:1:2:bbbb::9")).limit_key();
        let c = ClientAddr(ip("2001:db8:1:3::1")).limit_key();
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_eq!(ClientAddr(ip("1.2.3.4")).limit_key(), ip("1.2.3.4"));
    }
}
