import Foundation
@testable import Host
import XCTest

/// Lifecycle hooks (`hooks.registered`, docs/hooks.md) at a real `acmeeh serve`: webhook
/// notifiers POST the events to `Fixtures/webhook_receiver.py` on loopback, whose path picks
/// its answer (any other path than /fail and /hang answers 200). A hook receives the events
/// it asks for with the documented payload and a signature its secret verifies; a failing
/// receiver ends in the dead-letter log after its retries, counted by the metric; a hanging
/// one costs nothing to the ACME flow. A `class:` entry and a missing plugin stop startup.
final class HookTests: XCTestCase {
    static let secret = "hook-secret-7c1e"
    var workspace: FileValidatorServe!
    var server: ServerProcess!

    override func setUpWithError() throws {
        workspace = try FileValidatorServe(prefix: "acmeeh-hooks")
    }

    override func tearDownWithError() throws {
        server?.stop()
        workspace?.cleanUp()
    }

    func file(_ name: String) -> URL { workspace.directory.appendingPathComponent(name) }

    /// The POSTs the receiver logged at `path`: (X-Acmeeh-Event, headers, body).
    func posts(_ receiver: LoopbackService, at path: String) -> [(event: String, headers: [String: String], body: String)] {
        receiver.records().filter { $0["path"] as? String == path }.map {
            let headers = $0["headers"] as? [String: String] ?? [:]
            return (headers["X-Acmeeh-Event"] ?? "", headers, $0["body"] as? String ?? "")
        }
    }

    /// Waits until `condition` holds (deliveries are asynchronous), at most `seconds`.
    func eventually(_ seconds: TimeInterval = 20, _ condition: () throws -> Bool) rethrows {
        let end = Date().addingTimeInterval(seconds)
        while try !condition(), Date() < end { Thread.sleep(forTimeInterval: 0.1) }
    }


    /// The value of one `acmeeh_hook_deliveries_total` series.
    func deliveries(_ event: String, _ result: String) throws -> Double? {
        let text = String(decoding: try HTTP.get(server.baseURL + "/metrics").body, as: UTF8.self)
        let prefix = "acmeeh_hook_deliveries_total{event=\"\(event)\",result=\"\(result)\"}"
        return text.split(separator: "\n").first { $0.hasPrefix(prefix) }.flatMap { Double($0.split(separator: " ").last ?? "") }
    }

    func testWebhookHooksReceiveTheirEventsSignedWithTheDocumentedFields() throws {
        let receiver = try startLoopbackService("webhook_receiver")
        server = try workspace.start(extra: """
            metrics:
              enabled: true
            hooks:
              registered:
                - notifier: webhook
                  config:
                    url: \(receiver.url("/all"))
                    secret: \(Self.secret)
                    headers: {X-Hook: all}
                - notifier: webhook
                  events: [certificate.issuance]
                  config: {url: '\(receiver.url("/issuance-only"))'}
                - notifier: webhook
                  enabled: false
                  config: {url: '\(receiver.url("/disabled"))'}
            audit_export:
              webhook_url: '\(receiver.url("/audit"))'
            """)
        let client = try ACMETestClient(directoryURL: server.baseURL + "/directory")
        let flow = try workspace.issue(client, name: "hooked.example.test")
        eventually { posts(receiver, at: "/all").contains { $0.event == "certificate.delivery" }
            && posts(receiver, at: "/issuance-only").count == 1 && posts(receiver, at: "/audit").count == 2 }

        // Every event of the flow reached the hook without a filter, in the order it happened.
        let all = posts(receiver, at: "/all")
        XCTAssertEqual(Set(all.map(\.event)), ["account.registration", "order.creation", "challenge.before_validate",
                                                "challenge.after_validate", "certificate.issuance", "certificate.delivery"],
                       "\(all.map(\.event))")
        // The filtered hook got certificate.issuance only (no order.creation); the disabled one nothing.
        XCTAssertEqual(posts(receiver, at: "/issuance-only").map(\.event), ["certificate.issuance"])
        XCTAssertEqual(posts(receiver, at: "/disabled").count, 0)
        // audit_export.webhook_url: the audited events of the reference's audit webhook.
        XCTAssertEqual(posts(receiver, at: "/audit").map(\.event), ["account.registration", "certificate.issuance"])

        // certificate.issuance: signed with the secret over the exact body, with the documented fields.
        let issuance = try XCTUnwrap(all.first { $0.event == "certificate.issuance" })
        XCTAssertEqual(issuance.headers["X-Acmeeh-Signature"],
                       "sha256=" + webhookHMAC(key: Self.secret, data: Array(issuance.body.utf8)))
        XCTAssertNotEqual(issuance.headers["X-Acmeeh-Signature"],
                          "sha256=" + webhookHMAC(key: "other", data: Array(issuance.body.utf8)))
        XCTAssertEqual(issuance.headers["X-Hook"], "all", "the entry's config reached the plugin")
        XCTAssertEqual(issuance.headers["Content-Type"], "application/json")
        XCTAssertNil(posts(receiver, at: "/issuance-only").first?.headers["X-Acmeeh-Signature"], "no secret, no signature")
        let payload = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(issuance.body.utf8)) as? [String: Any])
        XCTAssertEqual(Set(payload.keys), ["event", "timestamp", "data"])
        XCTAssertEqual(payload["event"] as? String, "certificate.issuance")
        let timestamp = try XCTUnwrap(payload["timestamp"] as? String)
        let published = try XCTUnwrap(try? Date(timestamp, strategy: Date.ISO8601FormatStyle(includingFractionalSeconds: true)))
        XCTAssertLessThan(abs(published.timeIntervalSinceNow), 120)
        let data = try XCTUnwrap(payload["data"] as? [String: Any])
        XCTAssertEqual(Set(data.keys), ["certificate_id", "order_id", "account_id", "serial_number", "domains", "not_after",
                                        "pem_chain"])
        let leaf = try CertificateChain(pem: try XCTUnwrap(data["pem_chain"] as? String)).leaf
        XCTAssertEqual(Base64URL.encode(leaf.der), flow.certificate, "pem_chain holds the issued certificate")
        // The same number (the event writes the serial without leading zeros).
        func number(_ hex: String?) -> Substring? { hex.map { $0.lowercased().drop { $0 == "0" } } }
        XCTAssertEqual(number(data["serial_number"] as? String), number(leaf.serialHex), "\(data)")
        XCTAssertEqual(data["domains"] as? [String], ["hooked.example.test"])
        XCTAssertEqual(flow.account.hasSuffix(data["account_id"] as? String ?? "-"), true, "\(flow.account) \(data)")
        XCTAssertNotNil((data["not_after"] as? String).flatMap { try? Date($0, strategy: .iso8601) })
        XCTAssertTrue(flow.certificateURL.contains(data["certificate_id"] as? String ?? "-"), "\(flow.certificateURL) \(data)")

        // order.creation carries its own fields; the orders's id is the one certificate.issuance names.
        let order = try XCTUnwrap(all.first { $0.event == "order.creation" })
        let orderData = try XCTUnwrap((try JSONSerialization.jsonObject(with: Data(order.body.utf8)) as? [String: Any])?["data"]
            as? [String: Any])
        XCTAssertEqual(orderData["order_id"] as? String, data["order_id"] as? String)
        XCTAssertEqual((orderData["identifiers"] as? [[String: String]])?.first?["value"], "hooked.example.test")

        // The receiver logs a POST before it answers; the count follows the answer.
        eventually { (try? deliveries("certificate.issuance", "delivered")) == 3 }
        XCTAssertEqual(try deliveries("certificate.issuance", "delivered"), 3)
        XCTAssertEqual(try deliveries("order.creation", "delivered"), 1)
        XCTAssertEqual(try deliveries("certificate.issuance", "dead_lettered"), 0)
    }

    func testAFailingReceiverEndsInTheDeadLetterLogAfterItsRetries() throws {
        let receiver = try startLoopbackService("webhook_receiver")
        let deadLetter = file("dead-letter.jsonl")
        server = try workspace.start(extra: """
            metrics:
              enabled: true
            hooks:
              max_retries: 2
              dead_letter_log: \(deadLetter.path)
              registered:
                - notifier: webhook
                  events: [certificate.issuance]
                  config: {url: '\(receiver.url("/fail"))'}
            """)
        let client = try ACMETestClient(directoryURL: server.baseURL + "/directory")
        let started = Date()
        _ = try workspace.issue(client, name: "failing.example.test")
        XCTAssertLessThan(Date().timeIntervalSince(started), 15, "retries (0.5 s, 1 s) happen after the response")
        eventually { FileManager.default.fileExists(atPath: deadLetter.path) }

        let lines = try String(contentsOf: deadLetter, encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(lines.count, 1, "\(lines)")
        let entry = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as? [String: Any])
        XCTAssertEqual(entry["attempts"] as? Int, 3, "one attempt and max_retries 2")
        XCTAssertEqual(entry["event"] as? String, "certificate.issuance")
        XCTAssertEqual(entry["hook"] as? String, "hooks.registered[0]")
        XCTAssertEqual(entry["notifier"] as? String, "webhook")
        XCTAssertTrue((entry["error"] as? String)?.contains("the webhook answered HTTP 500: receiver broke") ?? false, "\(entry)")
        XCTAssertNotNil(entry["timestamp"] as? String)
        let payload = try XCTUnwrap(entry["payload"] as? [String: Any])
        XCTAssertEqual(payload["event"] as? String, "certificate.issuance")
        XCTAssertEqual((payload["data"] as? [String: Any])?["domains"] as? [String], ["failing.example.test"])
        let mode = try XCTUnwrap(try FileManager.default.attributesOfItem(atPath: deadLetter.path)[.posixPermissions] as? Int)
        XCTAssertEqual(mode & 0o777, 0o600)

        XCTAssertEqual(posts(receiver, at: "/fail").count, 3, "the receiver saw every attempt")
        XCTAssertEqual(try deliveries("certificate.issuance", "retried"), 2)
        XCTAssertEqual(try deliveries("certificate.issuance", "dead_lettered"), 1)
        XCTAssertEqual(try deliveries("certificate.issuance", "delivered"), 0)
        XCTAssertTrue(server.log.contains("hooks.registered[0] (webhook): certificate.issuance was not delivered after 3 attempt(s)"),
                      server.log)
    }

    func testAHangingReceiverDoesNotSlowIssuance() throws {
        let receiver = try startLoopbackService("webhook_receiver")
        let deadLetter = file("dead-letter.jsonl")
        // The receiver never answers /hang (it holds a request for an hour). Entry 0 gets every
        // event with a 1 s deadline, overriding hooks.timeout_seconds (60) and the webhook's own
        // 60 s; entry 1 gets certificate.issuance with a 30 s deadline.
        server = try workspace.start(extra: """
            hooks:
              timeout_seconds: 60
              max_workers: 2
              dead_letter_log: \(deadLetter.path)
              registered:
                - notifier: webhook
                  timeout_seconds: 1
                  config: {url: '\(receiver.url("/hang"))', timeout_seconds: 60}
                - notifier: webhook
                  events: [certificate.issuance]
                  timeout_seconds: 30
                  config: {url: '\(receiver.url("/hang"))', timeout_seconds: 60, headers: {X-Hook: slow}}
            """)
        let client = try ACMETestClient(directoryURL: server.baseURL + "/directory")
        let started = Date()
        _ = try workspace.issue(client, name: "hanging.example.test")
        XCTAssertLessThan(Date().timeIntervalSince(started), 15,
                          "finalize returns while the 30 s hook still waits for its receiver")

        // Entry 0's deliveries each gave up after 1 s.
        func deadLettered() -> [[String: Any]] {
            ((try? String(contentsOf: deadLetter, encoding: .utf8)) ?? "").split(separator: "\n").compactMap {
                try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
            }
        }
        eventually(30) { deadLettered().count >= 6 }
        let entries = deadLettered()
        XCTAssertEqual(Set(entries.compactMap { $0["event"] as? String }), [
            "account.registration", "order.creation", "challenge.before_validate", "challenge.after_validate",
            "certificate.issuance", "certificate.delivery",
        ])
        XCTAssertEqual(entries.count, 6, "\(entries)")
        for entry in entries {
            XCTAssertEqual(entry["hook"] as? String, "hooks.registered[0]")
            XCTAssertEqual(entry["attempts"] as? Int, 1)
            XCTAssertTrue((entry["error"] as? String)?.contains("deadline") ?? false, "\(entry)")
        }
        XCTAssertLessThan(Date().timeIntervalSince(started), 25, "1 s per delivery, not 60 s")
        let slow = posts(receiver, at: "/hang").filter { $0.headers["X-Hook"] == "slow" }
        XCTAssertEqual(slow.map(\.event), ["certificate.issuance"])

        // Shutdown drains for 5 s, then leaves the delivery still waiting on its 30 s deadline.
        let stopping = Date()
        XCTAssertEqual(server.stop(timeout: 60), 0)
        XCTAssertLessThan(Date().timeIntervalSince(stopping), 20, server.log)
        XCTAssertTrue(server.log.contains("shutdown: the hook deliveries did not finish within 5"), server.log)
        XCTAssertEqual(deadLettered().count, 6, "the abandoned delivery was not dead-lettered: \(deadLettered().last as Any)")
    }

    func testAPythonHookClassIsRefusedAtLoad() throws {
        let config = file("python-hook.yaml")
        try (ConfigTests.minimal + "hooks:\n  registered:\n    - class: mycompany.hooks.SlackNotifier\n      events: [certificate.issuance]\n")
            .write(to: config, atomically: true, encoding: .utf8)
        let result = try Command.run(TestPaths.executable.path, ["-c", config.path, "--validate-only"])
        XCTAssertEqual(result.status, 1, result.stdout)
        XCTAssertTrue(result.stderr.contains("\(config.path):12: hooks.registered[0].class: \"mycompany.hooks.SlackNotifier\" is refused"),
                      result.stderr)
        XCTAssertTrue(result.stderr.contains("write `notifier: webhook` (or `notifier: ext:NAME`"), result.stderr)
        XCTAssertFalse(result.stderr.contains("hooks.registered[0].notifier"), "no second problem for the missing notifier")
    }

    func testAMissingNotifierPluginStopsStartup() throws {
        XCTAssertThrowsError(try workspace.start(extra: """
            hooks:
              registered:
                - notifier: ext:NoSuchNotifier
                - notifier: webhook
                  config: {url: 'http://127.0.0.1:9/'}
            """)) { error in
            XCTAssertTrue("\(error)".contains("hooks.registered[0].notifier: cannot load plugin "), "\(error)")
            XCTAssertTrue("\(error)".contains("libNoSuchNotifier.so"), "\(error)")
        }
        // A plugin that refuses its configuration stops startup too, naming the entry.
        XCTAssertThrowsError(try workspace.start(extra: """
            hooks:
              registered:
                - notifier: webhook
                  config: {url: 'ftp://127.0.0.1/x'}
            """)) { error in
            XCTAssertTrue("\(error)".contains("hooks.registered[0].notifier: "), "\(error)")
            XCTAssertTrue("\(error)".contains("is not an http or https URL"), "\(error)")
        }
    }
}
