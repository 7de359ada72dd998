import Foundation
@testable import Host
import XCTest

/// Notifications (`notifications.*`, `smtp.*`) at a real `acmeeh serve`, delivered through
/// the SMTP notifier plugin to a real SMTP server (`Fixtures/smtp_sink.py`, aiosmtpd with
/// STARTTLS and AUTH required): certbot registers with `-m` and gets a short-lived
/// certificate; its contact receives the registration and issuance mail and one expiration
/// warning, never a second one after a restart or with a second instance. With the SMTP
/// server down a notification is retried with the configured backoff and delivered when it
/// is back, or ends `failed` after its retries. A template directory overrides one type; a
/// broken template stops startup naming its file and line.
final class NotificationTests: XCTestCase {
    static let user = "acmeeh-mailer", password = "mail-secret-2"
    var directory: URL!
    var database: TestDatabase!
    var dns: LoopbackDNS!
    var servers: [ServerProcess] = []
    var httpPort = 0

    override func setUpWithError() throws {
        directory = try TestPaths.temporaryDirectory("acmeeh-notifications")
        database = try TestDatabase.create()
        let ca = try Command.run(TestPaths.repository.appendingPathComponent("scripts/dev-ca").path,
                                 [directory.appendingPathComponent("ca").path])
        XCTAssertEqual(ca.status, 0, ca.stderr)
        dns = try LoopbackDNS(directory: directory)
        httpPort = try ServerProcess.freePort()
    }

    override func tearDownWithError() throws {
        for server in servers where server.stop() != 0 || testRun?.hasSucceeded == false {
            print("--- acmeeh log ---\n\(server.log)")
        }
        dns?.stop()
        database?.drop()
        if let directory { try? FileManager.default.removeItem(at: directory) }
    }

    func startSink(port: Int? = nil) throws -> LoopbackService {
        let pki = try TLSTestPKI.shared()
        return try startLoopbackService("smtp_sink", [
            "--tls-cert", pki.serverCert, "--tls-key", pki.serverKey, "--user", Self.user, "--password", Self.password,
        ] + (port.map { ["--port", "\($0)"] } ?? []))
    }

    /// Writes the configuration (http-01 at the client's port, the loopback resolver, leaves
    /// valid `validityDays`, SMTP to `smtpPort`, then `notifications`) as `name`.yaml.
    func writeConfig(smtpPort: Int, notifications: String = "", smtp: String = "", smtpEnabled: Bool = true,
                     validityDays: Int = 1, name: String = "acmeeh") throws -> (URL, Int) {
        let port = try ServerProcess.freePort()
        let url = try TestServer.writeConfig(
            directory: directory, database: database.config, port: port,
            ca: TestServer.caSection(directory: directory, extra: "  default_validity_days: \(validityDays)"), extra: """
            challenges:
              http01:
                port: \(httpPort)
                blocked_networks: []
            dns:
              resolvers: ["\(dns.address)"]
            smtp:
              enabled: \(smtpEnabled)
              host: 127.0.0.1
              port: \(smtpPort)
              username: \(Self.user)
              password: \(Self.password)
              from_address: acme@ca.example.test
              ca_file: \(try TLSTestPKI.shared().caCert)
              timeout_seconds: 10
            \(smtp)
            notifications:
              expiration_check_interval_seconds: 1
            \(notifications)
            metrics:
              enabled: true
            """)
        let renamed = directory.appendingPathComponent("\(name).yaml")
        if renamed != url { try? FileManager.default.removeItem(at: renamed); try FileManager.default.moveItem(at: url, to: renamed) }
        return (renamed, port)
    }

    @discardableResult
    func start(_ config: (URL, Int)) throws -> ServerProcess {
        let server = try ServerProcess(config: config.0, port: config.1,
                                       logFile: directory.appendingPathComponent("server-\(servers.count).log"))
        servers.append(server)
        try server.waitUntilLive()
        return server
    }

    func certbot(_ server: ServerProcess, email: String) throws -> Certbot {
        try Certbot(.debian21, endpoint: ACMEEndpoint(directoryURL: server.baseURL + "/directory"), httpPort: httpPort,
                    directory: directory.appendingPathComponent("certbot-\(UUID().uuidString.prefix(8))"), email: email)
    }

    /// The mails received whose subject header contains `subject`.
    func mails(_ sink: LoopbackService, subject: String) -> [[String: Any]] {
        sink.records().filter { header("Subject", $0)?.contains(subject) == true }
    }

    func header(_ name: String, _ mail: [String: Any]) -> String? {
        let headers = mail["headers"] as? [[String]] ?? []
        return headers.first { $0.first?.lowercased() == name.lowercased() }?.last
    }

    func text(_ mail: [String: Any], _ type: String = "text/plain") -> String {
        let parts = mail["parts"] as? [[String: Any]] ?? []
        return parts.first { $0["content_type"] as? String == type }?["text"] as? String ?? ""
    }

    func waitFor(_ what: String, timeout: TimeInterval = 30, _ condition: () throws -> Bool) throws {
        let end = Date().addingTimeInterval(timeout)
        while Date() < end {
            if try condition() { return }
            Thread.sleep(forTimeInterval: 0.2)
        }
        XCTFail("timed out waiting for \(what)\n\(servers.last?.log.suffix(4000) ?? "")")
    }

    func rows(_ sql: String) throws -> [Row] {
        let connection = try Connection(config: database.config)
        defer { connection.close() }
        return try connection.query(sql)
    }

    func testCertbotContactGetsItsMailAndOneExpirationWarningOnly() throws {
        let sink = try startSink()
        let config = try writeConfig(smtpPort: sink.port)
        let server = try start(config)
        let client = try certbot(server, email: "owner@example.test")
        let issued = try client.certonly(names: ["mail.example.test"])
        XCTAssertTrue(issued.succeeded, "\(issued)")

        try waitFor("the expiration warning") { !mails(sink, subject: "expires").isEmpty }
        let warnings = mails(sink, subject: "expires")
        XCTAssertEqual(warnings.count, 1)
        let warning = try XCTUnwrap(warnings.first)
        XCTAssertEqual(warning["rcpt_tos"] as? [String], ["owner@example.test"])
        XCTAssertEqual(warning["tls"] as? Bool, true)
        XCTAssertEqual(warning["login"] as? String, Self.user)
        let serial = try XCTUnwrap(try rows("SELECT serial FROM certificates").first?.string("serial"))
        XCTAssertTrue(text(warning).contains(serial), text(warning))
        XCTAssertTrue(text(warning).contains("mail.example.test"), text(warning))
        XCTAssertTrue(text(warning, "text/html").contains("mail.example.test"), "an HTML part too")
        // Registration and issuance mail reached the same contact.
        try waitFor("registration and issuance mail") { sink.records().count >= 3 }
        XCTAssertEqual(Set(sink.records().compactMap { $0["rcpt_tos"] as? [String] }.flatMap { $0 }), ["owner@example.test"])
        let types = try rows("SELECT type, status FROM notifications ORDER BY created_at").map { try $0.string("type") + ":" + $0.string("status") }
        XCTAssertEqual(Set(types), ["registration_succeeded:sent", "delivery_succeeded:sent", "expiration_warning:sent"], "\(types)")
        XCTAssertEqual(try rows("SELECT warning_days FROM certificate_expiration_notices").map { try $0.int("warning_days") }, [1],
                       "the smallest threshold the one-day certificate is within")

        // A restart and a second instance find the notice: no second warning.
        XCTAssertEqual(server.stop(), 0)
        try start(config)
        try start(try writeConfig(smtpPort: sink.port, name: "second"))
        Thread.sleep(forTimeInterval: 4)
        XCTAssertEqual(mails(sink, subject: "expires").count, 1)
        XCTAssertEqual(try rows("SELECT count(*) AS n FROM notifications WHERE type = 'expiration_warning'").first?.int("n"), 1)
        let metrics = String(decoding: try HTTP.get(servers[0].baseURL + "/metrics").body, as: UTF8.self)
        XCTAssertTrue(metrics.contains("acmeeh_expiration_worker_errors_total 0"), metrics)
    }

    func testAnSMTPOutageIsRetriedWithBackoffAndDeliveredWhenTheServerIsBack() throws {
        let port = try ServerProcess.freePort()
        let server = try start(try writeConfig(smtpPort: port, notifications: """
              retry_delay_seconds: 1
              retry_backoff_multiplier: 2.0
              max_retries: 10
            """))
        XCTAssertTrue(try certbot(server, email: "retry@example.test").register().succeeded)
        try waitFor("two failed attempts") {
            try rows("SELECT attempts FROM notifications").first?.int("attempts") ?? 0 >= 2
        }
        let pending = try XCTUnwrap(try rows("""
            SELECT status, attempts, last_error, extract(epoch FROM next_attempt_at - now()) AS wait FROM notifications
            """).first)
        XCTAssertEqual(try pending.string("status"), "pending")
        XCTAssertNotNil(try pending.stringIfPresent("last_error"))
        // After the n-th failure the next attempt waits 1 × 2^(n−1) s.
        XCTAssertLessThanOrEqual(try pending.double("wait"), pow(2, Double(try pending.int("attempts") - 1)) + 0.5)

        let sink = try startSink(port: port)
        try waitFor("the delivery once the SMTP server is back", timeout: 60) { !sink.records().isEmpty }
        XCTAssertEqual(sink.records().first?["rcpt_tos"] as? [String], ["retry@example.test"])
        try waitFor("the row marked sent") { try rows("SELECT status FROM notifications").first?.string("status") == "sent" }
    }

    func testRetriesRunOutAsFailed() throws {
        let port = try ServerProcess.freePort()
        let server = try start(try writeConfig(smtpPort: port, notifications: """
              retry_delay_seconds: 1
              max_retries: 1
            """))
        XCTAssertTrue(try certbot(server, email: "gone@example.test").register().succeeded)
        try waitFor("the notification failed") { try rows("SELECT status FROM notifications").first?.string("status") == "failed" }
        XCTAssertEqual(try rows("SELECT attempts FROM notifications").first?.int("attempts"), 2, "the first attempt and one retry")
        let metrics = String(decoding: try HTTP.get(server.baseURL + "/metrics").body, as: UTF8.self)
        XCTAssertTrue(metrics.contains(#"acmeeh_notifications_total{result="failed",type="registration_succeeded"} 1"#)
                      || metrics.contains(#"acmeeh_notifications_total{type="registration_succeeded",result="failed"} 1"#), metrics)
    }

    func testATemplateDirectoryOverridesOneTypeAndABrokenTemplateStopsStartup() throws {
        let sink = try startSink()
        let templates = directory.appendingPathComponent("templates")
        try FileManager.default.createDirectory(at: templates, withIntermediateDirectories: true)
        try "Welcome aboard, {{#contacts}}{{.}}{{/contacts}}".write(to: templates.appendingPathComponent("registration_succeeded_subject.txt"),
                                                 atomically: true, encoding: .utf8)
        let server = try start(try writeConfig(smtpPort: sink.port, smtp: "  templates_path: \(templates.path)"))
        XCTAssertTrue(try certbot(server, email: "custom@example.test").register().succeeded)
        try waitFor("the registration mail") { !sink.records().isEmpty }
        XCTAssertEqual(header("Subject", try XCTUnwrap(sink.records().first)), "Welcome aboard, custom@example.test",
                       "\(sink.records())")
        XCTAssertFalse(text(try XCTUnwrap(sink.records().first)).isEmpty, "the other templates stay the built-in ones")

        try "line one\n{{#domains}}\nnever closed\n".write(to: templates.appendingPathComponent("delivery_succeeded_body.txt"),
                                                           atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try start(try writeConfig(smtpPort: sink.port, smtp: "  templates_path: \(templates.path)",
                                                       name: "broken"))) { error in
            XCTAssertTrue("\(error)".contains("delivery_succeeded_body.txt:"), "\(error)")
        }
    }

    func testSMTPOffRecordsUnsentAndNotificationsOffRecordNothing() throws {
        let port = try ServerProcess.freePort()
        let unsent = try start(try writeConfig(smtpPort: port, smtpEnabled: false, name: "unsent"))
        XCTAssertTrue(try certbot(unsent, email: "quiet@example.test").register().succeeded)
        try waitFor("the unsent record") { try rows("SELECT status FROM notifications").first?.string("status") == "unsent" }
        XCTAssertEqual(unsent.stop(), 0)
        servers.removeAll()

        let off = try start(try writeConfig(smtpPort: port, notifications: "  enabled: false", name: "off"))
        XCTAssertTrue(try certbot(off, email: "silent@example.test").register().succeeded)
        Thread.sleep(forTimeInterval: 1)
        XCTAssertEqual(try rows("SELECT count(*) AS n FROM notifications").first?.int("n"), 1, "only the earlier unsent one")
        XCTAssertEqual(HTTP.workerStates(off.baseURL)["expiration"]?["status"] as? String, "disabled")
    }
}
