import Foundation
@testable import Host
import XCTest

/// The worker's bell: a ring wakes a waiting worker, a ring while it is busy is not lost,
/// and without a ring the wait ends at its bound.
final class WorkerBellTests: XCTestCase {
    func testRingWakesAWaitingWorker() async {
        let bell = WorkerBell()
        let started = ContinuousClock.now
        async let waited: Void = bell.wait(upTo: .seconds(120))
        try? await Task.sleep(for: .milliseconds(100))
        bell.ring()
        await waited
        XCTAssertLessThan(ContinuousClock.now - started, .seconds(60), "the ring ended the wait, not the bound")
    }

    func testRingWhileBusyMakesTheNextWaitReturnAndWaitsEndAtTheirBound() async {
        let bell = WorkerBell()
        bell.ring()
        let started = ContinuousClock.now
        await bell.wait(upTo: .seconds(120))
        XCTAssertLessThan(ContinuousClock.now - started, .seconds(60), "a ring before the wait is kept")
        let second = ContinuousClock.now
        await bell.wait(upTo: .milliseconds(200))
        XCTAssertGreaterThanOrEqual(ContinuousClock.now - second, .milliseconds(200), "one ring wakes one wait")
    }
}
