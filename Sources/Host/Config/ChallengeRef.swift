/// One entry of `challenges.enabled`: a built-in validation method or a challenge plugin.
enum ChallengeRef: Sendable, Equatable, CustomStringConvertible {
    case http01
    case dns01
    case tlsALPN01
    case dnsPersist01
    /// `ext:NAME_OR_PATH`: a challenge plugin library (`ext:` removed).
    case plugin(String)

    /// The spelling used in the configuration.
    var description: String {
        switch self {
        case .http01: return "http-01"
        case .dns01: return "dns-01"
        case .tlsALPN01: return "tls-alpn-01"
        case .dnsPersist01: return "dns-persist-01"
        case .plugin(let target): return PluginReferenceSyntax.prefix + target
        }
    }

    /// Parses a `challenges.enabled` value, or says what is wrong with it.
    static func parse(_ value: String) -> Result<ChallengeRef, PluginReferenceSyntax.Problem> {
        switch value {
        case "http-01": return .success(.http01)
        case "dns-01": return .success(.dns01)
        case "tls-alpn-01": return .success(.tlsALPN01)
        case "dns-persist-01": return .success(.dnsPersist01)
        default:
            if value.hasPrefix(PluginReferenceSyntax.prefix) {
                return PluginReferenceSyntax.parse(value).map { .plugin($0) }
            }
            return .failure(.init("unknown challenge type \"\(value)\" "
                + "(expected http-01, dns-01, tls-alpn-01, dns-persist-01 or ext:NAME for a challenge plugin)"))
        }
    }
}
