#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Syntax checks for network values in plugin configurations (resolvers,
/// blocked networks, domain names). They only parse; nothing is resolved.
public enum NetworkSyntax {
    /// The 4 or 16 bytes of an IPv4 or IPv6 address in text form, or nil.
    public static func ipAddress(_ text: String) -> [UInt8]? {
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 {
            return withUnsafeBytes(of: &v4) { Array($0) }
        }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, text, &v6) == 1 {
            return withUnsafeBytes(of: &v6) { Array($0) }
        }
        return nil
    }

    /// A network in CIDR form ("10.0.0.0/8", "fe80::/10"): the address bytes and
    /// prefix length, or nil. A bare address means a host (/32 or /128).
    public static func cidr(_ text: String) -> (address: [UInt8], prefix: Int)? {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count <= 2, let address = ipAddress(String(parts[0])) else { return nil }
        let maxPrefix = address.count * 8
        guard parts.count == 2 else { return (address, maxPrefix) }
        guard let prefix = Int(parts[1]), (0...maxPrefix).contains(prefix),
              parts[1].allSatisfy(\.isASCII) else { return nil }
        return (address, prefix)
    }

    /// A DNS resolver as `ip`, `ip:port` (IPv4) or `[v6]:port`; default port 53.
    public static func resolver(_ text: String) -> (host: String, port: Int)? {
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { return nil }
            let host = String(text[text.index(after: text.startIndex)..<close])
            let rest = text[text.index(after: close)...]
            guard ipAddress(host)?.count == 16 else { return nil }
            if rest.isEmpty { return (host, 53) }
            guard rest.hasPrefix(":"), let port = Int(rest.dropFirst()), (1...65535).contains(port) else { return nil }
            return (host, port)
        }
        if ipAddress(text) != nil { return (text, 53) }
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, ipAddress(String(parts[0]))?.count == 4,
              let port = Int(parts[1]), (1...65535).contains(port) else { return nil }
        return (String(parts[0]), port)
    }

    /// A lowercase LDH domain name (A-labels), 1...253 octets, labels 1...63,
    /// no leading or trailing hyphen in a label, no trailing dot.
    public static func isDomainName(_ text: String) -> Bool {
        guard (1...253).contains(text.utf8.count) else { return false }
        for label in text.split(separator: ".", omittingEmptySubsequences: false) {
            guard (1...63).contains(label.utf8.count), label.first != "-", label.last != "-" else { return false }
            guard label.utf8.allSatisfy({ ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2D }) else {
                return false
            }
        }
        return true
    }

    /// An http or https URL with a host, checked by shape only.
    public static func isHTTPURL(_ text: String) -> Bool {
        let lower = text.lowercased()
        for scheme in ["https://", "http://"] where lower.hasPrefix(scheme) {
            let rest = text.dropFirst(scheme.count)
            let host = rest.prefix { $0 != "/" && $0 != "?" && $0 != "#" }
            return !host.isEmpty && !text.contains(where: { $0 == " " || $0.isNewline })
        }
        return false
    }
}
