//! Where a webhook may be sent. An organization admin names the URL; the server sends
//! to it. Left open, that lets anyone with the role make the server reach what only it
//! can reach — its own loopback services, the private network, a cloud's metadata
//! service (server-side request forgery; OWASP's SSRF prevention cheat sheet). So a
//! delivery goes only to public addresses, checked on the addresses the name resolves
//! to at send time (the connection is then pinned to a checked address), never
//! following redirects; an operator may allow named hosts (a receiver on the same
//! network), and nothing else.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Whether an address is on the public internet: not loopback, unspecified, private
/// (RFC 1918, RFC 4193), shared (RFC 6598), link-local (where cloud metadata services
/// live, 169.254.169.254), multicast, broadcast, benchmarking, documentation or
/// reserved; an IPv4 address inside IPv6 (mapped, compatible, NAT64, 6to4) is judged as
/// the IPv4 address it carries.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => match embedded_v4(v6) {
            Some(v4) => is_public_v4(v4),
            None => is_public_v6(v6),
        },
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    !(a == 0                                   // "this network" (0.0.0.0/8)
        || a == 10                             // private
        || a == 127                            // loopback
        || (a == 100 && (64..128).contains(&b)) // shared address space (carrier NAT)
        || (a == 169 && b == 254)              // link-local, cloud metadata
        || (a == 172 && (16..32).contains(&b)) // private
        || (a == 192 && b == 0 && c == 0)      // IETF protocol assignments
        || (a == 192 && b == 0 && c == 2)      // documentation
        || (a == 192 && b == 88 && c == 99)    // 6to4 relay anycast
        || (a == 192 && b == 168)              // private
        || (a == 198 && (18..20).contains(&b)) // benchmarking
        || (a == 198 && b == 51 && c == 100)   // documentation
        || (a == 203 && b == 0 && c == 113)    // documentation
        || a >= 224) // multicast, reserved, broadcast
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    let s = ip.segments();
    !(ip.is_unspecified()
        || ip.is_loopback()
        || (s[0] & 0xfe00) == 0xfc00   // unique local
        || (s[0] & 0xffc0) == 0xfe80   // link-local
        || (s[0] & 0xffc0) == 0xfec0   // site-local (deprecated)
        || (s[0] & 0xff00) == 0xff00   // multicast
        || (s[0] == 0x2001 && s[1] == 0x0db8) // documentation
        || (s[0] == 0x2001 && s[1] == 0x0000) // Teredo (reaches IPv4 through a relay)
        || (s[0] == 0x0064 && s[1] == 0xff9b && s[2] == 0x0001) // local-use NAT64 (RFC 8215)
        || (s[0..6] == [0, 0, 0, 0, 0xffff, 0] ) // SIIT (IPv4-translated, RFC 6052 §2.1)
        || (s[0] == 0x0100 && s[1] == 0 && s[2] == 0 && s[3] == 0)) // discard-only
}

/// The IPv4 address an IPv6 address carries, where it carries one.
fn embedded_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    let s = ip.segments();
    let tail = Ipv4Addr::new((s[6] >> 8) as u8, s[6] as u8, (s[7] >> 8) as u8, s[7] as u8);
    if let Some(v4) = ip.to_ipv4_mapped() {
        return Some(v4);
    }
    if s[..6] == [0; 6] && !ip.is_loopback() && !ip.is_unspecified() {
        return Some(tail); // IPv4-compatible (deprecated)
    }
    if s[0] == 0x0064 && s[1] == 0xff9b && s[2..6] == [0; 4] {
        return Some(tail); // NAT64 (RFC 6052)
    }
    if s[0] == 0x2002 {
        return Some(Ipv4Addr::new((s[1] >> 8) as u8, s[1] as u8, (s[2] >> 8) as u8, s[2] as u8));
        // 6to4
    }
    None
}

/// Whether a host is one the operator allowed by name (compared without case).
pub fn is_allowed_host(host: &str, allowed: &[String]) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    allowed.iter().any(|a| a.trim_start_matches('[').trim_end_matches(']').eq_ignore_ascii_case(host))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("address")
    }

    #[test]
    fn internal_addresses_are_refused() {
        for s in [
            "127.0.0.1",
            "127.255.0.9",
            "0.0.0.0",
            "10.1.2.3",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "100.127.255.254",
            "224.0.0.1",
            "255.255.255.255",
            "198.18.0.1",
            "192.0.2.10",
            "::1",
            "::",
            "fc00::1",
            "fd12:3456::1",
            "fe80::1",
            "ff02::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "::ffff:10.0.0.1",
            "::127.0.0.1",
            "64:ff9b::a9fe:a9fe",
            "2002:7f00:1::1",
            "2001:db8::1",
        ] {
            assert!(!is_public(ip(s)), "{s} must be refused");
        }
    }

    #[test]
    fn public_addresses_are_allowed() {
        for s in [
            "1.1.1.1",
            "8.8.8.8",
            "172.32.0.1",
            "100.128.0.1",
            "169.255.0.1",
            "2606:4700::1111",
            "::ffff:8.8.8.8",
            "2002:0808:0808::1",
        ] {
            assert!(is_public(ip(s)), "{s} is public");
        }
    }

    #[test]
    fn allowed_hosts_match_by_name() {
        let allowed = vec!["Receiver.Internal".to_string(), "[::1]".to_string()];
        assert!(is_allowed_host("receiver.internal", &allowed));
        assert!(is_allowed_host("::1", &allowed));
        assert!(!is_allowed_host("receiver.internal.evil.example", &allowed));
    }

    proptest! {
        /// An IPv4 address and the same address mapped into IPv6 get the same answer.
        #[test]
        fn mapped_addresses_are_judged_as_their_ipv4(a in any::<u32>()) {
            let v4 = Ipv4Addr::from(a);
            prop_assert_eq!(is_public(IpAddr::V4(v4)), is_public(IpAddr::V6(v4.to_ipv6_mapped())));
        }
    }
}
