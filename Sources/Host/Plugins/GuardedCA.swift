import Logging

/// The CA as the rest of the host sees it: the primary backend (`ca.backend`) and the
/// failover backends (`ca.failover`), each behind its own circuit breaker.
///
/// sign tries the backends in order and moves to the next on a retryable error (an open
/// breaker counts as one) or a configuration error of that backend; a final refusal (bad
/// CSR, policy) ends it there.
/// The answer names the backend that issued, which `certificates.ca_backend` records so
/// that revoke goes back to it.
final class GuardedCA: Sendable {
    /// One backend: its `ca.backend`/`ca.failover` name (`internal`, `external`, `ext:...`).
    struct Backend: Sendable {
        let name: String
        let instance: CAPluginInstance
        let breaker: CircuitBreaker
        /// The URL of this backend's CRL, put in each leaf it signs; nil when no CRL is published.
        var crlDistributionPoint: String? = nil
    }

    let backends: [Backend]
    let logger: Logger
    /// Told the time and outcome of every backend's sign call.
    let observer: PluginCallObserver
    /// The OCSP responder URL put in each leaf (AIA id-ad-ocsp); nil while none is served.
    let ocspURL: String?

    /// `backends` in order of preference, the primary first; never empty.
    init(backends: [Backend], logger: Logger = Logger(label: "acmeeh.ca"), observer: PluginCallObserver = .none,
         ocspURL: String? = nil) {
        precondition(!backends.isEmpty, "GuardedCA needs at least one backend")
        self.backends = backends
        self.logger = logger
        self.observer = observer
        self.ocspURL = ocspURL
    }

    var primary: Backend { backends[0] }
    /// The primary's plugin name (e.g. `CAFile`).
    var name: String { primary.instance.name }

    /// Signs with the first backend that answers (issued, pending or a final refusal); returns its answer and name.
    /// Each backend is asked with its own CRL URL and with ocspURL; these replace what the request carried.
    func sign(_ request: CASignRequest, timeout: Duration) async throws(PluginError) -> (outcome: CASignOutcome, backend: String) {
        var failures: [PluginError] = []
        for backend in backends {
            let started = ContinuousClock.now
            var request = request
            request.crlDistributionPoint = backend.crlDistributionPoint
            request.ocspURL = ocspURL
            do {
                let outcome = try await guarded(backend, "sign") { () async throws(PluginError) in
                    try await backend.instance.sign(request, timeout: timeout)
                }
                observer.caSigned(backend.name, ContinuousClock.now - started, false)
                if !failures.isEmpty {
                    logger.warning("CA failover: signed by \(backend.name) after \(failures.count) backend(s) failed",
                                   metadata: ["failures": "\(failures.map(\.detail))"])
                }
                return (outcome, backend.name)
            } catch {
                observer.caSigned(backend.name, ContinuousClock.now - started, true)
                // A backend that cannot work as configured (e.g. TLS trust) is no verdict on the request either.
                guard error.retryable || error.code == .config else { throw error }
                logger.warning("CA backend \(backend.name) failed \(error.retryable ? "retryably" : "by its configuration")",
                               metadata: ["error": "\(error)"])
                failures.append(error)
            }
        }
        // Every backend failed: the last error, naming the others.
        var last = failures.removeLast()
        if !failures.isEmpty {
            last.detail = "\(last.detail) (and \(failures.count) other CA backend(s) failed: \(failures.map(\.detail).joined(separator: "; ")))"
        }
        throw last
    }

    /// Signs with the named backend only, with its CRL URL and ocspURL: the final
    /// certificate of a precertificate must come from the CA that signed the precertificate.
    func sign(_ request: CASignRequest, on name: String, timeout: Duration) async throws(PluginError) -> CASignOutcome {
        let backend = self.backend(named: name)
        var request = request
        request.crlDistributionPoint = backend.crlDistributionPoint
        request.ocspURL = ocspURL
        let started = ContinuousClock.now
        do {
            let outcome = try await guarded(backend, "sign") { () async throws(PluginError) in
                try await backend.instance.sign(request, timeout: timeout)
            }
            observer.caSigned(backend.name, ContinuousClock.now - started, false)
            return outcome
        } catch {
            observer.caSigned(backend.name, ContinuousClock.now - started, true)
            throw error
        }
    }

    /// Asks the backend that deferred the signing; nil = the primary.
    func poll(handle: String, backend name: String? = nil, timeout: Duration) async throws(PluginError) -> CASignOutcome {
        let backend = self.backend(named: name)
        return try await guarded(backend, "poll") { () async throws(PluginError) in
            try await backend.instance.poll(handle: handle, timeout: timeout)
        }
    }

    /// Revokes at the backend that issued (`certificates.ca_backend`); the primary when that
    /// backend is not configured any more.
    func revoke(_ request: CARevokeRequest, backend name: String?, timeout: Duration) async throws(PluginError) {
        let backend = self.backend(named: name)
        try await guarded(backend, "revoke") { () async throws(PluginError) in
            try await backend.instance.revoke(request, timeout: timeout)
        }
    }

    /// The primary's self-check (health, startup); not counted by the breaker.
    func selfCheck(timeout: Duration) async throws(PluginError) {
        try await primary.instance.selfCheck(timeout: timeout)
    }

    func backend(named name: String?) -> Backend {
        guard let name else { return primary }
        return backends.first { $0.name == name } ?? primary
    }

    /// Runs one call through the backend's breaker: fails fast while open, counts the outcome.
    func guarded<T: Sendable>(_ backend: Backend, _ operation: String,
                                     _ call: () async throws(PluginError) -> T) async throws(PluginError) -> T {
        if case .rejected(let retryAfter) = backend.breaker.admit() {
            let wait = retryAfter > 0 ? "; next attempt allowed in \(Int(retryAfter.rounded(.up))) s" : "; a probe call is in flight"
            throw PluginError(code: .unavailable, retryable: true,
                              detail: "CA backend \(backend.name) is failing: circuit breaker open, \(operation) not attempted\(wait)",
                              source: "\(backend.instance.name) (circuit breaker)")
        }
        do {
            let result = try await call()
            backend.breaker.recordSuccess()
            return result
        } catch {
            if !error.retryable {
                backend.breaker.recordSuccess()
            } else if backend.breaker.recordFailure() {
                logger.error("circuit breaker for CA backend \(backend.name) opened: calls fail fast for \(backend.breaker.recoveryTimeout) s",
                             metadata: ["error": "\(error)"])
            }
            throw error
        }
    }
}
