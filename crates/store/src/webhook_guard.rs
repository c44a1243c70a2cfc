//! The webhook guard (A1.52, security): a provider chooses the URL the register POSTs to, so without a guard
//! a webhook is a way to make the register's server send requests into its own network (server-side request
//! forgery): the cloud metadata service at 169.254.169.254, an admin port on 127.0.0.1, a database on
//! 10.x. The guard is deny-by-default:
//!
//! - only `https://` URLs; plain `http://` only when `[notify.webhooks] allow_http` is set (the demo, tests);
//! - the host's addresses must all be public: loopback, private (RFC 1918, `fc00::/7`), link-local
//!   (`169.254.0.0/16` with the metadata address, `fe80::/10`), unspecified (`0.0.0.0/8`, `::`), multicast,
//!   shared (CGNAT, `100.64.0.0/10`), reserved and broadcast (`240.0.0.0/4`), `192.0.0.0/24` and
//!   `198.18.0.0/15` are refused, and so are IPv6 addresses carrying such an IPv4 address (IPv4-mapped
//!   `::ffff:a.b.c.d`, IPv4-compatible `::a.b.c.d`, NAT64 `64:ff9b::/96`, 6to4 `2002::/16`);
//! - `[notify.webhooks] allow` lists what may be reached anyway: CIDRs (`127.0.0.1/32`, `10.20.0.0/16`) whose
//!   addresses are permitted whatever name leads to them, and host names (`receiver.demo.internal`) trusted to
//!   resolve anywhere — for names the operator controls only.
//!
//! It runs twice: when a body registers the URL ([`crate::Store::webhook_set`], refused with `PSR-SUB-0005`),
//! and again before every delivery, after resolving the name, on the addresses the worker then connects to
//! (the worker connects to exactly the checked [`WebhookTarget::addrs`], so a name that resolves elsewhere
//! between the check and the connection — DNS rebinding — gains nothing). A URL that passed at registration
//! is refused at delivery if its name now resolves to a forbidden address or the allow-list no longer
//! permits it. The worker follows no redirects.

use std::collections::HashMap;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::{Arc, RwLock};

use serde::{Deserialize, Serialize};

/// The longest URL a body may register.
pub const MAX_WEBHOOK_URL: usize = 2000;

/// `[notify.webhooks]`: what webhook URLs may reach besides public `https://` servers.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WebhookPolicy {
    /// Accept and deliver to plain `http://` URLs too (the demo and tests; never in production).
    pub allow_http: bool,
    /// CIDRs (`127.0.0.1/32`, `fd00::/8`; a bare address is a /32 or /128) whose addresses webhooks may reach
    /// although they are in a refused range, and host names trusted to resolve to such addresses.
    pub allow: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Allowed {
    Net(IpAddr, u8),
    Host(String),
}

fn parse_allowed(entry: &str) -> Result<Allowed, String> {
    let s = entry.trim();
    let (addr, prefix) = match s.split_once('/') {
        Some((a, p)) => (a, Some(p)),
        None => (s, None),
    };
    if let Ok(ip) = addr.parse::<IpAddr>() {
        let max = if ip.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => max,
            Some(p) => p
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= max)
                .ok_or_else(|| format!("{s:?}: the prefix length must be 0 to {max}"))?,
        };
        return Ok(Allowed::Net(canonical(ip), prefix));
    }
    let host = s.trim_end_matches('.').to_ascii_lowercase();
    let label_ok = |l: &str| {
        !l.is_empty() && l.len() <= 63 && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
    };
    if prefix.is_some() || host.is_empty() || !host.split('.').all(label_ok) {
        return Err(format!("{s:?}: neither a CIDR nor a host name"));
    }
    Ok(Allowed::Host(host))
}

/// An IPv4-mapped IPv6 address as the IPv4 address it is.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(a) => a.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

fn in_net(ip: IpAddr, net: IpAddr, prefix: u8) -> bool {
    match (canonical(ip), net) {
        (IpAddr::V4(a), IpAddr::V4(n)) => {
            prefix == 0 || (u32::from(a) ^ u32::from(n)) >> (32 - u32::from(prefix)) == 0
        }
        (IpAddr::V6(a), IpAddr::V6(n)) => {
            prefix == 0 || (u128::from(a) ^ u128::from(n)) >> (128 - u32::from(prefix)) == 0
        }
        _ => false,
    }
}

fn v4_range(a: Ipv4Addr) -> Option<&'static str> {
    let o = a.octets();
    Some(match o {
        [0, ..] => "an unspecified ('this network', 0.0.0.0/8)",
        [127, ..] => "a loopback",
        [10, ..] | [192, 168, ..] => "a private (RFC 1918)",
        [172, b, ..] if b & 0xf0 == 16 => "a private (RFC 1918)",
        [169, 254, ..] => "a link-local (169.254.0.0/16, cloud metadata)",
        [100, b, ..] if b & 0xc0 == 64 => "a shared (CGNAT, 100.64.0.0/10)",
        [224..=239, ..] => "a multicast",
        [240..=255, ..] => "a reserved or broadcast",
        [192, 0, 0, _] => "an IETF protocol (192.0.0.0/24)",
        [198, b, ..] if b & 0xfe == 18 => "a benchmarking (198.18.0.0/15)",
        _ => return None,
    })
}

/// The IPv4 address an IPv6 address carries and leads to: IPv4-mapped (`::ffff:a.b.c.d`), IPv4-translated
/// (`::ffff:0:a.b.c.d`), IPv4-compatible (`::a.b.c.d`), NAT64 (`64:ff9b::/96`) or 6to4 (`2002::/16`).
fn embedded_v4(a: Ipv6Addr) -> Option<Ipv4Addr> {
    let s = a.segments();
    let v4 = |hi: u16, lo: u16| Ipv4Addr::from((u32::from(hi) << 16) | u32::from(lo));
    match s {
        [0, 0, 0, 0, 0, 0xffff, hi, lo] | [0, 0, 0, 0, 0xffff, 0, hi, lo] => Some(v4(hi, lo)),
        [0, 0, 0, 0, 0, 0, hi, lo] if (u32::from(hi) << 16 | u32::from(lo)) > 1 => Some(v4(hi, lo)),
        [0x64, 0xff9b, 0, 0, 0, 0, hi, lo] => Some(v4(hi, lo)),
        [0x2002, hi, lo, ..] => Some(v4(hi, lo)),
        _ => None,
    }
}

/// Which refused range `ip` is in ("a loopback", "a private (RFC 1918)", …), or `None` for a public address.
pub fn forbidden_range(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(a) => v4_range(a),
        IpAddr::V6(a) => {
            if let Some(v4) = embedded_v4(a) {
                return v4_range(v4);
            }
            let first = a.segments()[0];
            if a.is_unspecified() {
                Some("an unspecified")
            } else if a.is_loopback() {
                Some("a loopback")
            } else if first & 0xfe00 == 0xfc00 {
                Some("a private (unique local, fc00::/7)")
            } else if first & 0xffc0 == 0xfe80 || first & 0xffc0 == 0xfec0 {
                Some("a link-local")
            } else if first & 0xff00 == 0xff00 {
                Some("a multicast")
            } else {
                None
            }
        }
    }
}

/// A fixed resolver's table: host name to addresses.
type Table = Arc<RwLock<HashMap<String, Vec<IpAddr>>>>;

/// How webhook host names become addresses: the system's resolver, or (tests, demos) a fixed table.
#[derive(Clone, Default)]
pub struct Resolver {
    fixed: Option<Table>,
}

impl fmt::Debug for Resolver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.fixed.is_some() {
            "Resolver(fixed)"
        } else {
            "Resolver(system)"
        })
    }
}

impl Resolver {
    /// The system's resolver (`getaddrinfo`).
    pub fn system() -> Resolver {
        Resolver::default()
    }

    /// A resolver that knows only the names given to [`Resolver::set`] (which can change them later, as a
    /// rebinding DNS server would); every other name does not resolve.
    pub fn fixed() -> Resolver {
        Resolver {
            fixed: Some(Arc::default()),
        }
    }

    /// What `host` resolves to from now on (a fixed resolver only; a system one ignores this).
    pub fn set(&self, host: &str, addrs: &[IpAddr]) {
        if let Some(m) = &self.fixed {
            m.write()
                .unwrap_or_else(|e| e.into_inner())
                .insert(host.to_ascii_lowercase(), addrs.to_vec());
        }
    }

    async fn lookup(&self, host: &str, port: u16) -> Result<Vec<IpAddr>, String> {
        let addrs: Vec<IpAddr> = match &self.fixed {
            Some(m) => m
                .read()
                .unwrap_or_else(|e| e.into_inner())
                .get(host)
                .cloned()
                .unwrap_or_default(),
            None => tokio::net::lookup_host((host, port))
                .await
                .map_err(|e| format!("{host} does not resolve: {e}"))?
                .map(|a| a.ip())
                .collect(),
        };
        if addrs.is_empty() {
            return Err(format!("{host} does not resolve"));
        }
        Ok(addrs)
    }
}

/// A webhook URL that passed the guard, with the addresses to connect to (and no others).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WebhookTarget {
    /// The URL, normalized (WHATWG): what is stored and shown.
    pub url: String,
    pub https: bool,
    /// The host as the `Host` header and TLS name give it: a name (lower case, IDNA) or an address
    /// (an IPv6 one without brackets).
    pub host: String,
    pub port: u16,
    /// The path and query, at least `/`.
    pub path: String,
    /// The checked addresses, in the resolver's order.
    pub addrs: Vec<SocketAddr>,
}

impl WebhookTarget {
    /// The `Host` header: the host, with the port unless it is the scheme's default.
    pub fn host_header(&self) -> String {
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        match (self.https, self.port) {
            (true, 443) | (false, 80) => host,
            _ => format!("{host}:{}", self.port),
        }
    }
}

/// Why a webhook URL is refused: not a usable URL at all (`PSR-VAL-0011`), or a URL the policy does not
/// let the register reach (`PSR-SUB-0005`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refusal {
    Malformed(String),
    Forbidden(String),
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::Malformed(s) | Refusal::Forbidden(s) => f.write_str(s),
        }
    }
}

impl From<Refusal> for popreg_domain::DomainError {
    fn from(r: Refusal) -> Self {
        match r {
            Refusal::Malformed(s) => {
                popreg_domain::DomainError::new(popreg_domain::Code::ValueOutOfRange, s)
            }
            Refusal::Forbidden(s) => {
                popreg_domain::DomainError::new(popreg_domain::Code::WebhookRefused, s)
            }
        }
    }
}

/// The policy with its allow-list parsed, and the resolver it checks names with.
#[derive(Clone, Debug, Default)]
pub struct WebhookGuard {
    allow_http: bool,
    allow: Vec<Allowed>,
    resolver: Resolver,
}

impl WebhookGuard {
    /// The guard of a policy, with the system's resolver; an allow-list entry that is neither a CIDR nor a
    /// host name is an error (of the configuration).
    pub fn new(policy: &WebhookPolicy) -> Result<WebhookGuard, String> {
        Ok(WebhookGuard {
            allow_http: policy.allow_http,
            allow: policy
                .allow
                .iter()
                .map(|e| parse_allowed(e))
                .collect::<Result<_, _>>()
                .map_err(|e| format!("notify.webhooks.allow: {e}"))?,
            resolver: Resolver::system(),
        })
    }

    /// The same guard resolving names with `resolver`.
    pub fn with_resolver(mut self, resolver: Resolver) -> WebhookGuard {
        self.resolver = resolver;
        self
    }

    /// Whether `ip`, reached through `host`, is permitted: a public address, or one the allow-list names.
    pub fn permits(&self, host: &str, ip: IpAddr) -> Result<(), String> {
        let Some(range) = forbidden_range(ip) else {
            return Ok(());
        };
        let allowed = self.allow.iter().any(|a| match a {
            Allowed::Net(net, prefix) => in_net(ip, *net, *prefix),
            Allowed::Host(h) => h == host,
        });
        if allowed {
            Ok(())
        } else {
            Err(format!(
                "{host} leads to {ip}, {range} address, which webhooks may not reach"
            ))
        }
    }

    /// Check `url` and resolve its host: every address must be permitted (one forbidden address refuses
    /// the URL, whatever the others are).
    pub async fn target(&self, url: &str) -> Result<WebhookTarget, Refusal> {
        let malformed = |why: &str| Refusal::Malformed(format!("url: {why}"));
        if url.len() > MAX_WEBHOOK_URL {
            return Err(malformed("longer than 2000 characters"));
        }
        if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(malformed("contains spaces or control characters"));
        }
        let u = url::Url::parse(url).map_err(|e| malformed(&format!("not a URL ({e})")))?;
        let https = match u.scheme() {
            "https" => true,
            "http" if self.allow_http => false,
            "http" => {
                return Err(Refusal::Forbidden(
                    "url: only https:// webhooks are accepted".into(),
                ));
            }
            _ => return Err(malformed("must be an https URL")),
        };
        if !u.username().is_empty() || u.password().is_some() {
            return Err(malformed("must not carry credentials"));
        }
        if u.fragment().is_some() {
            return Err(malformed("must not have a fragment"));
        }
        let port = u
            .port_or_known_default()
            .ok_or_else(|| malformed("no port"))?;
        let (host, ips) = match u.host() {
            Some(url::Host::Ipv4(a)) => (a.to_string(), vec![IpAddr::V4(a)]),
            Some(url::Host::Ipv6(a)) => (a.to_string(), vec![IpAddr::V6(a)]),
            Some(url::Host::Domain(d)) => {
                let d = d.trim_end_matches('.').to_ascii_lowercase();
                if d.is_empty() {
                    return Err(malformed("no host"));
                }
                let ips = self
                    .resolver
                    .lookup(&d, port)
                    .await
                    .map_err(|e| Refusal::Forbidden(format!("url: {e}")))?;
                (d, ips)
            }
            None => return Err(malformed("no host")),
        };
        for ip in &ips {
            self.permits(&host, *ip)
                .map_err(|e| Refusal::Forbidden(format!("url: {e}")))?;
        }
        let mut path = u.path().to_string();
        if let Some(q) = u.query() {
            path.push('?');
            path.push_str(q);
        }
        Ok(WebhookTarget {
            url: u.to_string(),
            https,
            host,
            port,
            path,
            addrs: ips
                .into_iter()
                .map(|ip| SocketAddr::new(ip, port))
                .collect(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn guard(allow_http: bool, allow: &[&str]) -> WebhookGuard {
        WebhookGuard::new(&WebhookPolicy {
            allow_http,
            allow: allow.iter().map(|s| s.to_string()).collect(),
        })
        .unwrap()
        .with_resolver(Resolver::fixed())
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn a1_52_forbidden_ranges_include_the_ipv6_forms_of_ipv4_ones() {
        for a in [
            "127.0.0.1",
            "127.255.0.9",
            "10.1.2.3",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "100.127.255.255",
            "0.0.0.0",
            "0.1.2.3",
            "224.0.0.1",
            "239.255.255.250",
            "255.255.255.255",
            "240.0.0.1",
            "192.0.0.8",
            "198.18.0.1",
            "::",
            "::1",
            "fc00::1",
            "fd12:3456::1",
            "fe80::1",
            "febf::1",
            "ff02::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "::ffff:10.0.0.1",
            "::ffff:0:10.0.0.1",
            "::127.0.0.1",
            "64:ff9b::a9fe:a9fe",
            "2002:7f00:1::",
            "2002:c0a8:101::1",
        ] {
            assert!(forbidden_range(ip(a)).is_some(), "{a} must be refused");
        }
        for a in [
            "1.1.1.1",
            "8.8.8.8",
            "172.32.0.1",
            "172.15.255.255",
            "100.63.255.255",
            "100.128.0.1",
            "169.253.1.1",
            "192.0.2.1",
            "2001:4860:4860::8888",
            "::ffff:8.8.8.8",
            "64:ff9b::808:808",
            "2002:0808:0808::1",
        ] {
            assert_eq!(forbidden_range(ip(a)), None, "{a} is public");
        }
    }

    #[test]
    fn a1_52_the_allow_list_takes_cidrs_addresses_and_host_names() {
        let g = guard(
            false,
            &["127.0.0.1/32", "10.20.0.0/16", "fd00::/8", "Demo.Internal."],
        );
        assert!(g.permits("x", ip("127.0.0.1")).is_ok());
        assert!(
            g.permits("x", ip("::ffff:127.0.0.1")).is_ok(),
            "mapped form"
        );
        assert!(g.permits("x", ip("127.0.0.2")).is_err());
        assert!(g.permits("x", ip("10.20.255.1")).is_ok());
        assert!(g.permits("x", ip("10.21.0.1")).is_err());
        assert!(g.permits("x", ip("fd00::5")).is_ok());
        assert!(g.permits("x", ip("fc00::5")).is_err());
        assert!(g.permits("demo.internal", ip("192.168.7.7")).is_ok());
        assert!(g.permits("x", ip("8.8.8.8")).is_ok());
        let e = g.permits("x", ip("169.254.169.254")).unwrap_err();
        assert!(e.contains("link-local"), "{e}");
        for bad in ["10.0.0.0/33", "::/129", "not a host!", "a/8", ""] {
            assert!(
                WebhookGuard::new(&WebhookPolicy {
                    allow_http: false,
                    allow: vec![bad.into()],
                })
                .is_err(),
                "{bad:?}"
            );
        }
        assert!(WebhookGuard::new(&WebhookPolicy::default()).is_ok());
    }

    #[tokio::test]
    async fn a1_52_urls_are_checked_after_parsing_and_resolving() {
        let g = guard(false, &[]);
        let forbidden = |r: Result<WebhookTarget, Refusal>| matches!(r, Err(Refusal::Forbidden(_)));
        // Only https; http only with the switch.
        assert!(forbidden(g.target("http://8.8.8.8/hook").await));
        assert!(matches!(
            g.target("ftp://8.8.8.8/").await,
            Err(Refusal::Malformed(_))
        ));
        assert!(matches!(
            g.target("https://user:pw@8.8.8.8/").await,
            Err(Refusal::Malformed(_))
        ));
        assert!(matches!(
            g.target("https://8.8.8.8/#x").await,
            Err(Refusal::Malformed(_))
        ));
        let t = g.target("https://8.8.8.8/a?b=1").await.unwrap();
        assert_eq!((t.https, t.port, t.path.as_str()), (true, 443, "/a?b=1"));
        assert_eq!(t.addrs, vec!["8.8.8.8:443".parse().unwrap()]);
        assert_eq!(t.host_header(), "8.8.8.8");
        // Literal addresses in every spelling a URL parser accepts.
        for u in [
            "https://127.0.0.1/",
            "https://2130706433/",
            "https://0x7f.1/",
            "https://0177.0.0.1/",
            "https://[::1]/",
            "https://[::ffff:127.0.0.1]/",
            "https://[::ffff:a9fe:a9fe]/latest/meta-data/",
            "https://169.254.169.254/latest/meta-data/",
            "https://[fe80::1]/",
            "https://100.64.0.1/",
            "https://0.0.0.0/",
        ] {
            assert!(forbidden(g.target(u).await), "{u}");
        }
        // Names: every address must be public; an unknown name is refused.
        let r = Resolver::fixed();
        let g = guard(true, &[]).with_resolver(r.clone());
        assert!(forbidden(g.target("https://nowhere.example/").await));
        r.set("hooks.example", &[ip("8.8.8.8"), ip("10.0.0.1")]);
        assert!(forbidden(g.target("https://hooks.example/").await));
        r.set("hooks.example", &[ip("8.8.8.8")]);
        let t = g.target("http://HOOKS.example.:8080/x").await.unwrap();
        assert_eq!(t.host, "hooks.example");
        assert_eq!(t.host_header(), "hooks.example:8080");
        assert_eq!(t.addrs, vec!["8.8.8.8:8080".parse().unwrap()]);
        // DNS rebinding: the same name now leads to the metadata service.
        r.set("hooks.example", &[ip("169.254.169.254")]);
        assert!(forbidden(g.target("http://hooks.example:8080/x").await));
    }
}
