//! Checks that a webhook destination does not resolve to a private,
//! loopback or link-local address unless the operator allows it.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::str::FromStr;

/// A network in CIDR notation that webhooks may reach even though it is
/// private, loopback or link-local (`--webhook-allow 10.0.0.0/8`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AllowedNetwork {
    address: IpAddr,
    prefix_len: u8,
}

/// A CIDR string that could not be parsed.
#[derive(Debug, thiserror::Error)]
#[error("`{0}` is not a network in CIDR notation; write it as 10.0.0.0/8 or fd00::/8")]
pub struct InvalidNetwork(String);

impl FromStr for AllowedNetwork {
    type Err = InvalidNetwork;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let invalid = || InvalidNetwork(text.to_owned());
        let (address, prefix_len) = match text.split_once('/') {
            Some((address, prefix)) => (address, Some(prefix)),
            None => (text, None),
        };
        let address: IpAddr = address.trim().parse().map_err(|_| invalid())?;
        let max_len = if address.is_ipv4() { 32 } else { 128 };
        let prefix_len = match prefix_len {
            Some(prefix) => prefix.trim().parse::<u8>().map_err(|_| invalid())?,
            None => max_len,
        };
        if prefix_len > max_len {
            return Err(invalid());
        }
        Ok(AllowedNetwork {
            address,
            prefix_len,
        })
    }
}

impl AllowedNetwork {
    /// Tells whether `ip`, or the IPv4 address it carries, lies in the network.
    pub fn contains(&self, ip: IpAddr) -> bool {
        self.contains_exact(canonical(ip)) || self.contains_exact(ip)
    }

    fn contains_exact(&self, ip: IpAddr) -> bool {
        match (self.address, ip) {
            (IpAddr::V4(network), IpAddr::V4(ip)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix_len))
                    .unwrap_or(0);
                u32::from(network) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(network), IpAddr::V6(ip)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix_len))
                    .unwrap_or(0);
                u128::from(network) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

/// Maps an IPv6 address that carries an IPv4 destination to that IPv4 address:
/// IPv4-mapped (`::ffff:0:0/96`), NAT64 (`64:ff9b::/96` and the local-use
/// `64:ff9b:1::/48`, RFC 6052 and RFC 8215) and 6to4 (`2002::/16`, RFC 3056).
/// A translator or relay forwards such an address to the IPv4 host, so it is
/// checked as that host. NOTE: a local-use NAT64 prefix is read as a /96, with
/// the IPv4 address in the last 32 bits; other prefix lengths are not decoded.
fn canonical(ip: IpAddr) -> IpAddr {
    let IpAddr::V6(v6) = ip else {
        return ip;
    };
    if let Some(v4) = v6.to_ipv4_mapped() {
        return IpAddr::V4(v4);
    }
    let segments = v6.segments();
    let octets = v6.octets();
    let nat64_well_known = segments[..6] == [0x64, 0xff9b, 0, 0, 0, 0];
    let nat64_local_use = segments[..3] == [0x64, 0xff9b, 1];
    if nat64_well_known || nat64_local_use {
        return IpAddr::V4(Ipv4Addr::new(
            octets[12], octets[13], octets[14], octets[15],
        ));
    }
    if segments[0] == 0x2002 {
        return IpAddr::V4(Ipv4Addr::new(octets[2], octets[3], octets[4], octets[5]));
    }
    ip
}

/// Tells whether `ip` is loopback, private, link-local, shared (CGNAT),
/// unspecified, broadcast or multicast: addresses inside the operator's
/// network or the host itself.
pub(crate) fn is_internal(ip: IpAddr) -> bool {
    match canonical(ip) {
        IpAddr::V4(v4) => is_internal_v4(v4),
        IpAddr::V6(v6) => is_internal_v6(v6),
    }
}

fn is_internal_v4(ip: Ipv4Addr) -> bool {
    let [first, second, ..] = ip.octets();
    ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_multicast()
        || first == 0
        || (first == 100 && (64..128).contains(&second))
}

fn is_internal_v6(ip: Ipv6Addr) -> bool {
    let first = ip.segments()[0];
    ip.is_loopback()
        || ip.is_unspecified()
        || ip.is_multicast()
        || (first & 0xfe00) == 0xfc00
        || (first & 0xffc0) == 0xfe80
}

/// Resolves `host:port` and returns its addresses, or an error naming the
/// first internal address the allow-list does not cover.
pub(crate) async fn resolve_allowed(
    host: &str,
    port: u16,
    allow: &[AllowedNetwork],
) -> Result<Vec<SocketAddr>, String> {
    let host_for_lookup = host.trim_start_matches('[').trim_end_matches(']');
    let addresses: Vec<SocketAddr> = tokio::net::lookup_host((host_for_lookup, port))
        .await
        .map_err(|error| format!("resolving `{host}` failed: {error}"))?
        .collect();
    if addresses.is_empty() {
        return Err(format!("`{host}` resolves to no address"));
    }
    for address in &addresses {
        let ip = address.ip();
        if is_internal(ip) && !allow.iter().any(|network| network.contains(ip)) {
            return Err(format!(
                "`{host}` resolves to {ip}, a private, loopback or link-local address; the \
                 operator can allow it with `secruna serve --webhook-allow CIDR`"
            ));
        }
    }
    Ok(addresses)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_addresses_are_detected() {
        for internal in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "::1",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
        ] {
            assert!(is_internal(internal.parse().unwrap()), "{internal}");
        }
        for public in ["93.184.216.34", "2606:4700::1111", "172.32.0.1"] {
            assert!(!is_internal(public.parse().unwrap()), "{public}");
        }
    }

    #[test]
    fn embedded_ipv4_internal_addresses_are_detected() {
        for internal in [
            "64:ff9b::7f00:1",
            "64:ff9b::a9fe:a9fe",
            "64:ff9b:1::a00:1",
            "2002:7f00:1::",
            "2002:a9fe:a9fe::1",
        ] {
            assert!(is_internal(internal.parse().unwrap()), "{internal}");
        }
        for public in ["64:ff9b::5db8:d822", "2002:5db8:d822::1"] {
            assert!(!is_internal(public.parse().unwrap()), "{public}");
        }
    }

    #[test]
    fn allowed_network_matches_prefix() {
        let network: AllowedNetwork = "127.0.0.0/8".parse().unwrap();
        assert!(network.contains("127.9.9.9".parse().unwrap()));
        assert!(network.contains("::ffff:127.0.0.1".parse().unwrap()));
        assert!(!network.contains("128.0.0.1".parse().unwrap()));
        let single: AllowedNetwork = "fd00::1".parse().unwrap();
        assert!(single.contains("fd00::1".parse().unwrap()));
        assert!(!single.contains("fd00::2".parse().unwrap()));
        let nat64: AllowedNetwork = "64:ff9b::/96".parse().unwrap();
        assert!(nat64.contains("64:ff9b::7f00:1".parse().unwrap()));
        for invalid in ["10.0.0.0/33", "nonsense", "10.0.0.0/x"] {
            assert!(invalid.parse::<AllowedNetwork>().is_err(), "{invalid}");
        }
    }
}
