import PluginAPI

/// One challenge to validate (`acmeeh_challenge_request`), RFC 8555 §8.
struct ChallengeValidationRequest: Sendable, Equatable {
    var challengeType: String
    /// "dns" or "ip".
    var identifierType: String
    /// Lowercase A-label or IP text, without "*.".
    var identifierValue: String
    /// Nil for types without a token (dns-persist-01).
    var token: String?
    /// token "." base64url(JWK thumbprint), RFC 8555 §8.1; nil when there is no token.
    var keyAuthorization: String?
    var accountURL: String
    var wildcard: Bool = false
}

/// A challenge validator instance serving one `challenges.enabled` entry.
final class ChallengePluginInstance: Sendable {
    let instance: PluginInstance

    init(_ instance: PluginInstance) { self.instance = instance }

    var name: String { instance.library.name }
    /// Every type the plugin library declares (an instance serves one of them).
    var declaredChallengeTypes: [ChallengeTypeInfo] { instance.library.challengeTypes }

    /// The one type this instance serves (create() was told which).
    var challengeTypes: [ChallengeTypeInfo] {
        guard let type = instance.challengeType else { return instance.library.challengeTypes }
        return instance.library.challengeTypes.filter { $0.challengeType == type }
    }

    /// Returns when the challenge is satisfied; throws the plugin's answer otherwise
    /// (`retryable` says whether to try again).
    func validate(_ request: ChallengeValidationRequest, timeout: Duration) async throws(PluginError) {
        try await instance.call("validate", timeout: timeout) { descriptor, handle, deadline in
            var error = acmeeh_error.empty()
            let status = request.withCRequest(deadline: deadline) { cRequest in
                descriptor.challenge_validate!(handle, &cRequest, &error)
            }
            return self.instance.plainOutcome(status, error, operation: "validate")
        }
    }

    /// Releases anything validate left behind; errors are ignored (the ABI returns none).
    func cleanup(_ request: ChallengeValidationRequest, timeout: Duration) async {
        guard instance.library.descriptor.challenge_cleanup != nil else { return }
        _ = try? await instance.call("cleanup", timeout: timeout) { descriptor, handle, deadline -> Result<Void, PluginError> in
            request.withCRequest(deadline: deadline) { cRequest in
                descriptor.challenge_cleanup!(handle, &cRequest)
            }
            return .success(())
        }
    }

    func selfCheck(timeout: Duration) async throws(PluginError) {
        try await instance.selfCheck(timeout: timeout)
    }

    func close() async { await instance.close() }
}

extension ChallengeValidationRequest {
    func withCRequest<R>(deadline: Int64, _ body: (inout acmeeh_challenge_request) -> R) -> R {
        withCStrings([challengeType, identifierType, identifierValue, token, keyAuthorization, accountURL]) { s in
            var cRequest = acmeeh_challenge_request(
                struct_size: UInt32(MemoryLayout<acmeeh_challenge_request>.size),
                challenge_type: s[0], identifier_type: s[1], identifier_value: s[2],
                token: s[3], key_authorization: s[4], account_url: s[5],
                wildcard: wildcard ? 1 : 0, deadline_ms: deadline)
            return body(&cRequest)
        }
    }
}
