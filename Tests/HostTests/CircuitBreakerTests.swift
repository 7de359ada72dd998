import Foundation
import NIOConcurrencyHelpers
import XCTest

@testable import Host

/// The circuit breaker's states on a fake clock.
final class CircuitBreakerTests: XCTestCase {
    final class FakeClock: Sendable {
        private let seconds = NIOLockedValueBox(100.0)
        func now() -> Double { seconds.withLockedValue { $0 } }
        func advance(_ by: Double) { seconds.withLockedValue { $0 += by } }
    }

    func testOpensAfterThresholdConsecutiveFailures() {
        let clock = FakeClock()
        let breaker = CircuitBreaker(failureThreshold: 3, recoveryTimeout: 30, now: { clock.now() })
        XCTAssertEqual(breaker.admit(), .allowed)
        XCTAssertFalse(breaker.recordFailure())
        XCTAssertFalse(breaker.recordFailure())
        breaker.recordSuccess()  // a success resets the count
        XCTAssertFalse(breaker.recordFailure())
        XCTAssertFalse(breaker.recordFailure())
        XCTAssertEqual(breaker.state, .closed)
        XCTAssertTrue(breaker.recordFailure())
        XCTAssertEqual(breaker.state, .open(until: 130))
        XCTAssertEqual(breaker.admit(), .rejected(retryAfter: 30))
        clock.advance(29)
        XCTAssertEqual(breaker.admit(), .rejected(retryAfter: 1))
    }

    func testHalfOpenLetsOneProbeThrough() {
        let clock = FakeClock()
        let breaker = CircuitBreaker(failureThreshold: 1, recoveryTimeout: 10, now: { clock.now() })
        XCTAssertTrue(breaker.recordFailure())
        clock.advance(10)
        XCTAssertEqual(breaker.admit(), .probe)
        XCTAssertEqual(breaker.state, .halfOpen)
        XCTAssertEqual(breaker.admit(), .rejected(retryAfter: 0), "only one probe at a time")
        // The probe fails: open again for a full recovery time.
        XCTAssertTrue(breaker.recordFailure())
        XCTAssertEqual(breaker.state, .open(until: 120))
        clock.advance(10)
        XCTAssertEqual(breaker.admit(), .probe)
        breaker.recordSuccess()
        XCTAssertEqual(breaker.state, .closed)
        XCTAssertEqual(breaker.admit(), .allowed)
    }
}
