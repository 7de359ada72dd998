#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CLDNS

/// A DNS query that got no usable answer from any resolver (SERVFAIL, REFUSED, a timeout, a
/// network error), after every retry.
struct DNSLookupError: Error, Sendable, CustomStringConvertible {
    let detail: String
    var description: String { detail }
}

/// The host's own DNS queries over libldns (the plugins' resolver lives in PluginNetwork,
/// which the host must not link): one recursive query to `dns.resolvers` (asked in order
/// until one answers; empty = /etc/resolv.conf), each within `dns.timeout_seconds`; a round in
/// which no resolver gave a usable answer is asked again up to `dns.retries` times. Blocking:
/// call it off the event loops.
struct StubResolver: Sendable {
    struct Server: Sendable, Equatable {
        var address: String
        var isIPv6: Bool
        var port: UInt16
    }

    /// NOERROR with the RDATA (wire form) of the asked type's answer records, after the
    /// resolver's CNAME chain; or NXDOMAIN.
    enum Answer: Sendable, Equatable {
        case records([[UInt8]])
        case nameError
    }

    let servers: [Server]
    let timeoutSeconds: Int
    let retries: Int
    let systemConfigPath: String

    init(dns: DnsConfig, systemConfigPath: String = "/etc/resolv.conf") {
        servers = dns.resolvers.compactMap(Self.server)
        timeoutSeconds = max(1, dns.timeoutSeconds)
        retries = max(0, dns.retries)
        self.systemConfigPath = systemConfigPath
    }

    /// `ip`, `ip:port` or `[v6]:port` (checked by the config loader; anything else is dropped).
    static func server(_ text: String) -> Server? {
        if let bytes = NetworkSyntax.addressBytes(text) { return Server(address: text, isIPv6: bytes.count == 16, port: 53) }
        var host = text, portText = ""
        if text.hasPrefix("["), let close = text.firstIndex(of: "]") {
            host = String(text[text.index(after: text.startIndex)..<close])
            portText = String(text[close...].dropFirst(2))
        } else if let colon = text.lastIndex(of: ":") {
            host = String(text[..<colon])
            portText = String(text[text.index(after: colon)...])
        }
        guard let bytes = NetworkSyntax.addressBytes(host), let port = UInt16(portText), port > 0 else { return nil }
        return Server(address: host, isIPv6: bytes.count == 16, port: port)
    }

    /// The answer to `name` `type` (`typeName` names it in errors, e.g. "CAA").
    func lookup(_ name: String, _ type: ldns_rr_type, typeName: String) throws(DNSLookupError) -> Answer {
        let absolute = name.hasSuffix(".") ? name : name + "."
        guard let owner = ldns_dname_new_frm_str(absolute) else {
            throw DNSLookupError(detail: "\"\(name)\" is not a domain name")
        }
        defer { ldns_rdf_deep_free(owner) }
        let attempts: [Server?] = servers.isEmpty ? [nil] : servers
        var failure = "no resolver answered"
        for _ in 0...retries {
            for server in attempts {
                let via = server.map { $0.isIPv6 ? "resolver [\($0.address)]:\($0.port)" : "resolver \($0.address):\($0.port)" }
                    ?? "the system resolver"
                switch query(owner, type, server: server) {
                case .failure(let why):
                    failure = "no answer from \(via) for \(name) \(typeName): \(why)"
                case .answer(let rcode, let records):
                    switch rcode {
                    case LDNS_RCODE_NOERROR: return .records(records)
                    case LDNS_RCODE_NXDOMAIN: return .nameError
                    default: failure = "\(via) answered \(Self.rcodeName(rcode)) for \(name) \(typeName)"
                    }
                }
            }
        }
        if retries > 0 { failure += " (asked \(retries + 1) times)" }
        throw DNSLookupError(detail: "DNS: " + failure)
    }

    private enum Outcome {
        case answer(ldns_pkt_rcode, [[UInt8]])
        case failure(String)
    }

    private func query(_ owner: UnsafeMutablePointer<ldns_rdf>, _ type: ldns_rr_type, server: Server?) -> Outcome {
        let resolver: UnsafeMutablePointer<ldns_resolver>
        if let server {
            guard let made = ldns_resolver_new() else { return .failure("out of memory") }
            resolver = made
            guard let ns = ldns_rdf_new_frm_str(server.isIPv6 ? LDNS_RDF_TYPE_AAAA : LDNS_RDF_TYPE_A, server.address) else {
                ldns_resolver_deep_free(resolver)
                return .failure("bad resolver address")
            }
            let status = ldns_resolver_push_nameserver(resolver, ns)
            ldns_rdf_deep_free(ns)
            guard status == LDNS_STATUS_OK else {
                ldns_resolver_deep_free(resolver)
                return .failure(String(cString: ldns_get_errorstr_by_id(status)))
            }
            ldns_resolver_set_port(resolver, server.port)
        } else {
            var made: UnsafeMutablePointer<ldns_resolver>? = nil
            let status = ldns_resolver_new_frm_file(&made, systemConfigPath)
            guard status == LDNS_STATUS_OK, let made else {
                return .failure("cannot read \(systemConfigPath): \(String(cString: ldns_get_errorstr_by_id(status)))")
            }
            resolver = made
        }
        defer { ldns_resolver_deep_free(resolver) }
        // ldns waits the timeout once per nameserver: share dns.timeout_seconds between them, one try each.
        let perServer = max(1, timeoutSeconds * 1000 / max(1, ldns_resolver_nameserver_count(resolver)))
        ldns_resolver_set_timeout(resolver, timeval(tv_sec: perServer / 1000, tv_usec: (perServer % 1000) * 1000))
        ldns_resolver_set_retry(resolver, 1)
        ldns_resolver_set_retrans(resolver, 1)
        ldns_resolver_set_recursive(resolver, 1)
        ldns_resolver_set_defnames(resolver, 0)
        ldns_resolver_set_dnsrch(resolver, 0)
        ldns_resolver_set_fallback(resolver, 1)  // TCP when the UDP answer is truncated

        var packet: UnsafeMutablePointer<ldns_pkt>? = nil
        let status = ldns_resolver_send(&packet, resolver, owner, type, LDNS_RR_CLASS_IN, UInt16(LDNS_RD))
        guard status == LDNS_STATUS_OK, let packet else {
            if let packet { ldns_pkt_free(packet) }
            return .failure(String(cString: ldns_get_errorstr_by_id(status)))
        }
        defer { ldns_pkt_free(packet) }
        var records: [[UInt8]] = []
        if let list = ldns_pkt_rr_list_by_type(packet, type, LDNS_SECTION_ANSWER) {
            defer { ldns_rr_list_deep_free(list) }
            for index in 0..<ldns_rr_list_rr_count(list) {
                if let rr = ldns_rr_list_rr(list, index), let rdata = Self.rdata(rr) { records.append(rdata) }
            }
        }
        return .answer(ldns_pkt_get_rcode(packet), records)
    }

    /// The record's RDATA in wire form, whichever way ldns split it into fields.
    private static func rdata(_ rr: UnsafeMutablePointer<ldns_rr>) -> [UInt8]? {
        guard let buffer = ldns_buffer_new(512) else { return nil }
        defer { ldns_buffer_free(buffer) }
        guard ldns_rr_rdata2buffer_wire(buffer, rr) == LDNS_STATUS_OK, let start = ldns_buffer_begin(buffer) else { return nil }
        return Array(UnsafeBufferPointer(start: start, count: ldns_buffer_position(buffer)))
    }

    private static func rcodeName(_ rcode: ldns_pkt_rcode) -> String {
        switch rcode {
        case LDNS_RCODE_SERVFAIL: "SERVFAIL"
        case LDNS_RCODE_REFUSED: "REFUSED"
        case LDNS_RCODE_FORMERR: "FORMERR"
        case LDNS_RCODE_NOTIMPL: "NOTIMPL"
        default: "rcode \(rcode.rawValue)"
        }
    }
}
