import PluginAPI
import PluginKit
import PluginNetwork

/// The dns-01 (RFC 8555 §8.4) and dns-persist-01 (draft-ietf-acme-dns-persist) validator;
/// the create params' `challenge_type` says which one an instance serves and which config it reads.
nonisolated(unsafe) let descriptor = PluginDescriptor.challenge(
    name: "ChallengeDNS01", version: "0.2.0",
    description: "dns-01 (challenges.dns01) and dns-persist-01 (challenges.dnspersist01) validator: libldns TXT lookups, CNAME chains, DNSSEC AD bit, authoritative servers",
    types: [
        ChallengeTypeInfo("dns-01", identifierTypes: ACMEEH_IDENTIFIER_DNS),
        // dns-persist-01 has no token: the TXT record names the account instead.
        ChallengeTypeInfo("dns-persist-01", identifierTypes: ACMEEH_IDENTIFIER_DNS, usesToken: false),
    ],
    create: { createInstance(ChallengeDNS01.self, $0, $1, $2) })

@_cdecl("acmeeh_plugin_register")
public func acmeeh_plugin_register(_ hostABIVersion: UInt32) -> UnsafePointer<acmeeh_plugin_descriptor>? {
    descriptor
}

final class ChallengeDNS01: ChallengeInstance {
    enum Settings {
        case dns01(DNS01Config)
        case dnsPersist01(DNSPersist01Config)
    }
    let settings: Settings
    let challengeType: String
    let resolver: Resolver
    let log: HostLog

    init(_ context: CreateContext) throws {
        let resolvers: [String]
        switch context.challengeType {
        case "dns-01":
            let config = try context.decodeConfig(DNS01Config.self)
            settings = .dns01(config)
            resolvers = config.resolvers
        case "dns-persist-01":
            let config = try context.decodeConfig(DNSPersist01Config.self)
            settings = .dnsPersist01(config)
            resolvers = config.resolvers
        case let other:
            throw PluginError.config("\(context.configPath): ChallengeDNS01 serves dns-01 and dns-persist-01, not \(other ?? "an unnamed challenge type")")
        }
        challengeType = context.challengeType ?? ""
        do {
            resolver = try Resolver(resolvers: resolvers)
        } catch {
            throw PluginError.config("\(context.configPath).resolvers: \"\(error.entry)\" is not a resolver address (ip, ip:port or [v6]:port)")
        }
        log = context.log
    }

    func validate(_ request: ChallengeRequest) throws {
        // RFC 8555 §8.4: dns-01 (and dns-persist-01) validate domain names only.
        guard request.identifierType == "dns" else {
            throw PluginError.unsupported("\(challengeType) does not validate \(request.identifierType) identifiers")
        }
        guard NetworkSyntax.isDomainName(request.identifierValue) else {
            throw PluginError.invalidInput("\"\(escapedForDetail(request.identifierValue))\" is not a domain name",
                                           problemType: ProblemType.rejectedIdentifier)
        }
        do {
            switch settings {
            case .dns01(let config):
                try DNS01Validation(config: config, resolver: resolver).validate(request)
            case .dnsPersist01(let config):
                try DNSPersist01Validation(config: config, resolver: resolver).validate(request)
            }
            log.info("\(challengeType) \(request.identifierValue): valid")
        } catch {
            log.info("\(challengeType) \(request.identifierValue): \(error.retryable ? "retryable" : "final") \(error.problemType): \(error.detail)")
            throw error
        }
    }
}

extension ValidationBound {
    /// A failed lookup as a `dns` problem. Not-found is retryable here (the record may not
    /// have propagated yet), as are server failures and timeouts; a broken CNAME chain is final.
    func problem(_ error: ResolverError, context: String) -> PluginError {
        switch error.kind {
        case .nameNotFound, .noRecords:
            return .rejected("\(context): \(error.detail); the record may not have propagated yet",
                             problemType: ProblemType.dns, retryable: true)
        case .serverFailure:
            return PluginError(code: ACMEEH_E_UNAVAILABLE, retryable: true, problemType: ProblemType.dns,
                               detail: "\(context): \(error.detail)")
        case .deadline:
            return timedOut("\(context): \(error.detail)", problemType: ProblemType.dns)
        case .badChain:
            return .rejected("\(context): \(error.detail)", problemType: ProblemType.dns)
        }
    }
}
