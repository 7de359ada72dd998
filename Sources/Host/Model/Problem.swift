/// An ACME error (RFC 8555 §6.7): the value every refusal is raised as, from the
/// place that decides it to the response that carries it (RFC 7807 problem document).
struct Problem: Error, Sendable, Equatable, CustomStringConvertible {
    var type: ProblemType
    var detail: String
    /// What kind of refusal this is beyond its type; the response's status follows from it.
    var refusal: Refusal
    var subproblems: [Subproblem] = []
    /// Extra response headers (`Retry-After`, `Location` of a conflicting account).
    var headers: [String: String] = [:]
    /// For `badSignatureAlgorithm`: the algorithms the server accepts (RFC 8555 §6.2).
    var algorithms: [String]? = nil

    init(_ type: ProblemType, _ detail: String, refusal: Refusal? = nil,
         subproblems: [Subproblem] = [], headers: [String: String] = [:]) {
        self.type = type
        self.detail = detail
        self.refusal = refusal ?? type.defaultRefusal
        self.subproblems = subproblems
        self.headers = headers
    }

    var description: String { "\(type.urn): \(detail)" }

    func withAlgorithms(_ algorithms: [String]) -> Problem {
        var copy = self
        copy.algorithms = algorithms
        return copy
    }

    /// One entry of `subproblems` (RFC 8555 §6.7.1), tied to an identifier.
    struct Subproblem: Sendable, Equatable {
        var type: ProblemType
        var detail: String
        var identifier: Identifier?
    }
}

/// The kinds of refusal, as the step that decides one sees it; the HTTP layer turns each
/// into a status (`Problem.status`).
enum Refusal: Sendable, Equatable {
    case badRequest
    /// The signer is not (or no longer) an account allowed to act (RFC 8555 §7.3.6).
    case unauthenticated
    case forbidden
    case notFound
    case methodNotAllowed
    /// The request collides with existing state (a key another account holds).
    case conflict
    case payloadTooLarge
    case unsupportedMediaType
    case tooManyRequests
    case internalFailure
    /// A dependency is down or the service is paused; the client should retry later.
    case unavailable
}

/// The ACME error types of RFC 8555 §6.7 (and RFC 9773's, draft profiles').
enum ProblemType: String, Sendable, CaseIterable {
    case accountDoesNotExist, alreadyReplaced, alreadyRevoked, badCSR, badNonce, badPublicKey
    case badRevocationReason, badSignatureAlgorithm, caa, compound, connection, dns
    case externalAccountRequired, incorrectResponse, invalidContact, invalidProfile, malformed
    case orderNotReady, rateLimited, rejectedIdentifier, serverInternal, tls, unauthorized
    case unsupportedContact, unsupportedIdentifier, userActionRequired

    static let prefix = "urn:ietf:params:acme:error:"

    var urn: String { Self.prefix + rawValue }

    /// Parses a full URN (as plugins return them); nil for anything else.
    init?(urn: String) {
        guard urn.hasPrefix(Self.prefix) else { return nil }
        self.init(rawValue: String(urn.dropFirst(Self.prefix.count)))
    }

    /// The refusal a problem of this type is unless the raiser says otherwise.
    var defaultRefusal: Refusal {
        switch self {
        case .unauthorized, .orderNotReady, .caa, .userActionRequired: .forbidden
        case .rateLimited: .tooManyRequests
        case .serverInternal: .internalFailure
        case .alreadyReplaced: .conflict
        default: .badRequest
        }
    }
}
