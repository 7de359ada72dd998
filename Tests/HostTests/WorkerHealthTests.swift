import Foundation
@testable import Host
import XCTest

/// How `/healthz` judges the background workers: a running worker that checks its lock is
/// ok (leader or standby); one whose task ended or whose lock check is overdue (three
/// intervals and 30 s) degrades the whole report; a disabled worker is reported as such.
final class WorkerHealthTests: XCTestCase {
    func testRolesOverdueAndDeadWorkers() {
        let challenge = WorkerState(name: "challenge", lockID: 712_003, intervalSeconds: 10, enabled: true)
        let cleanup = WorkerState(name: "cleanup", lockID: 712_001, intervalSeconds: 10, enabled: true)
        let expiration = WorkerState(name: "expiration", lockID: 712_002, intervalSeconds: 3600, enabled: false)
        challenge.started()
        challenge.checked(leader: true)
        challenge.ran()
        cleanup.started()
        cleanup.checked(leader: false)
        cleanup.failed(CLIFailure("connection refused"))

        let now = Date()
        var report = WorkerHealthProbe.report([challenge, cleanup, expiration], now: now)
        XCTAssertEqual(report.running, ["challenge": true, "cleanup": true, "expiration": false])
        XCTAssertFalse(report.degraded)
        XCTAssertEqual(report.states["challenge"]?.status, .ok)
        XCTAssertEqual(report.states["challenge"]?.fields["role"] as? String, "leader")
        XCTAssertNotNil(report.states["challenge"]?.fields["last_run"])
        XCTAssertEqual(report.states["cleanup"]?.fields["role"] as? String, "standby")
        XCTAssertEqual(report.states["cleanup"]?.fields["last_error"] as? String, "connection refused")
        XCTAssertEqual(report.states["expiration"]?.status, .disabled)
        XCTAssertEqual(report.states["expiration"]?.fields["lock_id"] as? Int, 712_002)

        // No lock check for 3 × 10 s + 30 s: overdue.
        report = WorkerHealthProbe.report([challenge, cleanup, expiration], now: now.addingTimeInterval(61))
        XCTAssertTrue(report.degraded)
        XCTAssertEqual(report.states["challenge"]?.status, .degraded)

        // A task that ended is dead.
        cleanup.ended()
        report = WorkerHealthProbe.report([challenge, cleanup, expiration], now: now)
        XCTAssertEqual(report.running["cleanup"], false)
        XCTAssertEqual(report.states["cleanup"]?.status, .degraded)
        XCTAssertEqual(report.states["cleanup"]?.fields["detail"] as? String, "the worker's task ended")
    }

    func testADeadWorkerDegradesHealth() async {
        let dead = WorkerState(name: "cleanup", lockID: 712_001, intervalSeconds: 10, enabled: true)
        dead.started()
        dead.ended()
        let probes = HealthMonitor.Probes(
            database: { .ok }, caBackend: { .ok }, crl: nil, smtp: { .ok }, dnsResolver: { .ok },
            workers: { WorkerHealthProbe.report([dead]) })
        let lifecycle = Lifecycle()
        lifecycle.markStarted()
        let (healthy, body) = await HealthMonitor(probes: probes, lifecycle: lifecycle).health()
        XCTAssertFalse(healthy)
        XCTAssertEqual(body["status"] as? String, "degraded")
        let checks = body["checks"] as? [String: any Sendable]
        XCTAssertEqual(checks?["workers"] as? [String: Bool], ["cleanup": false])
        XCTAssertEqual((checks?["worker_states"] as? [String: [String: any Sendable]])?["cleanup"]?["status"] as? String,
                       "degraded")
    }
}
