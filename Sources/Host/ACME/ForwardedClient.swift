import Foundation
import HTTPTypes

/// Who sent a request, as far as the server can tell: the client's IP address (the key of
/// per-client rate limits and the `client_ip` of log lines) and, when known, the scheme the
/// client used.
struct RequestOrigin: Sendable, Equatable {
    var clientIP: String
    /// `http` or `https`: what a trusted proxy's forwarded-proto header says, or `http` for a
    /// peer that is no trusted proxy while `proxy.enabled` (acmeeh itself serves plain http).
    /// nil when unknown: `proxy` is off, or a trusted proxy did not say.
    var scheme: String? = nil
    /// The TCP peer is a trusted proxy (`proxy.enabled` and in `proxy.trusted_proxies`).
    var viaTrustedProxy: Bool = false
}

/// The `proxy` section at work: forwarded headers count only when the TCP peer is a trusted
/// proxy. The client is found by walking the forwarded-for list from the right (the entry
/// the nearest proxy appended) past every entry that is itself a trusted proxy; the first
/// untrusted entry is the client, and when all are trusted the leftmost is. An entry that
/// is not an IP address ends the walk at the last good one: nothing left of an entry that
/// cannot be read is believed. The scheme is the rightmost forwarded-proto
/// value, `http` or `https` only; a request straight from another peer came over plain http.
struct ForwardedClient: Sendable {
    let enabled: Bool
    let trusted: IPNetworkList
    let forwardedFor: HTTPField.Name?
    let forwardedProto: HTTPField.Name?

    /// At most this many forwarded-for entries are looked at, from the right.
    static let maxEntries = 32

    init(_ config: ProxyConfig) {
        enabled = config.enabled
        trusted = IPNetworkList(config.trustedProxies)
        forwardedFor = HTTPField.Name(config.forwardedForHeader)
        forwardedProto = HTTPField.Name(config.forwardedProtoHeader)
    }

    /// The origin of a request from TCP peer `peer` (nil when there is no socket) with `headers`.
    func origin(peer: String?, headers: HTTPFields) -> RequestOrigin {
        let peerIP = peer.flatMap(Self.address) ?? peer ?? "unknown"
        guard enabled else { return RequestOrigin(clientIP: peerIP) }
        guard let peer, trusted.contains(peer) else { return RequestOrigin(clientIP: peerIP, scheme: "http") }
        let lines = forwardedFor.map { headers[values: $0] } ?? []
        let client = Self.clientIP(forwardedFor: lines, peer: peerIP, isTrusted: trusted.contains)
        let proto = forwardedProto.map { headers[values: $0] } ?? []
        return RequestOrigin(clientIP: client, scheme: Self.scheme(proto), viaTrustedProxy: true)
    }

    /// The client named by forwarded-for header lines (joined in order) sent by the trusted
    /// peer `peer`; `peer` itself when the header is absent or its rightmost entry is garbage.
    static func clientIP(forwardedFor lines: [String], peer: String, isTrusted: (String) -> Bool) -> String {
        let entries = lines.joined(separator: ",").split(separator: ",", omittingEmptySubsequences: false)
        var client = peer
        for entry in entries.suffix(maxEntries).reversed() {
            guard let ip = address(String(entry)) else { break }
            client = ip
            if !isTrusted(ip) { break }
        }
        return client
    }

    /// The scheme of forwarded-proto header lines: the rightmost value, if it is http or https.
    static func scheme(_ lines: [String]) -> String? {
        guard let last = lines.joined(separator: ",").split(separator: ",").last else { return nil }
        let value = last.trimmingCharacters(in: .whitespaces).lowercased()
        return value == "http" || value == "https" ? value : nil
    }

    /// The canonical text of a forwarded-for entry: an IPv4 or IPv6 address, optionally with a
    /// port (`192.0.2.1:4711`, `[2001:db8::1]:4711`); an IPv4-mapped IPv6 address as IPv4. Nil otherwise.
    static func address(_ entry: String) -> String? {
        var text = Substring(entry.trimmingCharacters(in: .whitespaces))
        guard (1...64).contains(text.utf8.count) else { return nil }
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { return nil }
            let rest = text[text.index(after: close)...]
            let port = rest.dropFirst()
            guard rest.isEmpty || (rest.hasPrefix(":") && !port.isEmpty && port.allSatisfy { $0.isASCII && $0.isNumber })
            else { return nil }
            text = text[text.index(after: text.startIndex)..<close]
        } else if text.filter({ $0 == ":" }).count == 1, let colon = text.firstIndex(of: ":") {
            let port = text[text.index(after: colon)...]
            guard !port.isEmpty, port.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
            text = text[..<colon]
        }
        guard let bytes = NetworkSyntax.addressBytes(String(text)) else { return nil }
        return NetworkSyntax.addressText(NetworkSyntax.unmappedIPv4(bytes))
    }
}
