import CLDNS
import NIOPosix

/// A CAA query that got no usable answer (SERVFAIL, REFUSED, a timeout, a network error):
/// RFC 8659 §3 forbids issuing on it.
struct CAALookupError: Error, Sendable, CustomStringConvertible {
    let detail: String
    var description: String { detail }
}

/// The host's CAA lookup (RFC 8659 §3) through its stub resolver.
struct CAALookup: Sendable {
    let resolver: StubResolver

    init(dns: DnsConfig, systemConfigPath: String = "/etc/resolv.conf") {
        resolver = StubResolver(dns: dns, systemConfigPath: systemConfigPath)
    }

    /// The CAA records of `name` (off the cooperative pool: libldns blocks).
    func records(at name: String) async throws -> [CAARecord] {
        try await NIOThreadPool.singleton.runIfActive { try self.recordsBlocking(at: name) }
    }

    /// The CAA records in the answer to one query for `name`: after the resolver's CNAME
    /// chain (RFC 8659 §3), empty for NOERROR without CAA and for NXDOMAIN (no records;
    /// the caller climbs on).
    func recordsBlocking(at name: String) throws -> [CAARecord] {
        do {
            switch try resolver.lookup(name, LDNS_RR_TYPE_CAA, typeName: "CAA") {
            case .records(let rdatas): return rdatas.compactMap(CAARecord.init(rdata:))
            case .nameError: return []
            }
        } catch {
            throw CAALookupError(detail: error.detail)
        }
    }
}
