#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CLDNS
import PluginKit

/// Why a lookup found no address.
public struct ResolverError: Error, Sendable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// The name does not exist (NXDOMAIN): final.
        case nameNotFound
        /// The name exists but has no record of the asked types: final.
        case noRecords
        /// SERVFAIL, REFUSED, a timeout or a network error: may work later.
        case serverFailure
        /// The deadline passed before an answer came.
        case deadline
        /// A CNAME chain loops or is longer than allowed: final.
        case badChain
    }
    public let kind: Kind
    /// For operators: which name, which resolver, what happened. No secrets.
    public let detail: String
    /// "A", "AAAA", ... when the failure is about one query type.
    public let queryType: String

    public init(_ kind: Kind, _ detail: String, queryType: String = "") {
        self.kind = kind
        self.detail = detail
        self.queryType = queryType
    }

    public var retryable: Bool { kind == .serverFailure || kind == .deadline }
    public var description: String { detail }

    /// As an ACME `dns` problem (RFC 8555 §6.7): final for NXDOMAIN and no records,
    /// retryable for server failures and timeouts.
    public var pluginError: PluginError {
        switch kind {
        case .nameNotFound, .noRecords, .badChain:
            return .rejected(detail, problemType: ProblemType.dns)
        case .serverFailure:
            return .unavailable(detail, problemType: ProblemType.dns)
        case .deadline:
            return PluginError(code: PluginError.deadline().code, retryable: true, problemType: ProblemType.dns, detail: detail)
        }
    }
}

extension PluginError {
    fileprivate static func unavailable(_ detail: String, problemType: String) -> PluginError {
        var error = PluginError.unavailable(detail)
        error.problemType = problemType
        return error
    }
}

/// A DNS stub resolver over libldns: the configured resolvers (`ip`, `ip:port`,
/// `[v6]:port`, asked in order until one answers), or the system's (/etc/resolv.conf)
/// when none are configured. Thread-safe: every lookup builds its own ldns resolver.
public struct Resolver: Sendable {
    /// One configured resolver.
    public struct Server: Sendable, Hashable, CustomStringConvertible {
        public let address: IPAddress
        public let port: Int
        public var description: String { port == 53 ? address.description : "\(address.urlHost):\(port)" }
    }

    /// Empty: the system's resolvers.
    public let servers: [Server]
    /// Where the system configuration is read from when `servers` is empty.
    public let systemConfigPath: String

    /// Parses `resolvers` (config syntax); throws the offending entry's text.
    public init(resolvers: [String], systemConfigPath: String = "/etc/resolv.conf") throws(ResolverConfigError) {
        var servers: [Server] = []
        for text in resolvers {
            guard let (host, port) = NetworkSyntax.resolver(text), let address = IPAddress(host) else {
                throw ResolverConfigError(entry: text)
            }
            servers.append(Server(address: address, port: port))
        }
        self.servers = servers
        self.systemConfigPath = systemConfigPath
    }

    /// The A and AAAA addresses of `name` (a domain name, with or without a final dot),
    /// IPv6 first. Fails only when neither type gives an address; a server failure of
    /// one type with addresses from the other still succeeds.
    public func addresses(of name: String, deadline: Deadline) throws(ResolverError) -> [IPAddress] {
        var failures: [ResolverError] = []
        var found: [IPAddress] = []
        for type in [LDNS_RR_TYPE_AAAA, LDNS_RR_TYPE_A] {
            // A silent server must leave the second query half of the time.
            let stepDeadline = type == LDNS_RR_TYPE_AAAA
                ? Deadline.fromNow(milliseconds: deadline.remainingMilliseconds / 2) : deadline
            do {
                found += try lookup(name, type: type, deadline: stepDeadline)
            } catch where error.kind == .deadline && !deadline.hasPassed {
                // Only this query's share of the time ran out: a silent server, not the caller's deadline.
                failures.append(ResolverError(.serverFailure, "DNS: no answer in time for \(name) \(error.queryType)"))
            } catch {
                failures.append(error)
                // NXDOMAIN holds for every type: no need to ask for A.
                if error.kind == .nameNotFound { break }
            }
        }
        if !found.isEmpty { return found }
        if deadline.hasPassed, let late = failures.last(where: { $0.kind == .deadline }) { throw late }
        // Retryable failures first: "no AAAA" beside "A timed out" is not final.
        if let retryable = failures.first(where: \.retryable) { throw retryable }
        if let missing = failures.first(where: { $0.kind == .nameNotFound }) { throw missing }
        throw ResolverError(.noRecords, "DNS: \(name) has no A or AAAA record")
    }

    /// The addresses in the answer section of one query for `type` (A or AAAA).
    public func lookup(_ name: String, type: ldns_rr_type, deadline: Deadline) throws(ResolverError) -> [IPAddress] {
        let typeName = type == LDNS_RR_TYPE_AAAA ? "AAAA" : "A"
        let absolute = name.hasSuffix(".") ? name : name + "."
        guard let owner = ldns_dname_new_frm_str(absolute) else {
            throw ResolverError(.nameNotFound, "DNS: \"\(name)\" is not a valid domain name")
        }
        defer { ldns_rdf_deep_free(owner) }

        let attempts: [Server?] = servers.isEmpty ? [nil] : servers.map { $0 }
        var lastFailure = ResolverError(.serverFailure, "DNS: no resolver answered for \(name) \(typeName)")
        for (index, server) in attempts.enumerated() {
            let left = deadline.remainingMilliseconds
            guard left > 0 else {
                throw ResolverError(.deadline, "DNS: the deadline passed while looking up \(name) \(typeName)", queryType: typeName)
            }
            // Share the time left between the resolvers still to ask.
            let budget = max(1, left / Int64(attempts.count - index))
            let outcome = query(owner, type: type, server: server, timeoutMs: budget)
            let via = server.map { "resolver \($0)" } ?? "the system resolver"
            switch outcome {
            case .failure(let detail):
                lastFailure = ResolverError(.serverFailure, "DNS: no answer from \(via) for \(name) \(typeName): \(detail)")
            case .answer(let rcode, let addresses):
                switch rcode {
                case LDNS_RCODE_NOERROR:
                    if addresses.isEmpty { throw ResolverError(.noRecords, "DNS: \(name) has no \(typeName) record") }
                    return addresses
                case LDNS_RCODE_NXDOMAIN:
                    throw ResolverError(.nameNotFound, "DNS: \(name) does not exist (NXDOMAIN from \(via))")
                default:
                    lastFailure = ResolverError(.serverFailure, "DNS: \(via) answered \(rcodeName(rcode)) for \(name) \(typeName)")
                }
            }
        }
        if deadline.hasPassed {
            throw ResolverError(.deadline, "DNS: the deadline passed while looking up \(name) \(typeName) (\(lastFailure.detail))",
                                queryType: typeName)
        }
        throw lastFailure
    }

    private enum Outcome {
        case answer(ldns_pkt_rcode, [IPAddress])
        case failure(String)
    }

    private struct SetupFailure: Error {
        let detail: String
    }

    /// An ldns resolver for one query: `server`, or the system's nameservers; one try per
    /// nameserver, the time shared between them (ldns waits its timeout once per
    /// nameserver and retry); no search domains; TCP fallback on truncation. The caller
    /// frees it.
    private func makeResolver(server: Server?, timeoutMs: Int64, recursive: Bool,
                              dnssec: Bool) -> Result<UnsafeMutablePointer<ldns_resolver>, SetupFailure> {
        let r: UnsafeMutablePointer<ldns_resolver>
        if let server {
            guard let made = ldns_resolver_new() else { return .failure(SetupFailure(detail: "out of memory")) }
            r = made
            let rdfType = server.address.isIPv6 ? LDNS_RDF_TYPE_AAAA : LDNS_RDF_TYPE_A
            guard let ns = ldns_rdf_new_frm_str(rdfType, server.address.description) else {
                ldns_resolver_deep_free(r)
                return .failure(SetupFailure(detail: "bad resolver address"))
            }
            let status = ldns_resolver_push_nameserver(r, ns)
            ldns_rdf_deep_free(ns)
            guard status == LDNS_STATUS_OK else {
                ldns_resolver_deep_free(r)
                return .failure(SetupFailure(detail: String(cString: ldns_get_errorstr_by_id(status))))
            }
            ldns_resolver_set_port(r, UInt16(server.port))
        } else {
            var made: UnsafeMutablePointer<ldns_resolver>? = nil
            let status = ldns_resolver_new_frm_file(&made, systemConfigPath)
            guard status == LDNS_STATUS_OK, let made else {
                return .failure(SetupFailure(
                    detail: "cannot read \(systemConfigPath): \(String(cString: ldns_get_errorstr_by_id(status)))"))
            }
            r = made
        }
        let nameservers = max(1, ldns_resolver_nameserver_count(r))
        let perServer = max(1, timeoutMs / Int64(nameservers))
        ldns_resolver_set_timeout(r, timeval(tv_sec: Int(perServer / 1000), tv_usec: Int((perServer % 1000) * 1000)))
        ldns_resolver_set_retry(r, 1)
        ldns_resolver_set_retrans(r, 1)
        ldns_resolver_set_recursive(r, recursive ? 1 : 0)  // ldns's bool is a char here
        ldns_resolver_set_defnames(r, 0)
        ldns_resolver_set_dnssec(r, dnssec ? 1 : 0)
        ldns_resolver_set_dnsrch(r, 0)
        ldns_resolver_set_fallback(r, 1)
        return .success(r)
    }

    private func query(_ owner: UnsafeMutablePointer<ldns_rdf>, type: ldns_rr_type, server: Server?, timeoutMs: Int64) -> Outcome {
        let r: UnsafeMutablePointer<ldns_resolver>
        switch makeResolver(server: server, timeoutMs: timeoutMs, recursive: true, dnssec: false) {
        case .success(let made): r = made
        case .failure(let failure): return .failure(failure.detail)
        }
        defer { ldns_resolver_deep_free(r) }

        var packet: UnsafeMutablePointer<ldns_pkt>? = nil
        let status = ldns_resolver_send(&packet, r, owner, type, LDNS_RR_CLASS_IN, UInt16(LDNS_RD))
        guard status == LDNS_STATUS_OK, let packet else {
            if let packet { ldns_pkt_free(packet) }
            return .failure(String(cString: ldns_get_errorstr_by_id(status)))
        }
        defer { ldns_pkt_free(packet) }
        let rcode = ldns_pkt_get_rcode(packet)
        var addresses: [IPAddress] = []
        if let list = ldns_pkt_rr_list_by_type(packet, type, LDNS_SECTION_ANSWER) {
            defer { ldns_rr_list_deep_free(list) }
            for i in 0..<ldns_rr_list_rr_count(list) {
                guard let rr = ldns_rr_list_rr(list, i), ldns_rr_rd_count(rr) > 0, let rdf = ldns_rr_rdf(rr, 0),
                      let data = ldns_rdf_data(rdf) else { continue }
                let bytes = Array(UnsafeBufferPointer(start: data, count: ldns_rdf_size(rdf)))
                if let address = IPAddress(bytes: bytes), !addresses.contains(address) { addresses.append(address) }
            }
        }
        return .answer(rcode, addresses)
    }

    private func rcodeName(_ rcode: ldns_pkt_rcode) -> String {
        switch rcode {
        case LDNS_RCODE_SERVFAIL: return "SERVFAIL"
        case LDNS_RCODE_REFUSED: return "REFUSED"
        case LDNS_RCODE_FORMERR: return "FORMERR"
        case LDNS_RCODE_NOTIMPL: return "NOTIMPL"
        default: return "rcode \(rcode.rawValue)"
        }
    }
}

/// A `resolvers` entry that is not `ip`, `ip:port` or `[v6]:port`.
public struct ResolverConfigError: Error, Sendable {
    public let entry: String
}

// MARK: - TXT records, CNAME chains, DNSSEC and authoritative servers (dns-01, dns-persist-01)

/// The TXT records found at a name, after any CNAMEs.
public struct TXTAnswer: Sendable {
    /// The name asked for.
    public let name: String
    /// The name the records were found at (differs from `name` after CNAMEs).
    public let canonicalName: String
    /// Each record's character-strings concatenated (RFC 8555 §8.4 reads one record as one value).
    public let records: [[UInt8]]
    /// Whether every answer on the way carried the AD bit (RFC 4035 §3.2.3).
    public let authenticated: Bool
    /// Which server(s) answered, for details.
    public let source: String
}

extension Resolver {
    /// CNAMEs followed at most before a chain counts as broken.
    public static let maxCNAMEs = 8

    /// The TXT records of `name`, following CNAMEs (bounded, loops detected).
    ///
    /// `authoritative`: ask the zone's own name servers (found through the configured
    /// resolvers), without recursion; when they cannot be found or do not answer, the
    /// configured resolvers are asked instead and `source` says so.
    /// `requestAuthenticated`: ask for DNSSEC (DO and AD bits) so a validating resolver
    /// reports the AD bit; whether it came is in `authenticated`.
    public func txtRecords(of name: String, deadline: Deadline, authoritative: Bool = false,
                           requestAuthenticated: Bool = false, authoritativePort: Int = 53) throws(ResolverError) -> TXTAnswer {
        var current = Self.normalized(name)
        var visited: [String] = [current]
        var authenticated = true
        var sources: [String] = []
        while true {
            var servers: [Server?] = servers.isEmpty ? [nil] : servers.map { $0 }
            var recursive = true
            if authoritative {
                if let found = try? zoneServers(of: current, deadline: deadline, port: authoritativePort), !found.isEmpty {
                    servers = found.map { $0 }
                    recursive = false
                } else {
                    sources.append("(no authoritative server found for \(current): asked the resolvers)")
                }
            }
            let answer: RawAnswer
            // Silent authoritative servers may use half the time left: the rest is the fallback's.
            let stepDeadline = recursive ? deadline : Deadline.fromNow(milliseconds: deadline.remainingMilliseconds / 2)
            do {
                answer = try exchange(current, type: LDNS_RR_TYPE_TXT, servers: servers, recursive: recursive,
                                      dnssec: requestAuthenticated, deadline: stepDeadline)
            } catch where !recursive && (error.kind == .serverFailure || error.kind == .deadline) && !deadline.hasPassed {
                // The zone's own servers failed: fall back to the resolvers, and say so.
                sources.append("(the authoritative servers of \(current) failed: \(error.detail); asked the resolvers)")
                answer = try exchange(current, type: LDNS_RR_TYPE_TXT, servers: self.servers.isEmpty ? [nil] : self.servers.map { $0 },
                                      recursive: true, dnssec: requestAuthenticated, deadline: deadline)
            }
            sources.append(answer.via)
            authenticated = authenticated && answer.authenticated
            // Follow the CNAMEs inside this answer (a recursive resolver puts the whole chain there).
            var owner = current
            while let cname = answer.records.first(where: { $0.type == LDNS_RR_TYPE_CNAME.rawValue && $0.owner == owner }),
                  let target = cname.name {
                if visited.contains(target) {
                    throw ResolverError(.badChain, "DNS: the CNAME chain from \(name) loops (\((visited + [target]).joined(separator: " → ")))", queryType: "TXT")
                }
                visited.append(target)
                guard visited.count <= Self.maxCNAMEs + 1 else {
                    throw ResolverError(.badChain, "DNS: the CNAME chain from \(name) is longer than \(Self.maxCNAMEs) names", queryType: "TXT")
                }
                owner = target
            }
            let texts = answer.records.filter { $0.type == LDNS_RR_TYPE_TXT.rawValue && $0.owner == owner }
                .map { $0.rdata.flatMap { $0.dropFirst() } }
            if !texts.isEmpty {
                return TXTAnswer(name: name, canonicalName: owner, records: texts, authenticated: authenticated,
                                 source: sources.joined(separator: ", "))
            }
            let chain = visited.count > 1 ? " (via CNAME \(visited.joined(separator: " → ")))" : ""
            switch answer.rcode {
            case LDNS_RCODE_NXDOMAIN:
                throw ResolverError(.nameNotFound, "DNS: \(owner) does not exist (NXDOMAIN from \(answer.via))\(chain)", queryType: "TXT")
            case LDNS_RCODE_NOERROR where owner != current:
                // The answer stopped at a CNAME target: ask for the target itself.
                current = owner
            default:
                throw ResolverError(.noRecords, "DNS: \(owner) has no TXT record (\(answer.via))\(chain)", queryType: "TXT")
            }
        }
    }

    /// The name servers of the zone holding `name` (the closest enclosing name with NS
    /// records), by address, on `port`.
    public func zoneServers(of name: String, deadline: Deadline, port: Int = 53) throws(ResolverError) -> [Server] {
        var labels = Self.normalized(name).split(separator: ".").map(String.init)
        let recursors: [Server?] = servers.isEmpty ? [nil] : servers.map { $0 }
        while !labels.isEmpty {
            let candidate = labels.joined(separator: ".")
            let answer = try exchange(candidate, type: LDNS_RR_TYPE_NS, servers: recursors, recursive: true,
                                      dnssec: false, deadline: deadline)
            let hosts = answer.records.filter { $0.type == LDNS_RR_TYPE_NS.rawValue && $0.owner == candidate }.compactMap(\.name)
            if !hosts.isEmpty {
                var found: [Server] = []
                for host in hosts.prefix(4) {
                    guard let addresses = try? addresses(of: host, deadline: deadline) else { continue }
                    for address in addresses where !found.contains(where: { $0.address == address }) {
                        found.append(Server(address: address, port: port))
                    }
                }
                return found
            }
            labels.removeFirst()
        }
        return []
    }

    public static func normalizedName(_ name: String) -> String { normalized(name) }

    static func normalized(_ name: String) -> String {
        var text = name.lowercased()
        while text.hasSuffix(".") { text.removeLast() }
        return text
    }

    /// One record of an answer section: owner, type, rdata fields.
    struct AnswerRecord {
        let owner: String
        let type: UInt32
        let rdata: [[UInt8]]
        /// The first rdata field as a domain name (CNAME, NS), normalized.
        let name: String?
    }

    struct RawAnswer {
        let rcode: ldns_pkt_rcode
        let authenticated: Bool
        let records: [AnswerRecord]
        let via: String
    }

    /// Asks `servers` in order until one answers NOERROR or NXDOMAIN.
    func exchange(_ name: String, type: ldns_rr_type, servers attempts: [Server?], recursive: Bool, dnssec: Bool,
                  deadline: Deadline) throws(ResolverError) -> RawAnswer {
        let typeName = type == LDNS_RR_TYPE_TXT ? "TXT" : type == LDNS_RR_TYPE_NS ? "NS" : "type \(type.rawValue)"
        guard let owner = ldns_dname_new_frm_str(name + ".") else {
            throw ResolverError(.nameNotFound, "DNS: \"\(name)\" is not a valid domain name", queryType: typeName)
        }
        defer { ldns_rdf_deep_free(owner) }
        var lastFailure = ResolverError(.serverFailure, "DNS: no server answered for \(name) \(typeName)", queryType: typeName)
        for (index, server) in attempts.enumerated() {
            let left = deadline.remainingMilliseconds
            guard left > 0 else { break }
            let budget = max(1, left / Int64(attempts.count - index))
            let via = server.map { recursive ? "resolver \($0)" : "authoritative server \($0)" } ?? "the system resolver"
            switch rawQuery(owner, type: type, server: server, recursive: recursive, dnssec: dnssec, timeoutMs: budget) {
            case .failure(let detail):
                lastFailure = ResolverError(.serverFailure, "DNS: no answer from \(via) for \(name) \(typeName): \(detail)", queryType: typeName)
            case .answer(let rcode, let ad, let records):
                if rcode == LDNS_RCODE_NOERROR || rcode == LDNS_RCODE_NXDOMAIN {
                    return RawAnswer(rcode: rcode, authenticated: ad, records: records, via: via)
                }
                lastFailure = ResolverError(.serverFailure, "DNS: \(via) answered \(rcodeName(rcode)) for \(name) \(typeName)", queryType: typeName)
            }
        }
        if deadline.hasPassed {
            throw ResolverError(.deadline, "DNS: the deadline passed while looking up \(name) \(typeName) (\(lastFailure.detail))",
                                queryType: typeName)
        }
        throw lastFailure
    }

    private enum RawOutcome {
        case answer(ldns_pkt_rcode, Bool, [AnswerRecord])
        case failure(String)
    }

    private func rawQuery(_ owner: UnsafeMutablePointer<ldns_rdf>, type: ldns_rr_type, server: Server?, recursive: Bool,
                          dnssec: Bool, timeoutMs: Int64) -> RawOutcome {
        let r: UnsafeMutablePointer<ldns_resolver>
        switch makeResolver(server: server, timeoutMs: timeoutMs, recursive: recursive, dnssec: dnssec) {
        case .success(let made): r = made
        case .failure(let failure): return .failure(failure.detail)
        }
        defer { ldns_resolver_deep_free(r) }

        // RFC 6840 §5.7: a query with the AD bit asks a validating resolver to report it.
        let flags = (recursive ? Int32(LDNS_RD) : 0) | (dnssec ? Int32(LDNS_AD) : 0)
        var packet: UnsafeMutablePointer<ldns_pkt>? = nil
        let status = ldns_resolver_send(&packet, r, owner, type, LDNS_RR_CLASS_IN, UInt16(flags))
        guard status == LDNS_STATUS_OK, let packet else {
            if let packet { ldns_pkt_free(packet) }
            return .failure(String(cString: ldns_get_errorstr_by_id(status)))
        }
        defer { ldns_pkt_free(packet) }
        var records: [AnswerRecord] = []
        if let list = ldns_pkt_answer(packet) {
            for i in 0..<ldns_rr_list_rr_count(list) {
                guard let rr = ldns_rr_list_rr(list, i), let ownerRdf = ldns_rr_owner(rr) else { continue }
                var fields: [[UInt8]] = []
                for f in 0..<ldns_rr_rd_count(rr) {
                    guard let rdf = ldns_rr_rdf(rr, f), let data = ldns_rdf_data(rdf) else { continue }
                    fields.append(Array(UnsafeBufferPointer(start: data, count: ldns_rdf_size(rdf))))
                }
                let type = ldns_rr_get_type(rr).rawValue
                var target: String? = nil
                if type == LDNS_RR_TYPE_CNAME.rawValue || type == LDNS_RR_TYPE_NS.rawValue,
                   ldns_rr_rd_count(rr) > 0, let rdf = ldns_rr_rdf(rr, 0) {
                    target = Self.dnameText(rdf)
                }
                records.append(AnswerRecord(owner: Self.dnameText(ownerRdf) ?? "", type: type, rdata: fields, name: target))
            }
        }
        return .answer(ldns_pkt_get_rcode(packet), ldns_pkt_ad(packet) != 0, records)
    }

    private static func dnameText(_ rdf: UnsafeMutablePointer<ldns_rdf>) -> String? {
        guard let text = ldns_rdf2str(rdf) else { return nil }
        defer { free(text) }
        return normalized(String(cString: text))
    }
}
