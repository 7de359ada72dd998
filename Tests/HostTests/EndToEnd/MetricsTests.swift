import Foundation
@testable import Host
import XCTest

/// `GET /metrics` of a real `acmeeh serve` on PostgreSQL: issuance flows move each counter
/// by exactly what they did, timings and pool gauges appear, and the endpoint is absent
/// when metrics are disabled or cannot be served safely.
final class MetricsTests: XCTestCase {
    var workspace: FileValidatorServe!
    var server: ServerProcess!

    override func setUpWithError() throws {
        workspace = try FileValidatorServe(prefix: "acmeeh-metrics")
    }

    override func tearDownWithError() throws {
        server?.stop()
        workspace?.cleanUp()
    }

    /// Starts a server with `metrics` as the body of the `metrics:` section.
    func startServer(metrics: String) throws -> ServerProcess {
        try workspace.start(extra: "metrics:\n\(metrics)")
    }

    func testIssuanceFlowsMoveEachCounterByExactlyWhatTheyDid() throws {
        server = try startServer(metrics: "  enabled: true")
        let client = try ACMETestClient(directoryURL: server.baseURL + "/directory")
        // Settle: the workers' first polls and the statements' first preparation (as in
        // DomainEventTests); a scrape itself costs no round trip.
        _ = try flow(client, name: "warm.example.test")
        var settled = try scrape()
        while true {
            Thread.sleep(forTimeInterval: 0.2)
            let next = try scrape()
            if next["acmeeh_db_round_trips_total"] == settled["acmeeh_db_round_trips_total"] { break }
            settled = next
        }

        let before = try scrape()
        _ = try flow(client, name: "one.example.test")
        let (key, account, certificate) = try flow(client, name: "two.example.test")
        let after = try scrape()
        func delta(_ series: String) -> Double { (after[series] ?? 0) - (before[series] ?? 0) }

        XCTAssertEqual(delta("acmeeh_accounts_created_total"), 2)
        XCTAssertEqual(delta("acmeeh_orders_created_total"), 2)
        XCTAssertEqual(delta(#"acmeeh_challenges_validated_total{result="success"}"#), 2)
        XCTAssertEqual(delta(#"acmeeh_challenges_validated_total{result="failure"}"#), 0)
        XCTAssertEqual(delta("acmeeh_certificates_issued_total"), 2)
        XCTAssertEqual(delta("acmeeh_ca_signing_errors_total"), 0)
        // DomainEventTests.testOneIssuanceFlowCostsNineRoundTrips: nine per flow.
        XCTAssertEqual(delta("acmeeh_db_round_trips_total"), 18)
        // newAccount and newOrder answer 201; the authorization, the challenge, finalize
        // and the download 200.
        XCTAssertEqual(delta(#"acmeeh_http_requests_total{method="POST",status="201"}"#), 4)
        XCTAssertEqual(delta(#"acmeeh_http_requests_total{method="POST",status="200"}"#), 8)
        let newOrder = try XCTUnwrap(URL(string: client.url("newOrder"))?.path)
        XCTAssertEqual(delta(#"acmeeh_http_request_duration_seconds_count{method="POST",route="\#(newOrder)",status="201"}"#), 2)
        XCTAssertEqual(delta(#"acmeeh_ca_sign_duration_seconds_count{backend="internal"}"#), 2)
        XCTAssertEqual(delta(#"acmeeh_challenge_validation_duration_seconds_count{type="http-01"}"#), 2)

        // Revocation and account deactivation.
        let der = try CertificateChain(pem: try client.post(certificate, .empty, key: key, kid: account).text).leaf.der
        XCTAssertEqual(try client.post(client.url("revokeCert"), .json(["certificate": Base64URL.encode(der)]),
                                       key: key, kid: account).status, 200)
        XCTAssertEqual(try client.post(account, .json(["status": "deactivated"]), key: key, kid: account).status, 200)
        // The deactivated account's key is refused: a security event.
        XCTAssertEqual(try client.post(account, .empty, key: key, kid: account).status, 401)
        let last = try scrape()
        XCTAssertEqual((last[#"acmeeh_requests_refused_total{kind="jws.refused"}"#] ?? 0)
                       - (after[#"acmeeh_requests_refused_total{kind="jws.refused"}"#] ?? 0), 1)
        XCTAssertEqual(last[#"acmeeh_requests_refused_total{kind="rate_limit.exceeded"}"#], 0)
        XCTAssertEqual((last["acmeeh_certificates_revoked_total"] ?? 0) - (after["acmeeh_certificates_revoked_total"] ?? 0), 1)
        XCTAssertEqual((last["acmeeh_accounts_deactivated_total"] ?? 0) - (after["acmeeh_accounts_deactivated_total"] ?? 0), 1)

        // Values read at scrape time, the workers' counters and the info gauge.
        XCTAssertGreaterThan(last["acmeeh_uptime_seconds"] ?? 0, 0)
        XCTAssertGreaterThanOrEqual(last["acmeeh_db_pool_connections"] ?? 0, 1)
        XCTAssertEqual(last["acmeeh_db_pool_max_connections"], 4)
        XCTAssertEqual(last["acmeeh_db_pool_waiting_checkouts"], 0)
        XCTAssertGreaterThanOrEqual(last["acmeeh_challenge_worker_polls_total"] ?? 0, 1)
        XCTAssertEqual(last["acmeeh_challenge_worker_errors_total"], 0)
        XCTAssertEqual(last[#"acmeeh_cleanup_runs_total{task="nonce_gc"}"#], 1)
        XCTAssertEqual(last[#"acmeeh_cleanup_runs_total{task="stale_processing_orders"}"#], 1)
        XCTAssertEqual(last[#"acmeeh_cleanup_errors_total{task="nonce_gc"}"#], 0)
        let info = last.keys.filter { $0.hasPrefix("acmeeh_config{") }
        XCTAssertEqual(info.count, 1, "\(info)")
        XCTAssertTrue(info.first?.contains(#"version="\#(AcmeehVersion.string)""#) ?? false, "\(info)")
        XCTAssertTrue(info.first?.contains(#"ca_backend="internal""#) ?? false, "\(info)")
        XCTAssertEqual(info.first.flatMap { last[$0] }, 1)
    }

    func testDisabledMetricsAreNotServed() throws {
        server = try startServer(metrics: "  enabled: false")
        XCTAssertEqual(try HTTP.get(server.baseURL + "/metrics").status, 404)
    }

    func testAnotherPathServesThemAndMetricsIsNotFound() throws {
        server = try startServer(metrics: "  enabled: true\n  path: /internal/prometheus")
        let reply = try HTTP.get(server.baseURL + "/internal/prometheus")
        XCTAssertEqual(reply.status, 200)
        XCTAssertEqual(reply.header("Content-Type"), "text/plain; version=0.0.4; charset=utf-8")
        XCTAssertTrue(String(decoding: reply.body, as: UTF8.self).contains("# TYPE acmeeh_certificates_issued_total counter"))
        XCTAssertEqual(try HTTP.get(server.baseURL + "/metrics").status, 404)
        // The unmatched request was counted under the NotFound route.
        let after = try Self.parse(HTTP.get(server.baseURL + "/internal/prometheus").body)
        XCTAssertEqual(after[#"acmeeh_http_request_duration_seconds_count{method="GET",route="NotFound",status="404"}"#], 1)
    }

    /// `auth_required: true` without the admin API: no token can exist, so every scrape is
    /// refused rather than served to anyone (AdminAuthTests covers scrapes with tokens).
    func testAuthRequiredWithoutTheAdminAPIRefusesEveryScrape() throws {
        server = try startServer(metrics: "  enabled: true\n  auth_required: true")
        let reply = try HTTP.get(server.baseURL + "/metrics")
        XCTAssertEqual(reply.status, 401)
        XCTAssertEqual(reply.header("WWW-Authenticate"), #"Bearer realm="acmeeh-admin""#)
    }

    /// A path the server already serves would shadow it (or trap in the router): refused.
    func testAPathTheServerAlreadyServesRefusesToStart() throws {
        XCTAssertThrowsError(try startServer(metrics: "  enabled: true\n  path: /directory")) { error in
            XCTAssertTrue("\(error)".contains("metrics.path /directory is already served"), "\(error)")
        }
    }

    private func flow(_ client: ACMETestClient, name: String) throws -> (TestKey, String, String) {
        let flow = try workspace.issue(client, name: name)
        return (flow.key, flow.account, flow.certificateURL)
    }

    /// `/metrics` as series (name with its labels, as rendered) → value.
    func scrape() throws -> [String: Double] {
        let reply = try HTTP.get(server.baseURL + "/metrics")
        XCTAssertEqual(reply.status, 200)
        return Self.parse(reply.body)
    }

    static func parse(_ body: Data) -> [String: Double] {
        var series: [String: Double] = [:]
        for line in String(decoding: body, as: UTF8.self).split(separator: "\n") where !line.hasPrefix("#") {
            guard let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else { continue }
            series[String(line[..<space])] = value
        }
        return series
    }
}
