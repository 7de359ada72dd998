/// Which enabled challenge types can prove control of which identifier (RFC 8555 §8,
/// RFC 8737 §3, RFC 8738 §7) and the per-type settings of `challenges.*`.
struct ChallengeTypes: Sendable {
    /// Enabled types (the keys of `runtime.validators`) with what their plugin declares.
    let enabled: [String: ChallengeTypeInfo]
    let config: ChallengesConfig

    init(validators: [String: ChallengePluginInstance], config: ChallengesConfig) {
        var enabled: [String: ChallengeTypeInfo] = [:]
        for (type, instance) in validators {
            enabled[type] = instance.challengeTypes.first { $0.challengeType == type }
                ?? ChallengeTypeInfo(challengeType: type, supportsDNS: true, supportsIP: false, usesToken: true)
        }
        self.enabled = enabled
        self.config = config
    }

    /// The types offered for an authorization, sorted by name.
    func offered(for identifier: Identifier, wildcard: Bool) -> [ChallengeTypeInfo] {
        enabled.values.filter { info in
            switch info.challengeType {
            // RFC 8555 §8.3 (http-01) and RFC 8737 §3 (tls-alpn-01): never for wildcards.
            case "http-01": !wildcard
            case "tls-alpn-01": !wildcard
            // RFC 8738 §7: DNS-based challenges cannot prove control of an IP address.
            case "dns-01", "dns-persist-01": identifier.type == "dns"
            default: identifier.type == "ip" ? info.supportsIP : info.supportsDNS
            }
        }
        .sorted { $0.challengeType < $1.challengeType }
    }

    /// `challenges.<type>.max_retries` (3 for types without a section).
    func maxRetries(_ type: String) -> Int {
        switch type {
        case "http-01": config.http01.maxRetries
        case "dns-01": config.dns01.maxRetries
        case "tls-alpn-01": config.tlsalpn01.maxRetries
        case "dns-persist-01": config.dnspersist01.maxRetries
        default: 3
        }
    }

    /// `challenges.<type>.auto_validate` (true for types without a section).
    func autoValidate(_ type: String) -> Bool {
        switch type {
        case "http-01": config.http01.autoValidate
        case "dns-01": config.dns01.autoValidate
        case "tls-alpn-01": config.tlsalpn01.autoValidate
        case "dns-persist-01": config.dnspersist01.autoValidate
        default: true
        }
    }

    /// The wait before retry number `retry` (0-based) of a `type` challenge: the backoff, and
    /// for the DNS types at least `propagation_wait_seconds`, so that a record the client has
    /// just published has time to reach every authoritative server before it is asked again.
    func retryDelaySeconds(_ type: String, retry: Int) -> Int {
        let propagation = switch type {
        case "dns-01": config.dns01.propagationWaitSeconds
        case "dns-persist-01": config.dnspersist01.propagationWaitSeconds
        default: 0
        }
        return max(backoffSeconds(retry: retry), propagation)
    }

    /// Backoff before retry number `retry` (0-based): base·2^n, capped.
    func backoffSeconds(retry: Int) -> Int {
        let base = config.backoffBaseSeconds, cap = config.backoffMaxSeconds
        guard retry < 30 else { return cap }
        return min(base * (1 << retry), cap)
    }
}
