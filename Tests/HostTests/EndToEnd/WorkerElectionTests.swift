import Foundation
@testable import Host
import XCTest

/// Background workers elected by PostgreSQL advisory locks across real `acmeeh serve`
/// processes on one database, as `/healthz` shows them: one leader per worker; when the
/// leader is SIGKILLed (its sessions end, its locks free) another instance leads within
/// one poll interval; an instance with `challenges.background_worker.enabled: false`
/// never leads the challenge worker; a challenge an instance left `processing` is
/// validated again after `stale_seconds`.
final class WorkerElectionTests: XCTestCase {
    /// Poll every second (the cleanup worker polls at its shortest task interval).
    static let workersYAML = """
    challenges:
      background_worker:
        poll_seconds: 1
        stale_seconds: 3
    nonce:
      gc_interval_seconds: 1
    """
    static let pollSeconds = 1.0
    /// Time for the /healthz round trip and the process exit on top of one poll interval.
    static let slack = 2.0

    var first: TestServer!
    var others: [ServerProcess] = []

    override func tearDown() {
        for other in others { other.stop() }
        first?.shutdown()
    }

    /// Another instance on the first one's database and configuration.
    func startInstance(challengeWorker: Bool) throws -> ServerProcess {
        let port = try ServerProcess.freePort()
        var yaml = try String(contentsOf: first.configFile, encoding: .utf8)
            .replacingOccurrences(of: "\n  port: \(first.port)\n", with: "\n  port: \(port)\n")
        if !challengeWorker {
            yaml = yaml.replacingOccurrences(of: "  background_worker:\n", with: "  background_worker:\n    enabled: false\n")
        }
        let config = first.directory.appendingPathComponent("instance-\(port).yaml")
        try yaml.write(to: config, atomically: true, encoding: .utf8)
        let process = try ServerProcess(config: config, port: port,
                                        logFile: first.directory.appendingPathComponent("instance-\(port).log"))
        others.append(process)
        try process.waitUntilLive()
        return process
    }

    /// Each instance's role for `worker` once every instance has checked its lock.
    func roles(_ worker: String, _ instances: [String]) -> [String?] {
        instances.map { HTTP.workerStates($0)[worker]?["role"] as? String }
    }

    func waitUntil(_ timeout: TimeInterval, _ condition: () -> Bool) -> Bool {
        let end = Date().addingTimeInterval(timeout)
        while Date() < end {
            if condition() { return true }
            Thread.sleep(forTimeInterval: 0.1)
        }
        return condition()
    }

    func testOneLeaderPerWorkerAndTakeoverWithinOnePollInterval() throws {
        first = try TestServer(extra: Self.workersYAML)
        let second = try startInstance(challengeWorker: true)
        let third = try startInstance(challengeWorker: false)
        let urls = [first.baseURL, second.baseURL, third.baseURL]

        // Exactly one leader of each worker, once every instance has checked its locks.
        func checked(_ url: String, _ worker: String) -> Bool { HTTP.workerStates(url)[worker]?["last_check"] != nil }
        XCTAssertTrue(waitUntil(10) {
            urls.allSatisfy { checked($0, "cleanup") && checked($0, "expiration") }
                && urls.prefix(2).allSatisfy { checked($0, "challenge") }
        }, "\(urls.map(HTTP.workerStates))")
        for worker in ["challenge", "cleanup", "expiration"] {
            XCTAssertEqual(roles(worker, urls).filter { $0 == "leader" }.count, 1, "\(worker): \(roles(worker, urls))")
        }
        let thirdStates = HTTP.workerStates(third.baseURL)
        XCTAssertEqual(thirdStates["challenge"]?["status"] as? String, "disabled")
        XCTAssertNil(thirdStates["challenge"]?["role"])
        XCTAssertEqual(thirdStates["challenge"]?["lock_id"] as? Int, 712_003)
        XCTAssertEqual(thirdStates["cleanup"]?["lock_id"] as? Int, 712_001)
        XCTAssertNotEqual(thirdStates["expiration"]?["status"] as? String, "disabled", "notifications.enabled is on by default")
        XCTAssertEqual(thirdStates["expiration"]?["lock_id"] as? Int, 712_002)
        let health = try HTTP.get("\(third.baseURL)/healthz")
        XCTAssertEqual(health.status, 200)
        let running = (health.json?["checks"] as? [String: Any])?["workers"] as? [String: Bool]
        XCTAssertEqual(running, ["challenge": false, "cleanup": true, "expiration": true, "crl": false])

        // SIGKILL the challenge leader: the other enabled instance leads within one interval.
        let challengeLeader = try XCTUnwrap(roles("challenge", urls).firstIndex(of: "leader"))
        XCTAssertNotEqual(challengeLeader, 2, "the instance with the challenge worker disabled leads it")
        let (killed, survivor) = challengeLeader == 0 ? (first.process, second) : (second, first.process)
        let leaderStates = HTTP.workerStates(killed.baseURL)
        XCTAssertNotNil(leaderStates["challenge"]?["last_run"], "the leader ran rounds: \(leaderStates)")
        killed.killNow()
        let killedAt = Date()
        XCTAssertTrue(waitUntil(Self.pollSeconds + Self.slack) { roles("challenge", [survivor.baseURL]) == ["leader"] },
                      "no new challenge leader: \(HTTP.workerStates(survivor.baseURL))")
        XCTAssertLessThanOrEqual(Date().timeIntervalSince(killedAt), Self.pollSeconds + Self.slack)
        // The cleanup worker too, if the killed instance led it.
        XCTAssertTrue(waitUntil(Self.pollSeconds + Self.slack) {
            roles("cleanup", [survivor.baseURL, third.baseURL]).filter { $0 == "leader" }.count == 1
        }, "\(roles("cleanup", [survivor.baseURL, third.baseURL]))")
        XCTAssertEqual(roles("challenge", [third.baseURL]), [nil])

        // With only the disabled instance left: it leads the cleanup worker, never the challenge worker.
        survivor.killNow()
        XCTAssertTrue(waitUntil(Self.pollSeconds + Self.slack) { roles("cleanup", [third.baseURL]) == ["leader"] },
                      "\(HTTP.workerStates(third.baseURL))")
        Thread.sleep(forTimeInterval: 3 * Self.pollSeconds)
        XCTAssertEqual(HTTP.workerStates(third.baseURL)["challenge"]?["status"] as? String, "disabled")
        XCTAssertTrue(third.log.contains("took the lead (advisory lock 712001)"), third.log)
        XCTAssertFalse(third.log.contains("advisory lock 712003"), third.log)
        XCTAssertTrue(third.log.contains("this instance never runs the challenge worker"), third.log)
    }

    func testStaleProcessingChallengeIsValidatedAgain() throws {
        first = try TestServer(extra: Self.workersYAML)
        let client = try ACMETestClient(directoryURL: first.directoryURL)
        let key = TestKey.ec()
        let (_, account) = try client.newAccount(key)
        let order = try client.post(client.url("newOrder"),
                                    .json(["identifiers": [["type": "dns", "value": "stale.example.test"]]]), key: key, kid: account)
        XCTAssertEqual(order.status, 201, order.text)

        // An instance claimed the challenge and died mid-validation: its lock stays behind.
        let id = try first.sql { c -> UUID in
            try c.queryFirst(
                """
                UPDATE challenges SET status = 'processing', locked_by = 'crashed-instance', locked_at = now()
                WHERE type = 'http-01' RETURNING id
                """)!.uuid("id")
        }
        let lockedAt = Date()
        func row() throws -> (lockedBy: String?, status: String, error: Bool) {
            try first.sql { c in
                let r = try c.queryFirst("SELECT locked_by, status, error IS NOT NULL AS failed FROM challenges WHERE id = $1",
                                         [.uuid(id)])!
                return (try r.stringIfPresent("locked_by"), try r.string("status"), try r.bool("failed"))
            }
        }
        Thread.sleep(forTimeInterval: 1.5)
        XCTAssertEqual(try row().lockedBy, "crashed-instance", "released before stale_seconds")

        // After stale_seconds (3) the worker releases it and claims it within one poll.
        XCTAssertTrue(waitUntil(3 + Self.pollSeconds + Self.slack) { (try? row().lockedBy) != "crashed-instance" })
        XCTAssertGreaterThanOrEqual(Date().timeIntervalSince(lockedAt), 2.5)
        // The validation ran: the unreachable name failed it (retry scheduled or invalid).
        XCTAssertTrue(waitUntil(60) { (try? row()).map { $0.error || $0.status != "processing" } ?? false },
                      "\(String(describing: try? row()))\n\(first.process.log)")
    }
}
