import PluginAPI

/// A failed plugin call (sign, poll, revoke, self-check, validate, deliver) as a value that
/// already carries its ACME problem type, so the ACME layer can render it unchanged.
struct PluginError: Error, Sendable, Equatable, CustomStringConvertible {
    /// `ACMEEH_E_*`; unknown values from a plugin are kept as they came.
    struct Code: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        let rawValue: Int32
        init(rawValue: Int32) { self.rawValue = rawValue }

        static let internalError = Code(rawValue: ACMEEH_E_INTERNAL)
        static let config = Code(rawValue: ACMEEH_E_CONFIG)
        static let invalidInput = Code(rawValue: ACMEEH_E_INVALID_INPUT)
        static let unavailable = Code(rawValue: ACMEEH_E_UNAVAILABLE)
        static let deadline = Code(rawValue: ACMEEH_E_DEADLINE)
        static let rejected = Code(rawValue: ACMEEH_E_REJECTED)
        static let unsupported = Code(rawValue: ACMEEH_E_UNSUPPORTED)

        var description: String {
            switch self {
            case .internalError: "internal"
            case .config: "config"
            case .invalidInput: "invalidInput"
            case .unavailable: "unavailable"
            case .deadline: "deadline"
            case .rejected: "rejected"
            case .unsupported: "unsupported"
            default: "code \(rawValue)"
            }
        }
    }

    /// RFC 8555 §6.7: the problem type used when the plugin gave none.
    static let serverInternal = "urn:ietf:params:acme:error:serverInternal"

    var code: Code
    /// True when the same call may succeed later.
    var retryable: Bool
    /// A full ACME problem URN; never empty.
    var problemType: String
    /// Shown to ACME clients; plugins must not put secrets in it.
    var detail: String
    /// Which plugin instance answered, e.g. `ChallengeHTTP01 (challenges.enabled[0])`, for logs.
    var source: String

    init(code: Code, retryable: Bool, problemType: String = "", detail: String, source: String) {
        self.code = code
        self.retryable = retryable
        self.problemType = problemType.isEmpty ? Self.serverInternal : problemType
        self.detail = detail
        self.source = source
    }

    /// A plugin broke the ABI contract (unknown status, OK without outputs, ...): a bug in
    /// the plugin, reported as serverInternal and not retried.
    static func contractViolation(_ detail: String, source: String) -> PluginError {
        PluginError(code: .internalError, retryable: false, detail: detail, source: source)
    }

    var description: String {
        "\(source): \(code) (\(retryable ? "retryable" : "final"), \(problemType)): \(detail)"
    }
}
