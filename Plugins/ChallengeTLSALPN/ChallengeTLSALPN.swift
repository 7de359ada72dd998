import COpenSSL
import PluginAPI
import PluginKit
import PluginNetwork

/// The tls-alpn-01 validator (RFC 8737; IP identifiers per RFC 8738 §6).
nonisolated(unsafe) let descriptor = PluginDescriptor.challenge(
    name: "ChallengeTLSALPN", version: "0.2.0",
    description: "tls-alpn-01 validator (challenges.tlsalpn01): OpenSSL, ALPN acme-tls/1, pinned SSRF-checked addresses, libldns resolution",
    types: [ChallengeTypeInfo("tls-alpn-01", identifierTypes: ACMEEH_IDENTIFIER_DNS | ACMEEH_IDENTIFIER_IP)],
    create: { createInstance(ChallengeTLSALPN.self, $0, $1, $2) })

@_cdecl("acmeeh_plugin_register")
public func acmeeh_plugin_register(_ hostABIVersion: UInt32) -> UnsafePointer<acmeeh_plugin_descriptor>? {
    descriptor
}

final class ChallengeTLSALPN: ChallengeInstance {
    let config: TLSALPN01Config
    let challengeType: String
    let log: HostLog

    init(_ context: CreateContext) throws {
        challengeType = context.challengeType ?? "tls-alpn-01"
        guard challengeType == "tls-alpn-01" else {
            throw PluginError.config("\(context.configPath): ChallengeTLSALPN serves tls-alpn-01, not \(challengeType)")
        }
        config = try context.decodeConfig(TLSALPN01Config.self)
        log = context.log
    }

    /// RFC 8737 §3: connect to the identifier on `port`, offer only `acme-tls/1` with the
    /// identifier as SNI, and check the self-signed certificate it presents.
    func validate(_ request: ChallengeRequest) throws {
        guard let keyAuthorization = request.keyAuthorization, !keyAuthorization.isEmpty else {
            throw PluginError.invalidInput("tls-alpn-01 needs a key authorization")
        }
        // RFC 8737 §3: never for wildcard domain names.
        guard !request.wildcard else {
            throw PluginError.invalidInput("tls-alpn-01 cannot validate a wildcard identifier",
                                           problemType: ProblemType.rejectedIdentifier)
        }
        let identifier: ValidationIdentifier
        switch request.identifierType {
        case "dns":
            guard NetworkSyntax.isDomainName(request.identifierValue) else {
                throw PluginError.invalidInput("\"\(escapedForDetail(Array(request.identifierValue.utf8), limit: 200))\" is not a domain name",
                                               problemType: ProblemType.rejectedIdentifier)
            }
            identifier = .dns(request.identifierValue)
        case "ip":
            guard let address = IPAddress(request.identifierValue) else {
                throw PluginError.invalidInput("\"\(escapedForDetail(Array(request.identifierValue.utf8), limit: 200))\" is not an IP address",
                                               problemType: ProblemType.rejectedIdentifier)
            }
            identifier = .ip(address)
        default:
            throw PluginError.unsupported("tls-alpn-01 does not validate \(request.identifierType) identifiers")
        }

        // timeout_seconds and the call's deadline both bound the whole validation.
        let bound = ValidationBound(timeoutSeconds: config.timeoutSeconds, callDeadline: request.deadline)
        do {
            try validate(identifier, keyAuthorization: keyAuthorization, bound: bound)
            log.info("tls-alpn-01 \(identifier): valid (port \(config.port), SNI \(identifier.serverName))")
        } catch {
            log.info("tls-alpn-01 \(identifier): \(error.retryable ? "retryable" : "final") \(error.problemType): \(error.detail)")
            throw error
        }
    }

    private func validate(_ identifier: ValidationIdentifier, keyAuthorization: String, bound: ValidationBound) throws(PluginError) {
        let target = "\(identifier) port \(config.port)"
        let addresses = try addresses(of: identifier, bound: bound)
        var failures: [String] = []
        for (index, address) in addresses.enumerated() {
            let left = bound.deadline.remainingMilliseconds
            guard left > 0 else { break }
            // A silent address must leave time for the next ones.
            let connectBudget = max(min(left, 1000), left / Int64(addresses.count - index))
            let attempt = TLSHandshake(address: address, port: config.port, serverName: identifier.serverName,
                                       deadline: bound.deadline, connectDeadline: .fromNow(milliseconds: connectBudget))
            switch attempt.run() {
            case .certificate(let certificate):
                defer { X509_free(certificate) }
                do {
                    try ValidationCertificate.check(certificate, identifier: identifier, keyAuthorization: keyAuthorization)
                } catch {
                    var problem = error
                    problem.detail = "\(target) (\(address)): \(error.detail)"
                    throw problem
                }
                return
            case .connectFailed(let message):
                log.debug("tls-alpn-01: \(target) via \(address): \(message)")
                failures.append("\(address): \(message)")
            case .timedOut(let message):
                throw bound.timedOut("\(target) (\(address)): \(message)")
            case .networkFailed(let message):
                throw PluginError(code: ACMEEH_E_UNAVAILABLE, retryable: true, problemType: ProblemType.connection,
                                  detail: "\(target) (\(address)): \(message)")
            case .tlsFailed(let message):
                throw PluginError.rejected("\(target) (\(address)): \(message)", problemType: ProblemType.tls)
            }
        }
        let tried = failures.isEmpty ? "" : ": " + failures.joined(separator: "; ")
        if bound.deadline.hasPassed {
            throw bound.timedOut("could not connect to \(target)\(tried)")
        }
        throw PluginError(code: ACMEEH_E_UNAVAILABLE, retryable: true, problemType: ProblemType.connection,
                          detail: "could not connect to \(target)\(tried)")
    }

    /// The addresses to try, each checked against `blocked_networks`: one blocked address
    /// refuses the validation, before any connection.
    private func addresses(of identifier: ValidationIdentifier, bound: ValidationBound) throws(PluginError) -> [IPAddress] {
        let addresses: [IPAddress]
        switch identifier {
        case .ip(let address):
            addresses = [address]
        case .dns(let name):
            do {
                addresses = try config.resolver.addresses(of: name, deadline: bound.deadline)
            } catch {
                if error.kind == .deadline {
                    throw bound.timedOut("resolving \(name): \(error.detail)", problemType: ProblemType.dns)
                }
                throw error.pluginError
            }
        }
        for address in addresses {
            if let network = config.blockedNetworks.blocking(address) {
                let of: String
                if case .dns(let name) = identifier { of = " (an address of \(name))" } else { of = "" }
                throw PluginError.rejected(
                    "refusing to connect to \(address)\(of): it is in the blocked network \(network)",
                    problemType: ProblemType.connection)
            }
        }
        return addresses
    }
}
