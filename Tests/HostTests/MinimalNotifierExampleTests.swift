import Foundation
import Logging
import XCTest

@testable import Host

/// docs/examples/minimal_notifier.c, built with the C compiler as docs/plugins.md says, loaded
/// through the host's real plugin loader and `acmeeh plugins check`, and delivering to its file.
final class MinimalNotifierExampleTests: XCTestCase {
    static let pool = PluginThreadPool(numberOfThreads: 2)

    func testBuildsLoadsAndAppendsEachNotificationToItsFile() async throws {
        let directory = try TestPaths.temporaryDirectory("acmeeh-minimal-notifier")
        addTeardownBlock { try? FileManager.default.removeItem(at: directory) }
        let library = directory.appendingPathComponent("libMinimalNotifier.so").path
        let repository = TestPaths.repository.path
        let cc = try Command.tool("cc", [
            "-shared", "-fPIC", "-std=c11", "-Wall", "-Werror", "-fvisibility=hidden", "-I", repository + "/Sources/PluginAPI/include",
            "-Wl,--version-script=" + repository + "/Plugins/exports.map", "-Wl,-Bsymbolic",
            "-o", library, repository + "/docs/examples/minimal_notifier.c"])
        XCTAssertEqual(cc.status, 0, cc.stderr)
        let file = directory.appendingPathComponent("notifications.log").path
        let config = #"{"file": "\#(file)"}"#

        let check = try Command.run(TestPaths.executable.path, ["plugins", "check", library, "--config", config])
        XCTAssertEqual(check.status, 0, check.stdout + check.stderr)
        XCTAssertTrue(check.stdout.contains("PASS: notifier MinimalNotifier"), check.stdout)

        let notifier = try await PluginRegistry(threadPool: Self.pool) { Logger(label: $0) }.loadNotifier(
            reference: "ext:" + library, configKey: "notifications.channels[0]", directory: directory.path,
            configJSON: config, configPath: "notifications.file")
        XCTAssertEqual(notifier.name, "MinimalNotifier")
        try await notifier.deliver(PluginNotification(
            event: "certificate.issuance", recipients: ["a@example.test", "b@example.test"], subject: "Issued",
            body: "Serial 0a1b\nfor www.example.test", payloadJSON: #"{"serial":"0a1b"}"#, bodyHTML: "<p>Serial 0a1b</p>"),
            timeout: .seconds(5))
        try await notifier.deliver(PluginNotification(event: "expiration_warning", recipients: [], subject: "Soon", body: "7 days"),
                                   timeout: .seconds(5))
        XCTAssertEqual(try String(contentsOfFile: file, encoding: .utf8), """
            event: certificate.issuance
            to: a@example.test
            to: b@example.test
            subject: Issued
            body: Serial 0a1b
              for www.example.test
            html: <p>Serial 0a1b</p>
            payload: {"serial":"0a1b"}

            event: expiration_warning
            subject: Soon
            body: 7 days
            payload: {}


            """)
        await notifier.close()

        // A file it cannot open is a retryable error naming the file.
        let broken = try await PluginRegistry(threadPool: Self.pool) { Logger(label: $0) }.loadNotifier(
            reference: "ext:" + library, configKey: "notifications.channels[1]", directory: directory.path,
            configJSON: #"{"file": "/nonexistent/dir/n.log"}"#, configPath: "notifications.file")
        do {
            try await broken.deliver(PluginNotification(event: "e", recipients: [], subject: "", body: ""), timeout: .seconds(5))
            XCTFail("delivered into a missing directory")
        } catch {
            XCTAssertEqual(error.code, .unavailable)
            XCTAssertTrue(error.retryable)
            XCTAssertEqual(error.detail, "cannot open /nonexistent/dir/n.log: No such file or directory")
        }
        await broken.close()

        let missing = try Command.run(TestPaths.executable.path, ["plugins", "check", library])
        XCTAssertEqual(missing.status, 1)
        XCTAssertTrue(missing.stdout.contains("create() failed: config.file is required"), missing.stdout)
    }
}
