import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Logging
import PluginAPI
import XCTest

@testable import Host

/// The `smtp` notifier (libNotifierSMTP.so) through the host's real plugin loader, delivering
/// to `Fixtures/smtp_sink.py` (aiosmtpd) on loopback: STARTTLS with the server certificate of
/// `TLSTestPKI`, AUTH with a fixed user and password.
final class NotifierSMTPTests: XCTestCase {
    static let pool = PluginThreadPool(numberOfThreads: 2)
    static let user = "notifier"
    static let password = "s3cret-Passw0rd"

    // MARK: - delivery

    func testDeliversMultipartMailOverSTARTTLSWithAuth() async throws {
        let sink = try startSink()
        let notifier = try await load(config(sink, ["cc": ["cc@example.test"], "bcc": ["audit@example.test"]]))
        let subject = "Zertifikat für www.example.test läuft in 7 Tagen ab — bitte erneuern"
        let text = "Line one\n.leading dot\n.\nLine four, long enough to need a soft line break in quoted-printable: "
            + String(repeating: "ä", count: 40)
        try await notifier.deliver(PluginNotification(
            event: "expiration_warning", recipients: ["admin@example.test", "ops@example.test"], subject: subject,
            body: text, payloadJSON: #"{"days":7}"#, bodyHTML: "<p>Expires in <b>7</b> days</p>"), timeout: .seconds(30))

        let mail = try XCTUnwrap(sink.records().first)
        XCTAssertEqual(sink.records().count, 1)
        XCTAssertEqual(mail["mail_from"] as? String, "acme@ca.example.test")
        // The envelope has every recipient, bcc included; the headers never name the bcc.
        XCTAssertEqual(mail["rcpt_tos"] as? [String], ["admin@example.test", "ops@example.test", "cc@example.test", "audit@example.test"])
        XCTAssertEqual(mail["tls"] as? Bool, true)
        XCTAssertEqual(mail["login"] as? String, Self.user)
        let headers = try headerList(mail)
        XCTAssertEqual(value("To", headers), "admin@example.test, ops@example.test")
        XCTAssertEqual(value("Cc", headers), "cc@example.test")
        XCTAssertNil(value("Bcc", headers))
        let raw = try XCTUnwrap(mail["data"] as? String)
        XCTAssertFalse(raw.contains("audit@example.test"), raw)
        XCTAssertEqual(value("Subject", headers), subject)
        XCTAssertTrue(raw.contains("Subject: =?UTF-8?B?"), raw)
        XCTAssertEqual(value("From", headers), "acme@ca.example.test")
        XCTAssertEqual(value("MIME-Version", headers), "1.0")
        XCTAssertEqual(value("X-Acmeeh-Event", headers), "expiration_warning")
        let messageID = try XCTUnwrap(value("Message-ID", headers))
        XCTAssertTrue(messageID.hasPrefix("<") && messageID.hasSuffix("@ca.example.test>"), messageID)
        let date = try XCTUnwrap(value("Date", headers))
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss Z"
        let sent = try XCTUnwrap(formatter.date(from: date), date)
        XCTAssertLessThan(abs(sent.timeIntervalSinceNow), 120)

        // multipart/alternative: the text, then the HTML.
        XCTAssertEqual(mail["content_type"] as? String, "multipart/alternative")
        let parts = try XCTUnwrap(mail["parts"] as? [[String: Any]])
        XCTAssertEqual(parts.map { $0["content_type"] as? String }, ["text/plain", "text/html"])
        XCTAssertEqual(normalized(parts[0]["text"]), text)
        XCTAssertEqual(normalized(parts[1]["text"]), "<p>Expires in <b>7</b> days</p>")

        // On the wire: CRLF only, 7-bit, short lines, no line that starts with a dot.
        let lines = raw.components(separatedBy: "\r\n")
        XCTAssertFalse(lines.contains { $0.contains("\n") || $0.contains("\r") }, "a bare LF or CR")
        XCTAssertTrue(raw.unicodeScalars.allSatisfy { $0.value < 0x80 }, "8-bit data")
        XCTAssertLessThanOrEqual(lines.map(\.count).max() ?? 0, 100)
        XCTAssertFalse(lines.contains { $0.hasPrefix(".") }, raw)
    }

    func testPlainTextWithoutHTMLAndASCIISubject() async throws {
        let sink = try startSink()
        let notifier = try await load(config(sink))
        try await notifier.deliver(PluginNotification(
            event: "certificate.issuance", recipients: ["admin@example.test"], subject: "Certificate issued",
            body: "Serial 0a1b\r\n"), timeout: .seconds(30))
        let mail = try XCTUnwrap(sink.records().first)
        XCTAssertEqual(mail["rcpt_tos"] as? [String], ["admin@example.test"])
        XCTAssertEqual(mail["content_type"] as? String, "text/plain")
        let parts = try XCTUnwrap(mail["parts"] as? [[String: Any]])
        XCTAssertEqual(parts.count, 1)
        XCTAssertEqual(normalized(parts[0]["text"]), "Serial 0a1b\n")
        XCTAssertTrue((mail["data"] as? String ?? "").contains("\r\nSubject: Certificate issued\r\n"))
        XCTAssertNil(value("Cc", try headerList(mail)))
    }

    /// Port 465 is implicit TLS (smtps, RFC 8314 §3.3): TLS from the first byte, no STARTTLS.
    /// Skipped when 127.0.0.1:465 cannot be bound (not root, or taken).
    func testPort465SpeaksImplicitTLS() async throws {
        let pki = try TLSTestPKI.shared()
        let sink: LoopbackService
        do {
            sink = try startLoopbackService("smtp_sink", [
                "--port", "465", "--implicit-tls", "--tls-cert", pki.serverCert, "--tls-key", pki.serverKey,
                "--user", Self.user, "--password", Self.password])
        } catch {
            throw XCTSkip("cannot listen on 127.0.0.1:465: \(error)")
        }
        XCTAssertEqual(sink.port, 465)
        try await load(config(sink)).deliver(
            PluginNotification(event: "e", recipients: ["admin@example.test"], subject: "s", body: "b"), timeout: .seconds(30))
        let mail = try XCTUnwrap(sink.records().first)
        XCTAssertEqual(mail["tls"] as? Bool, true)
        XCTAssertEqual(mail["login"] as? String, Self.user)
    }

    /// PluginKit reads body_html only when the host's struct_size covers it: a notification
    /// declared with the 1.0 size gives a text/plain mail although a valid body_html pointer
    /// follows it in memory; one below the 1.0 size is refused.
    func testBodyHTMLIsReadOnlyWhenTheHostsStructReachesIt() async throws {
        let sink = try startSink()
        let notifier = try await load(config(sink))
        for (declared, expected) in [(64, ACMEEH_STATUS_OK), (72, ACMEEH_STATUS_OK), (56, ACMEEH_STATUS_ERROR)] {
            let (status, detail) = try await notifier.instance.call("deliver", timeout: .seconds(30)) { descriptor, handle, deadline in
                withCStrings(["expiration_warning", "admin@example.test", "Subject", "text", "{}", "<p>html</p>"]) { s in
                    [s[1]].withUnsafeBufferPointer { recipients in
                        var notification = acmeeh_notification(
                            struct_size: UInt32(declared), event: s[0], recipients: recipients.baseAddress, recipient_count: 1,
                            subject: s[2], body: s[3], payload_json: s[4], deadline_ms: deadline, body_html: s[5])
                        var error = acmeeh_error.empty()
                        let status = descriptor.notifier_deliver!(handle, &notification, &error)
                        return .success((status, withUnsafeBytes(of: &error.detail) { boundedString($0) }))
                    }
                }
            }
            XCTAssertEqual(status, expected, "struct_size \(declared): \(detail)")
            if expected == ACMEEH_STATUS_ERROR {
                XCTAssertEqual(detail, "notification struct_size is smaller than the v1.0 layout")
            }
        }
        XCTAssertEqual(sink.records().map { $0["content_type"] as? String }, ["text/plain", "multipart/alternative"])
    }

    // MARK: - failures

    func testWrongPasswordFailsNamingAuthentication() async throws {
        let sink = try startSink()
        let notifier = try await load(config(sink, ["password": "wrong-password"]))
        let error = try await deliverError(notifier)
        XCTAssertEqual(error.code, .config, error.detail)
        XCTAssertFalse(error.retryable)
        XCTAssertTrue(error.detail.contains("authentication as \"notifier\" was refused"), error.detail)
        XCTAssertFalse(error.detail.contains("wrong-password"), error.detail)
        XCTAssertTrue(sink.records().isEmpty)
    }

    func testClosedPortFailsRetryablyAtOnce() async throws {
        let port = try freeLoopbackPort()
        let notifier = try await load(["host": "127.0.0.1", "port": port, "from_address": "acme@ca.example.test",
                                       "timeout_seconds": 3])
        let started = Date()
        let error = try await deliverError(notifier)
        XCTAssertLessThan(Date().timeIntervalSince(started), 3)
        XCTAssertEqual(error.code, .unavailable, error.detail)
        XCTAssertTrue(error.retryable)
        XCTAssertTrue(error.detail.contains("127.0.0.1:\(port)"), error.detail)
    }

    func testSilentServerFailsAfterTimeoutSeconds() async throws {
        // A listening socket that accepts (in the kernel) but never greets.
        let listener = try SilentListener()
        defer { listener.close() }
        let notifier = try await load(["host": "127.0.0.1", "port": listener.port, "from_address": "acme@ca.example.test",
                                       "timeout_seconds": 1])
        let started = Date()
        let error = try await deliverError(notifier)
        let elapsed = Date().timeIntervalSince(started)
        XCTAssertGreaterThanOrEqual(elapsed, 0.9)
        XCTAssertLessThan(elapsed, 5)
        XCTAssertEqual(error.code, .unavailable, error.detail)
        XCTAssertTrue(error.retryable)
        XCTAssertTrue(error.detail.contains("did not finish within 1 s"), error.detail)
    }

    func testServerWithoutSTARTTLSIsRefusedUnlessTLSIsOff() async throws {
        let sink = try startLoopbackService("smtp_sink", ["--no-starttls"])
        let base: [String: Any] = ["host": "127.0.0.1", "port": sink.port, "from_address": "acme@ca.example.test"]
        let error = try await deliverError(try await load(base))
        XCTAssertEqual(error.code, .config, error.detail)
        XCTAssertTrue(error.detail.contains("does not offer STARTTLS"), error.detail)
        XCTAssertTrue(sink.records().isEmpty)

        try await load(base.merging(["use_tls": false]) { $1 }).deliver(
            PluginNotification(event: "e", recipients: ["admin@example.test"], subject: "s", body: "b"), timeout: .seconds(30))
        XCTAssertEqual(sink.records().first?["tls"] as? Bool, false)
    }

    func testUntrustedCertificateIsAConfigurationError() async throws {
        let sink = try startSink()
        let stranger = try TLSTestPKI.shared().strangerCert
        let error = try await deliverError(try await load(config(sink, ["ca_file": stranger])))
        XCTAssertEqual(error.code, .config, error.detail)
        XCTAssertTrue(error.detail.contains("notifications.smtp.ca_file (\(stranger))"), error.detail)
        XCTAssertTrue(sink.records().isEmpty)
    }

    func testRecipientsAreCheckedBeforeSending() async throws {
        let sink = try startSink()
        let notifier = try await load(config(sink))
        let injected = try await deliverError(notifier, recipients: ["admin@example.test>\r\nRCPT TO:<x@evil.test"])
        XCTAssertEqual(injected.code, .invalidInput, injected.detail)
        XCTAssertTrue(injected.detail.hasPrefix("recipient 0 "), injected.detail)
        let none = try await deliverError(notifier, recipients: [])
        XCTAssertEqual(none.code, .invalidInput)
        XCTAssertTrue(none.detail.contains("no recipients"), none.detail)
        XCTAssertTrue(sink.records().isEmpty)
    }

    func testConfigurationIsStrict() async throws {
        let cases: [([String: Any], String)] = [
            (["host": "127.0.0.1", "from_address": "a@b.test", "sender": "x"], "notifications.smtp.sender: unknown key"),
            (["host": "127.0.0.1"], "notifications.smtp.from_address: is required"),
            (["host": "127.0.0.1", "from_address": "not an address"], "notifications.smtp.from_address: "),
            (["host": "127.0.0.1", "from_address": "a@b.test", "username": "u"], "notifications.smtp.password: is required"),
            (["host": "127.0.0.1", "from_address": "a@b.test", "bcc": ["ok@b.test", "bad"]], "notifications.smtp.bcc: [1] "),
            (["host": "mail/evil", "from_address": "a@b.test"], "notifications.smtp.host: "),
            (["host": "127.0.0.1", "from_address": "a@b.test", "port": 0], "notifications.smtp.port: 0 is out of range"),
            (["host": "127.0.0.1", "from_address": "a@b.test", "ca_file": "/nonexistent/ca.pem"],
             "notifications.smtp.ca_file: cannot read /nonexistent/ca.pem"),
        ]
        for (config, expected) in cases {
            do {
                _ = try await load(config)
                XCTFail("accepted \(config)")
            } catch let error as PluginLoadError {
                XCTAssertTrue(error.description.contains(expected), "\(error.description) lacks \(expected)")
                XCTAssertFalse(error.description.contains(Self.password))
            }
        }
    }

    // MARK: - helpers

    func startSink() throws -> LoopbackService {
        let pki = try TLSTestPKI.shared()
        return try startLoopbackService("smtp_sink", [
            "--tls-cert", pki.serverCert, "--tls-key", pki.serverKey, "--user", Self.user, "--password", Self.password])
    }

    /// The sink's address, the test TLS CA and the right credentials, with `extra` on top.
    func config(_ sink: LoopbackService, _ extra: [String: Any] = [:]) throws -> [String: Any] {
        let base: [String: Any] = [
            "host": "127.0.0.1", "port": sink.port, "username": Self.user, "password": Self.password,
            "from_address": "acme@ca.example.test", "ca_file": try TLSTestPKI.shared().caCert, "timeout_seconds": 10,
        ]
        return base.merging(extra) { $1 }
    }

    func load(_ config: [String: Any]) async throws -> NotifierPluginInstance {
        try await loadBuiltinNotifier("smtp", name: "NotifierSMTP", config, pool: Self.pool)
    }

    func deliverError(_ notifier: NotifierPluginInstance,
                      recipients: [String] = ["admin@example.test"]) async throws -> PluginError {
        try await deliveryError(notifier, PluginNotification(event: "certificate.issuance", recipients: recipients,
                                                             subject: "s", body: "b"))
    }

    func headerList(_ mail: [String: Any]) throws -> [[String]] {
        try XCTUnwrap(mail["headers"] as? [[String]])
    }

    /// The first header named `name` (case-insensitively), unfolded.
    func value(_ name: String, _ headers: [[String]]) -> String? {
        headers.first { $0[0].lowercased() == name.lowercased() }?[1]
            .replacingOccurrences(of: "\r\n", with: "").replacingOccurrences(of: "\n", with: "")
    }

    func normalized(_ text: Any?) -> String? {
        (text as? String)?.replacingOccurrences(of: "\r\n", with: "\n")
    }
}

/// A free TCP port on 127.0.0.1 (bound, then closed: nothing listens there).
func freeLoopbackPort() throws -> Int {
    let listener = try SilentListener()
    let port = listener.port
    listener.close()
    return port
}

/// A TCP socket listening on 127.0.0.1 that never accepts: connections complete in the
/// kernel and then nothing is ever said.
final class SilentListener: @unchecked Sendable {
    let descriptor: Int32
    let port: Int

    init() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw CLIFailure("socket: \(errno)") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(fd, 8) == 0 else {
            Glibc.close(fd)
            throw CLIFailure("bind/listen: \(errno)")
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        descriptor = fd
        port = Int(UInt16(bigEndian: address.sin_port))
    }

    func close() { Glibc.close(descriptor) }
}
