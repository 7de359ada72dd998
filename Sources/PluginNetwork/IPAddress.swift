#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import PluginKit

/// An IPv4 or IPv6 address: what a name resolves to and what a connection is pinned to.
public struct IPAddress: Sendable, Hashable, CustomStringConvertible {
    /// 4 bytes (IPv4) or 16 bytes (IPv6), network order.
    public let bytes: [UInt8]

    /// nil unless `bytes` has 4 or 16 bytes.
    public init?(bytes: [UInt8]) {
        guard bytes.count == 4 || bytes.count == 16 else { return nil }
        self.bytes = bytes
    }

    /// Parses text form ("192.0.2.1", "2001:db8::1"); nil otherwise.
    public init?(_ text: String) {
        guard let bytes = NetworkSyntax.ipAddress(text) else { return nil }
        self.bytes = bytes
    }

    public var isIPv6: Bool { bytes.count == 16 }

    /// The IPv4 address inside an IPv4-mapped IPv6 address (::ffff:a.b.c.d), else nil.
    public var mappedIPv4: IPAddress? {
        guard bytes.count == 16, bytes[0..<10].allSatisfy({ $0 == 0 }), bytes[10] == 0xFF, bytes[11] == 0xFF else { return nil }
        return IPAddress(bytes: Array(bytes[12..<16]))
    }

    /// Canonical text form (inet_ntop).
    public var description: String {
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN) + 1)
        let family = isIPv6 ? AF_INET6 : AF_INET
        let ok = bytes.withUnsafeBytes { src in
            inet_ntop(family, src.baseAddress, &buffer, socklen_t(buffer.count)) != nil
        }
        guard ok else { return bytes.map(String.init).joined(separator: ".") }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// As a URL host: IPv6 in brackets.
    public var urlHost: String { isIPv6 ? "[\(description)]" : description }
}

/// A network in CIDR form, e.g. 127.0.0.0/8 or fe80::/10.
public struct IPNetwork: Sendable, Hashable, CustomStringConvertible {
    public let address: IPAddress
    public let prefixLength: Int

    /// Parses "a.b.c.d/n", "v6/n" or a bare address (a host network); nil otherwise.
    public init?(_ text: String) {
        guard let (bytes, prefix) = NetworkSyntax.cidr(text), let address = IPAddress(bytes: bytes) else { return nil }
        self.address = address
        self.prefixLength = prefix
    }

    /// Whether `candidate` lies in this network. Families must match, except that an
    /// IPv4-mapped IPv6 address is also checked as the IPv4 address it carries.
    public func contains(_ candidate: IPAddress) -> Bool {
        if candidate.bytes.count != address.bytes.count {
            if let v4 = candidate.mappedIPv4, !address.isIPv6 { return contains(v4) }
            return false
        }
        var remaining = prefixLength
        for (a, b) in zip(address.bytes, candidate.bytes) {
            guard remaining > 0 else { return true }
            let bits = min(8, remaining)
            let mask = UInt8(truncatingIfNeeded: 0xFF << (8 - bits))
            if a & mask != b & mask { return false }
            remaining -= bits
        }
        return true
    }

    public var description: String { "\(address)/\(prefixLength)" }
}

/// Networks a plugin must never connect to (SSRF guard): every address of every hop
/// is checked before a connection is made.
public struct BlockedNetworks: Sendable {
    public let networks: [IPNetwork]

    public init(_ networks: [IPNetwork]) { self.networks = networks }

    /// Parses each CIDR; nil when one does not parse (configs check the syntax first).
    public init?(cidrs: [String]) {
        var parsed: [IPNetwork] = []
        for text in cidrs {
            guard let network = IPNetwork(text) else { return nil }
            parsed.append(network)
        }
        networks = parsed
    }

    /// The first network holding `address`, or nil when it may be connected to.
    public func blocking(_ address: IPAddress) -> IPNetwork? {
        networks.first { $0.contains(address) }
    }
}
