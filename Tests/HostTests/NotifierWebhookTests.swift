import Foundation
import Logging
import XCTest

@testable import Host

/// The `webhook` notifier (libNotifierWebhook.so) through the host's real plugin loader,
/// POSTing to `Fixtures/webhook_receiver.py` on loopback, whose path picks its answer.
final class NotifierWebhookTests: XCTestCase {
    static let pool = PluginThreadPool(numberOfThreads: 2)
    static let secret = "whsec-test-4f9a"

    func testPostsThePayloadSignedWithHMACSHA256() async throws {
        let receiver = try startLoopbackService("webhook_receiver")
        let notifier = try await load(["url": receiver.url("/ok"), "secret": Self.secret,
                                       "headers": ["Authorization": "Bearer receiver-token"]])
        let payload = #"{"serial":"0a1b","domains":["www.example.test"],"note":"grüße"}"#
        try await notifier.deliver(PluginNotification(
            event: "certificate.issuance", recipients: [], subject: "ignored", body: "ignored", payloadJSON: payload),
            timeout: .seconds(30))

        let request = try XCTUnwrap(receiver.records().first)
        XCTAssertEqual(receiver.records().count, 1)
        XCTAssertEqual(request["path"] as? String, "/ok")
        XCTAssertEqual(request["body"] as? String, payload)
        let headers = try XCTUnwrap(request["headers"] as? [String: String])
        XCTAssertEqual(headers["Content-Type"], "application/json")
        XCTAssertEqual(headers["X-Acmeeh-Event"], "certificate.issuance")
        XCTAssertEqual(headers["Authorization"], "Bearer receiver-token")
        // The receiver's check: HMAC-SHA256 over the body it got, keyed with the shared secret.
        XCTAssertEqual(headers["X-Acmeeh-Signature"], "sha256=" + webhookHMAC(key: Self.secret, data: Array(payload.utf8)))
    }

    func testUnsignedWithoutASecret() async throws {
        let receiver = try startLoopbackService("webhook_receiver")
        try await load(["url": receiver.url("/ok")]).deliver(
            PluginNotification(event: "e", recipients: [], subject: "", body: ""), timeout: .seconds(30))
        let headers = try XCTUnwrap(receiver.records().first?["headers"] as? [String: String])
        XCTAssertNil(headers["X-Acmeeh-Signature"])
        XCTAssertEqual(receiver.records().first?["body"] as? String, "{}")
    }

    func testServerErrorIsRetryableAndNamesTheStatus() async throws {
        let receiver = try startLoopbackService("webhook_receiver")
        let error = try await deliverError(try await load(["url": receiver.url("/fail")]))
        XCTAssertEqual(error.code, .unavailable, error.detail)
        XCTAssertTrue(error.retryable)
        XCTAssertEqual(error.detail, "the webhook answered HTTP 500: receiver broke")
    }

    func testHangingReceiverFailsAfterTimeoutSeconds() async throws {
        let receiver = try startLoopbackService("webhook_receiver")
        let notifier = try await load(["url": receiver.url("/hang"), "timeout_seconds": 1])
        let started = Date()
        let error = try await deliverError(notifier)
        let elapsed = Date().timeIntervalSince(started)
        XCTAssertGreaterThanOrEqual(elapsed, 0.9)
        XCTAssertLessThan(elapsed, 5)
        XCTAssertEqual(error.code, .unavailable, error.detail)
        XCTAssertTrue(error.retryable)
        XCTAssertTrue(error.detail.hasPrefix("the webhook did not answer within 1 s"), error.detail)
    }

    func testRedirectIsNotFollowedAndIsFinal() async throws {
        let receiver = try startLoopbackService("webhook_receiver")
        let error = try await deliverError(try await load(["url": receiver.url("/redirect")]))
        XCTAssertEqual(error.code, .rejected, error.detail)
        XCTAssertFalse(error.retryable)
        XCTAssertEqual(error.detail, "the webhook answered HTTP 302: moved")
        XCTAssertEqual(receiver.records().map { $0["path"] as? String }, ["/redirect"])
    }

    func testALargeAnswerIsCutAndTheDeliveryAccepted() async throws {
        let receiver = try startLoopbackService("webhook_receiver")
        try await load(["url": receiver.url("/big")]).deliver(
            PluginNotification(event: "e", recipients: [], subject: "", body: ""), timeout: .seconds(30))
        XCTAssertEqual(receiver.records().count, 1)
    }

    func testClosedPortIsRetryable() async throws {
        let port = try freeLoopbackPort()
        let error = try await deliverError(try await load(["url": "http://127.0.0.1:\(port)/ok"]))
        XCTAssertEqual(error.code, .unavailable, error.detail)
        XCTAssertTrue(error.retryable)
        XCTAssertTrue(error.detail.hasPrefix("the webhook could not be reached: "), error.detail)
    }

    func testConfigurationIsStrict() async throws {
        let cases: [([String: Any], String)] = [
            (["url": "http://127.0.0.1/", "retries": 3], "notifications.webhook.retries: unknown key"),
            ([:], "notifications.webhook.url: is required"),
            (["url": "ftp://127.0.0.1/x"], "notifications.webhook.url: \"ftp://127.0.0.1/x\" is not an http or https URL"),
            (["url": "http://127.0.0.1/", "headers": ["X-Acmeeh-Signature": "forged"]],
             "notifications.webhook.headers: X-Acmeeh-Signature is set by the plugin"),
            (["url": "http://127.0.0.1/", "headers": ["Bad Name": "x"]], "notifications.webhook.headers: \"Bad Name\" is not"),
            (["url": "http://127.0.0.1/", "headers": ["X-Token": "a\r\nInjected: 1"]], "must not contain a line break"),
            (["url": "http://127.0.0.1/", "timeout_seconds": 0], "notifications.webhook.timeout_seconds: 0 is out of range"),
            (["url": "http://127.0.0.1/", "ca_file": "/nonexistent/ca.pem"], "notifications.webhook.ca_file: cannot read"),
        ]
        for (config, expected) in cases {
            do {
                _ = try await load(config)
                XCTFail("accepted \(config)")
            } catch let error as PluginLoadError {
                XCTAssertTrue(error.description.contains(expected), "\(error.description) lacks \(expected)")
            }
        }
    }

    // MARK: - helpers

    func load(_ config: [String: Any]) async throws -> NotifierPluginInstance {
        try await loadBuiltinNotifier("webhook", name: "NotifierWebhook", config, pool: Self.pool)
    }

    func deliverError(_ notifier: NotifierPluginInstance) async throws -> PluginError {
        try await deliveryError(notifier, PluginNotification(event: "certificate.issuance", recipients: [], subject: "s",
                                                             body: "b", payloadJSON: #"{"n":1}"#))
    }

}
