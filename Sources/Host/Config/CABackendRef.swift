/// The CA that signs certificates (`ca.backend`, entries of `ca.failover`).
enum CABackendRef: Sendable, Equatable, CustomStringConvertible {
    /// File-based CA from `ca.internal` (served by the CAFile plugin).
    case `internal`
    /// Remote signing API from `ca.external` (served by the CAExternal plugin).
    case external
    /// `ext:NAME_OR_PATH`: a CA plugin library (`ext:` removed).
    case plugin(String)

    var description: String {
        switch self {
        case .internal: return "internal"
        case .external: return "external"
        case .plugin(let target): return PluginReferenceSyntax.prefix + target
        }
    }

    /// Reference backends that acmeeh does not build in.
    static let notBuiltIn: Set<String> = ["hsm", "acme_proxy"]

    /// Parses a backend value, or says what is wrong with it.
    static func parse(_ value: String) -> Result<CABackendRef, PluginReferenceSyntax.Problem> {
        switch value {
        case "internal": return .success(.internal)
        case "external": return .success(.external)
        case _ where notBuiltIn.contains(value):
            return .failure(.init("backend \"\(value)\" is not built in; it must be provided as a CA plugin library "
                + "(ext:NAME, e.g. ext:\(value == "hsm" ? "HSMCA" : "ACMEProxyCA")) that reads ca.\(value)"))
        case _ where value.hasPrefix(PluginReferenceSyntax.prefix):
            return PluginReferenceSyntax.parse(value).map { .plugin($0) }
        default:
            return .failure(.init("unknown CA backend \"\(value)\" (expected internal, external or ext:NAME for a CA plugin)"))
        }
    }
}
