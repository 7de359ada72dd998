import Foundation
import NIOConcurrencyHelpers

/// A circuit breaker for one CA backend (`ca.circuit_breaker_failure_threshold`,
/// `ca.circuit_breaker_recovery_timeout`): after N consecutive retryable failures the
/// backend is not called at all for the recovery time (calls fail fast, retryable); then
/// one probe call is let through (half-open): success closes the circuit, failure reopens it.
///
/// Only retryable failures (unreachable, 5xx, deadline) count: a final refusal such as a
/// rejected CSR shows the backend is up, and counts as an answer.
final class CircuitBreaker: Sendable {
    enum State: Sendable, Equatable {
        case closed
        /// Failing fast until `until` (seconds on `now`'s clock).
        case open(until: Double)
        /// One probe is in flight; other calls fail fast until it returns.
        case halfOpen
    }

    /// May this call go to the backend?
    enum Admission: Sendable, Equatable {
        case allowed
        /// `probe`: the half-open call whose result decides the state.
        case probe
        /// Open: the seconds left before a probe is allowed.
        case rejected(retryAfter: Double)
    }

    private struct Box {
        var state: State = .closed
        var consecutiveFailures = 0
    }

    let failureThreshold: Int
    let recoveryTimeout: Double
    /// Monotonic seconds; a test passes a fake clock.
    private let now: @Sendable () -> Double
    private let box = NIOLockedValueBox(Box())

    init(failureThreshold: Int, recoveryTimeout: Double,
         now: @escaping @Sendable () -> Double = CircuitBreaker.monotonicSeconds) {
        self.failureThreshold = max(1, failureThreshold)
        self.recoveryTimeout = max(0, recoveryTimeout)
        self.now = now
    }

    static func monotonicSeconds() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }

    var state: State { box.withLockedValue { $0.state } }

    /// Decides whether a call may go through; an open circuit whose time has come turns half-open.
    func admit() -> Admission {
        let now = self.now()
        return box.withLockedValue { box in
            switch box.state {
            case .closed:
                return .allowed
            case .open(let until) where now >= until:
                box.state = .halfOpen
                return .probe
            case .open(let until):
                return .rejected(retryAfter: until - now)
            case .halfOpen:
                return .rejected(retryAfter: 0)
            }
        }
    }

    /// The backend answered (success or a final refusal): the circuit closes.
    func recordSuccess() {
        box.withLockedValue { box in
            box.state = .closed
            box.consecutiveFailures = 0
        }
    }

    /// A retryable failure: opens the circuit at the threshold, or at once when it was the probe.
    /// Returns true when this failure opened the circuit.
    @discardableResult
    func recordFailure() -> Bool {
        let now = self.now()
        return box.withLockedValue { box in
            box.consecutiveFailures += 1
            let opens: Bool = switch box.state {
            case .halfOpen: true
            case .closed: box.consecutiveFailures >= failureThreshold
            case .open: false
            }
            if opens { box.state = .open(until: now + recoveryTimeout) }
            return opens
        }
    }
}
