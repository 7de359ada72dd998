import Foundation
@testable import Host
import XCTest

/// `acmeeh-bench` against a real `acmeeh serve`: the server validates http-01 at the tool's
/// own responder and resolves the `.bench.test` names through the loopback DNS fixture.
/// Asserts outcomes only (every flow issued, nothing failed or stalled), never timings.
final class BenchToolTests: XCTestCase {
    var directory: URL!
    var dns: LoopbackDNS!
    var server: TestServer?

    override func setUpWithError() throws {
        directory = try TestPaths.temporaryDirectory("acmeeh-bench")
        dns = try LoopbackDNS(directory: directory)
    }

    override func tearDownWithError() throws {
        if let server, (testRun?.totalFailureCount ?? 0) > 0 { print("--- acmeeh log ---\n\(server.process.log)") }
        server?.shutdown()
        dns?.stop()
        if let directory { try? FileManager.default.removeItem(at: directory) }
    }

    func testTwentyFlowsAtConcurrencyFourAllIssue() throws {
        let httpPort = try ServerProcess.freePort()
        let server = try TestServer(extra: """
        challenges:
          http01:
            port: \(httpPort)
            blocked_networks: []
        dns:
          resolvers: ["\(dns.address)"]
        security:
          rate_limits:
            enabled: false
        """)
        self.server = server
        let bench = TestPaths.products.appendingPathComponent("acmeeh-bench").path
        let result = try TimedCommand.run(bench, [
            "--directory", server.directoryURL, "--flows", "20", "--concurrency", "4", "--names", "2",
            "--http01-port", "\(httpPort)", "--timeout-seconds", "120", "--json",
        ], timeout: 180)
        XCTAssertEqual(result.status, 0, result.stdout + result.stderr)
        let report = try XCTUnwrap(
            try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any], result.stdout)
        XCTAssertEqual(report["succeeded"] as? Int, 20, result.stdout)
        XCTAssertEqual(report["failed"] as? Int, 0, result.stdout)
        XCTAssertEqual(report["stalled"] as? Int, 0, result.stdout)
        XCTAssertEqual((report["errors"] as? [String: Any])?.count, 0, result.stdout)
        // Two names per flow, each validated at the tool's responder.
        XCTAssertEqual((report["http01"] as? [String: Any])?["served"] as? Int, 40, result.stdout)
        let latency = try XCTUnwrap(report["latency_ms"] as? [String: Any])
        for step in ["flow", "newAccount", "newOrder", "authorization", "finalize", "certificate"] {
            XCTAssertEqual((latency[step] as? [String: Any])?["count"] as? Int, 20, "\(step): \(result.stdout)")
        }
        XCTAssertNotNil((report["tool_cpu"] as? [String: Any])?["ms_per_flow"] as? Double)
        // The server's own records agree: 20 valid orders.
        let valid = try server.sql { try $0.queryFirst("SELECT count(*) AS n FROM orders WHERE status = 'valid'")!.int("n") }
        XCTAssertEqual(valid, 20)
    }
}
