import Foundation
@testable import Host
import XCTest

/// Two `acmeeh serve` processes on one PostgreSQL database under load, one of them
/// SIGKILLed mid-run (docs/high-availability.md).
///
/// The two differ only in their port and `server.external_url`: the JWS `url` check and the
/// URLs in every response use `external_url`, so a client that talks to one instance
/// directly (no load balancer in the test) needs that instance's own URL. The second one
/// also names the database in libpq's multi-host form, a dead host first, with
/// `target_session_attrs: read-write`. Both share the rate-limit counters (`backend:
/// database`), the maintenance switch and the elected workers.
///
/// `acmeeh-bench` drives each instance as a real process; each run answers http-01 at its
/// own loopback address (127.0.0.2 and 127.0.0.3, the same port), which the loopback DNS
/// gives its names, so either instance (or either elected challenge worker) validates
/// any challenge, as one deployment would. Names under `.slow.ha.test` lead to a port that
/// takes the connection and never answers, so that an http-01 validation is in flight at
/// the instance when it is killed.
final class TwoInstanceFailoverTests: XCTestCase {
    static let pollSeconds = 1
    /// Longer than the http-01 timeout: a lock older than this is taken for a dead
    /// instance's, and its challenge is validated again.
    static let staleSeconds = 5
    static let http01TimeoutSeconds = 4
    static let staleProcessingSeconds = 10
    /// Time for `/healthz` round trips and the process exit on top of one poll interval
    /// (both instances and two bench runs share a small machine).
    static let slack = 3.0
    static let flows = 40

    var directory: URL!
    var dns: LoopbackDNS!
    var first: TestServer!
    var second: ServerProcess!
    var benches: [Process] = []
    /// The port of every http-01 responder (each on its own loopback address).
    var httpPort = 0

    override func setUpWithError() throws {
        directory = try TestPaths.temporaryDirectory("acmeeh-ha")
        dns = try LoopbackDNS(directory: directory, zone: """
            *.one.ha.test A 127.0.0.2
            *.two.ha.test A 127.0.0.3
            *.slow.ha.test A 127.0.0.4

            """)
        httpPort = try ServerProcess.freePort()
        let generous = "{requests: 100000, window_seconds: 3600}"
        first = try TestServer(extra: """
        challenges:
          http01:
            port: \(httpPort)
            timeout_seconds: \(Self.http01TimeoutSeconds)
            blocked_networks: []
          background_worker:
            poll_seconds: \(Self.pollSeconds)
            stale_seconds: \(Self.staleSeconds)
        dns:
          resolvers: ["\(dns.address)"]
        nonce:
          gc_interval_seconds: 1
        # No expiration worker here: it checks its lock hourly, not every poll interval.
        notifications:
          enabled: false
        order:
          stale_processing_threshold_seconds: \(Self.staleProcessingSeconds)
        security:
          rate_limits:
            backend: database
            new_nonce: \(generous)
            new_account: \(generous)
            new_order: \(generous)
            new_order_per_identifier: \(generous)
            challenge: \(generous)
            challenge_validation: \(generous)
            gc_interval_seconds: 1
        """)
        second = try startSecond()
    }

    override func tearDownWithError() throws {
        for bench in benches where bench.isRunning {
            kill(bench.processIdentifier, SIGKILL)
            bench.waitUntilExit()
        }
        if (testRun?.totalFailureCount ?? 0) > 0 {
            print("--- first ---\n\(first?.process.log ?? "")\n--- second ---\n\(second?.log ?? "")")
        }
        second?.stop()
        first?.shutdown()
        dns?.stop()
        if let directory { try? FileManager.default.removeItem(at: directory) }
    }

    /// The first instance's configuration on another port, with its own external URL, and
    /// its database reached through a host list whose first entry nobody serves.
    func startSecond() throws -> ServerProcess {
        let port = try ServerProcess.freePort()
        let host = first.database.config.host
        let dead = host.hasPrefix("/") ? "/nonexistent-acmeeh-socket-dir" : "127.0.0.9"
        let original = try String(contentsOf: first.configFile, encoding: .utf8)
        let yaml = original
            .replacingOccurrences(of: "external_url: http://127.0.0.1:\(first.port)\n", with: "external_url: http://127.0.0.1:\(port)\n")
            .replacingOccurrences(of: "\n  port: \(first.port)\n", with: "\n  port: \(port)\n")
            .replacingOccurrences(of: "\n  host: \(host)\n", with: "\n  host: \"\(dead),\(host)\"\n  target_session_attrs: read-write\n")
        XCTAssertTrue(yaml.contains("external_url: http://127.0.0.1:\(port)\n") && yaml.contains("\n  port: \(port)\n"), yaml)
        XCTAssertTrue(yaml.contains("target_session_attrs: read-write"), yaml)
        let config = directory.appendingPathComponent("second.yaml")
        try yaml.write(to: config, atomically: true, encoding: .utf8)
        let process = try ServerProcess(config: config, port: port, logFile: directory.appendingPathComponent("second.log"))
        try process.waitUntilLive()
        return process
    }

    // MARK: - Helpers

    /// The elected workers this instance runs (every enabled one) and its role in each.
    func roles(_ baseURL: String) -> [String: String] {
        HTTP.workerStates(baseURL).compactMapValues { $0["role"] as? String }
    }

    func waitUntil(_ timeout: TimeInterval, _ condition: () -> Bool) -> Bool {
        let end = Date().addingTimeInterval(timeout)
        while Date() < end {
            if condition() { return true }
            Thread.sleep(forTimeInterval: 0.1)
        }
        return condition()
    }

    func count(_ sql: String) throws -> Int {
        try first.sql { try $0.queryFirst(sql)!.int("n") }
    }

    /// `acmeeh-bench` against one instance, its report written to `name.json`.
    func startBench(_ baseURL: String, domain: String, address: String, name: String) throws -> (Process, URL) {
        let output = directory.appendingPathComponent("\(name).json")
        _ = FileManager.default.createFile(atPath: output.path, contents: nil)
        let bench = Process()
        bench.executableURL = TestPaths.products.appendingPathComponent("acmeeh-bench")
        bench.arguments = [
            "--directory", "\(baseURL)/directory", "--flows", "\(Self.flows)", "--concurrency", "3",
            "--domain", domain, "--http01-address", address, "--http01-port", "\(httpPort)",
            "--timeout-seconds", "100", "--request-timeout-seconds", "20", "--json",
        ]
        bench.standardOutput = try FileHandle(forWritingTo: output)
        let errors = directory.appendingPathComponent("\(name).err")
        _ = FileManager.default.createFile(atPath: errors.path, contents: nil)
        bench.standardError = try FileHandle(forWritingTo: errors)
        bench.standardInput = FileHandle.nullDevice
        try bench.run()
        benches.append(bench)
        return (bench, output)
    }

    /// A listening socket on ADDRESS:`httpPort` that never accepts: connections complete in
    /// its backlog and their requests are never answered.
    func silentListener(_ address: String) throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var sin = sockaddr_in()
        sin.sin_family = sa_family_t(AF_INET)
        sin.sin_port = in_port_t(UInt16(httpPort).bigEndian)
        inet_pton(AF_INET, address, &sin.sin_addr)
        let bound = withUnsafePointer(to: &sin) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(fd, 16) == 0 else {
            close(fd)
            throw CLIFailure("cannot listen on \(address):\(httpPort): errno \(errno)")
        }
        return fd
    }

    /// Orders `name` at `baseURL` and answers its http-01 challenge on another thread (the
    /// request validates before it answers); the challenge's id.
    func startValidation(_ baseURL: String, name: String) throws -> UUID {
        let client = try ACMETestClient(directoryURL: "\(baseURL)/directory")
        let key = TestKey.ec()
        let (_, account) = try client.newAccount(key)
        let order = try client.post(client.url("newOrder"), .json(["identifiers": [["type": "dns", "value": name]]]),
                                    key: key, kid: account)
        XCTAssertEqual(order.status, 201, order.text)
        let authorization = try XCTUnwrap((order.json?["authorizations"] as? [String])?.first, order.text)
        let authz = try client.post(authorization, .empty, key: key, kid: account)
        let challenges = try XCTUnwrap(authz.json?["challenges"] as? [[String: Any]], authz.text)
        let url = try XCTUnwrap(challenges.first { $0["type"] as? String == "http-01" }?["url"] as? String, authz.text)
        // Its answer never comes: the instance is killed meanwhile.
        DispatchQueue.global().async { _ = try? client.post(url, .json([:]), key: key, kid: account) }
        return try XCTUnwrap(UUID(uuidString: String(url.split(separator: "/").last ?? "")), url)
    }

    /// A challenge's status and who holds it.
    func challengeRow(_ id: UUID) throws -> (status: String, lockedBy: String?) {
        try first.sql { c in
            let row = try c.queryFirst("SELECT status, locked_by FROM challenges WHERE id = $1", [.uuid(id)])!
            return (try row.string("status"), try row.stringIfPresent("locked_by"))
        }
    }

    // MARK: - Maintenance

    /// Polls newOrder at `client`'s instance until it answers `status` (at most 5 s).
    func newOrder(answers status: Int, _ client: ACMETestClient, key: TestKey, account: String) throws -> ACMETestClient.Reply {
        var index = 0
        var reply: ACMETestClient.Reply
        let end = Date().addingTimeInterval(5)
        repeat {
            index += 1
            reply = try client.post(client.url("newOrder"),
                                    .json(["identifiers": [["type": "dns", "value": "m\(index).one.ha.test"]]]),
                                    key: key, kid: account)
            if reply.status == status { break }
            Thread.sleep(forTimeInterval: 0.05)
        } while Date() < end
        return reply
    }

    func testMaintenanceAtOneInstanceIsObeyedByBoth() throws {
        let clients = [try ACMETestClient(directoryURL: first.directoryURL),
                       try ACMETestClient(directoryURL: "\(second.baseURL)/directory")]
        let keys = [TestKey.ec(), TestKey.ec()]
        let accounts = try zip(clients, keys).map { client, key in try client.newAccount(key).1 }

        let on = try first.acmeeh(["maintenance", "on"])
        XCTAssertEqual(on.status, 0, on.stderr)
        let switched = Date()
        for (index, client) in clients.enumerated() {
            let reply = try newOrder(answers: 503, client, key: keys[index], account: accounts[index])
            XCTAssertEqual(reply.status, 503, reply.text)
            XCTAssertEqual(reply.header("Retry-After"), "300", reply.text)
        }
        // The settings refresh is 1 s: both within 2 s of the switch.
        XCTAssertLessThan(Date().timeIntervalSince(switched), 2)

        let off = try first.acmeeh(["maintenance", "off"])
        XCTAssertEqual(off.status, 0, off.stderr)
        let resumed = Date()
        for (index, client) in clients.enumerated() {
            let reply = try newOrder(answers: 201, client, key: keys[index], account: accounts[index])
            XCTAssertEqual(reply.status, 201, reply.text)
        }
        XCTAssertLessThan(Date().timeIntervalSince(resumed), 2)
    }

    // MARK: - Failover under load

    func testLeaderKilledMidRunSurvivorFinishesAndTakesEveryWorker() throws {
        let instances = [first.baseURL, second.baseURL]
        // Both have checked their locks; exactly one leader of each elected worker.
        XCTAssertTrue(waitUntil(10) {
            instances.allSatisfy { url in
                let states = HTTP.workerStates(url)
                return ["challenge", "cleanup"].allSatisfy { states[$0]?["last_check"] != nil }
            }
        }, "\(instances.map(HTTP.workerStates))")
        let elected = roles(first.baseURL).keys.sorted()
        XCTAssertEqual(elected, ["challenge", "cleanup"])
        for worker in elected {
            XCTAssertEqual(instances.filter { roles($0)[worker] == "leader" }.count, 1, "\(worker): \(instances.map(roles))")
        }

        let one = try startBench(first.baseURL, domain: "one.ha.test", address: "127.0.0.2", name: "bench-one")
        let two = try startBench(second.baseURL, domain: "two.ha.test", address: "127.0.0.3", name: "bench-two")
        // Some flows completed (at either instance): kill the challenge worker's leader.
        XCTAssertTrue(waitUntil(90) { ((try? count("SELECT count(*) AS n FROM orders WHERE status = 'valid'")) ?? 0) >= 4 },
                      "no flow completed")
        let firstLeads = roles(first.baseURL)["challenge"] == "leader"
        let (killed, survivor, survivorBench) = firstLeads ? (first.process, second!, two) : (second!, first.process, one)
        XCTAssertEqual(roles(killed.baseURL)["challenge"], "leader")
        // A validation in flight at the instance about to die: it holds the challenge.
        let silent = try silentListener("127.0.0.4")
        var silentOpen = true
        defer { if silentOpen { close(silent) } }
        let heldID = try startValidation(killed.baseURL, name: "held.slow.ha.test")
        let held = { (try? self.challengeRow(heldID)).map { "\($0)" } ?? "no row" }
        XCTAssertTrue(waitUntil(5) { (try? challengeRow(heldID))?.lockedBy != nil }, held())
        let deadHolder = try XCTUnwrap(try challengeRow(heldID).lockedBy)
        XCTAssertEqual(try challengeRow(heldID).status, "processing")
        let validBefore = try count("SELECT count(*) AS n FROM orders WHERE status = 'valid'")
        // Mid-run: both runs still have flows to go.
        XCTAssertTrue(one.0.isRunning && two.0.isRunning, "a bench run ended before the kill")
        killed.killNow()
        let killedAt = Date()
        // From now on its target refuses connections: the survivor's attempt fails at once.
        close(silent)
        silentOpen = false
        let leftBehind = try first.sql { c in
            try c.queryFirst("""
                SELECT (SELECT count(*) FROM challenges WHERE status = 'processing') AS challenges,
                       (SELECT count(*) FROM orders WHERE status = 'processing') AS orders
                """).map { (try $0.int("challenges"), try $0.int("orders")) } ?? (0, 0)
        }

        // The survivor leads every elected worker within one poll interval (its sessions
        // took the locks PostgreSQL freed when the dead process's sockets closed).
        XCTAssertTrue(waitUntil(Double(Self.pollSeconds) + Self.slack) {
            let r = roles(survivor.baseURL)
            return !r.isEmpty && r.values.allSatisfy { $0 == "leader" }
        }, "\(HTTP.workerStates(survivor.baseURL))")
        let takeover = Date().timeIntervalSince(killedAt)
        print("two-instance failover: every worker led by the survivor \(String(format: "%.2f", takeover)) s after SIGKILL")
        XCTAssertEqual(roles(survivor.baseURL), ["challenge": "leader", "cleanup": "leader"])

        // The challenge the dead instance held: still its own until stale_seconds, then
        // released and attempted again by the survivor's challenge worker.
        if Date().timeIntervalSince(killedAt) < Double(Self.staleSeconds) - 1 {
            XCTAssertEqual(try challengeRow(heldID).lockedBy, deadHolder, "released before stale_seconds")
        }
        XCTAssertTrue(waitUntil(Double(Self.staleSeconds + 2 * Self.pollSeconds) + Self.slack) {
            (try? challengeRow(heldID)).map { $0.lockedBy != deadHolder } ?? false
        }, held())
        XCTAssertTrue(waitUntil(10) {
            (try? first.sql { c in
                try c.queryFirst("SELECT status <> 'processing' OR error IS NOT NULL AS tried FROM challenges WHERE id = $1",
                                 [.uuid(heldID)])!.bool("tried")
            }) ?? false
        }, "the survivor did not validate the held challenge again: " + held())

        // Every flow at the survivor completes; the run against the dead one is ignored.
        let (process, output) = survivorBench
        XCTAssertTrue(waitUntil(110) { !process.isRunning }, "the survivor's bench run did not end")
        let text = (try? String(contentsOf: output, encoding: .utf8)) ?? ""
        XCTAssertEqual(process.terminationStatus, 0, text)
        let report = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any], text)
        XCTAssertEqual(report["succeeded"] as? Int, Self.flows, text)
        XCTAssertEqual(report["failed"] as? Int, 0, text)
        XCTAssertEqual(report["stalled"] as? Int, 0, text)
        for bench in [one.0, two.0] where bench.isRunning {
            kill(bench.processIdentifier, SIGKILL)
            bench.waitUntilExit()
        }

        // Whatever the dead instance left half done is resolved by the survivor: challenge
        // locks after stale_seconds, processing orders after the stale-processing threshold.
        let settled = killedAt.addingTimeInterval(Double(Self.staleProcessingSeconds + 3 * Self.pollSeconds) + Self.slack)
        if settled > Date() { Thread.sleep(until: settled) }
        XCTAssertEqual(try count("""
            SELECT count(*) AS n FROM challenges
            WHERE status = 'processing' AND locked_at < now() - make_interval(secs => \(Self.staleSeconds))
            """), 0, "challenges still held past stale_seconds")
        XCTAssertEqual(try count("""
            SELECT count(*) AS n FROM orders
            WHERE status = 'processing' AND updated_at < now() - make_interval(secs => \(Self.staleProcessingSeconds))
            """), 0, "orders still processing past the threshold")

        // Issued exactly once: no serial twice (the schema refuses it too, so a collision
        // would have failed a flow above), no order with two certificates, every valid order
        // with one (the one it points at), no certificate for an order that is not valid.
        XCTAssertGreaterThanOrEqual(try count("SELECT count(*) AS n FROM orders WHERE status = 'valid'"), Self.flows)
        XCTAssertEqual(try count("SELECT count(*) AS n FROM (SELECT serial FROM certificates GROUP BY serial HAVING count(*) > 1) d"), 0)
        XCTAssertEqual(try count("""
            SELECT count(*) AS n FROM (SELECT order_id FROM certificates GROUP BY order_id HAVING count(*) > 1) d
            """), 0, "an order with two certificates")
        XCTAssertEqual(try count("""
            SELECT count(*) AS n FROM orders o
            WHERE o.status = 'valid'
              AND ((SELECT count(*) FROM certificates c WHERE c.order_id = o.id) <> 1
                   OR o.certificate_id IS DISTINCT FROM (SELECT c.id FROM certificates c WHERE c.order_id = o.id LIMIT 1))
            """), 0, "a valid order without exactly one certificate")
        XCTAssertEqual(try count("""
            SELECT count(*) AS n FROM certificates c JOIN orders o ON o.id = c.order_id WHERE o.status <> 'valid'
            """), 0, "a certificate for an order that is not valid")

        // The rate limits counted in the shared table.
        XCTAssertGreaterThan(try count("SELECT count(*) AS n FROM rate_limit_counters"), 0)

        // Still the survivor's, and it went on running rounds.
        let states = HTTP.workerStates(survivor.baseURL)
        XCTAssertEqual(roles(survivor.baseURL), ["challenge": "leader", "cleanup": "leader"])
        for worker in ["challenge", "cleanup"] {
            XCTAssertNotNil(states[worker]?["last_run"], "\(worker): \(states)")
        }
        XCTAssertEqual(states["expiration"]?["status"] as? String, "disabled")
        let valid = try count("SELECT count(*) AS n FROM orders WHERE status = 'valid'")
        let invalid = try count("SELECT count(*) AS n FROM orders WHERE status = 'invalid'")
        print("""
            two-instance failover: \(validBefore) orders valid at the kill; processing right after it: \
            \(leftBehind.0) challenges, \(leftBehind.1) orders; at the end \(valid) valid, \(invalid) invalid orders
            """)
    }
}
