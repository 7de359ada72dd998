#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Syntax checks for addresses written in the configuration: IP addresses, CIDR
/// networks (`trusted_proxies`, `blocked_networks`) and DNS resolver endpoints.
enum NetworkSyntax {
    /// The address family of `text` if it is a literal IPv4 or IPv6 address (checked with `inet_pton`).
    static func addressBytes(_ text: String) -> [UInt8]? {
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

    /// The text form of 4 or 16 address bytes (`inet_ntop`: lowercase, `::` compressed), or nil.
    static func addressText(_ bytes: [UInt8]) -> String? {
        guard bytes.count == 4 || bytes.count == 16 else { return nil }
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN) + 1)
        let family = bytes.count == 16 ? AF_INET6 : AF_INET
        let ok = bytes.withUnsafeBytes { inet_ntop(family, $0.baseAddress, &buffer, socklen_t(buffer.count)) != nil }
        guard ok else { return nil }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// The 4 bytes of the IPv4 address inside an IPv4-mapped IPv6 address (`::ffff:a.b.c.d`),
    /// else `bytes` unchanged.
    static func unmappedIPv4(_ bytes: [UInt8]) -> [UInt8] {
        guard bytes.count == 16, bytes[0..<10].allSatisfy({ $0 == 0 }), bytes[10] == 0xFF, bytes[11] == 0xFF else {
            return bytes
        }
        return Array(bytes[12..<16])
    }

    static func isIPv4(_ text: String) -> Bool { addressBytes(text)?.count == 4 }
    static func isIPv6(_ text: String) -> Bool { addressBytes(text)?.count == 16 }

    /// `ADDRESS` or `ADDRESS/PREFIX` as the address's bytes and the prefix length (the
    /// address's full length without one); nil when either part is malformed.
    static func network(_ text: String) -> (bytes: [UInt8], prefix: Int)? {
        let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        guard let bytes = addressBytes(parts[0]) else { return nil }
        let bits = bytes.count * 8
        guard parts.count == 2 else { return (bytes, bits) }
        guard let prefix = Int(parts[1]), (0...bits).contains(prefix), parts[1].allSatisfy(\.isNumber) else { return nil }
        return (bytes, prefix)
    }

    /// nil when `text` is `ADDRESS` or `ADDRESS/PREFIX` with no host bits set; else what is wrong.
    static func cidrProblem(_ text: String) -> String? {
        guard let address = addressBytes(String(text.prefix { $0 != "/" })) else {
            return "\"\(text)\" is not an IP network (expected ADDRESS or ADDRESS/PREFIX)"
        }
        let bits = address.count * 8
        guard let (bytes, prefix) = network(text) else {
            return "\"\(text)\" has an invalid prefix length (0-\(bits))"
        }
        for bit in prefix..<bits where bytes[bit / 8] & (0x80 >> UInt8(bit % 8)) != 0 {
            return "\"\(text)\" has host bits set"
        }
        return nil
    }

    /// nil when `text` is `IP`, `IPv4:PORT` or `[IPv6]:PORT`; else what is wrong.
    static func resolverProblem(_ text: String) -> String? {
        let bad = "\"\(text)\" is not a resolver address (expected IP, IP:PORT or [IPv6]:PORT)"
        if addressBytes(text) != nil { return nil }
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { return bad }
            let host = String(text[text.index(after: text.startIndex)..<close])
            let rest = text[text.index(after: close)...]
            guard isIPv6(host), rest.hasPrefix(":"), isPort(String(rest.dropFirst())) else { return bad }
            return nil
        }
        let parts = text.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 2, isIPv4(parts[0]), isPort(parts[1]) else { return bad }
        return nil
    }

    private static func isPort(_ text: String) -> Bool {
        guard !text.isEmpty, text.allSatisfy(\.isNumber), let n = Int(text) else { return false }
        return (1...65535).contains(n)
    }
}
