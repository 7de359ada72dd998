import Foundation
@testable import Host
import Logging
import XCTest

extension XCTestCase {
    /// Loads the built-in notifier `reference` (`smtp`, `webhook`) with `config` through the
    /// host's loader, checks it is `name`, and closes it when the test ends.
    func loadBuiltinNotifier(_ reference: String, name: String, _ config: [String: Any],
                             pool: PluginThreadPool) async throws -> NotifierPluginInstance {
        let registry = PluginRegistry(threadPool: pool) { Logger(label: $0) }
        let json = String(decoding: try JSONSerialization.data(withJSONObject: config, options: [.sortedKeys, .withoutEscapingSlashes]),
                          as: UTF8.self)
        let notifier = try await registry.loadNotifier(
            reference: reference, configKey: "notifications.channels[0]", directory: TestPaths.products.path,
            configJSON: json, configPath: "notifications.\(reference)")
        XCTAssertEqual(notifier.name, name)
        addTeardownBlock { await notifier.close() }
        return notifier
    }

    /// The error delivering `notification` ends in; a delivery that succeeds fails the test.
    func deliveryError(_ notifier: NotifierPluginInstance, _ notification: PluginNotification) async throws -> PluginError {
        do {
            try await notifier.deliver(notification, timeout: .seconds(30))
        } catch {
            return error
        }
        throw CLIFailure("the delivery succeeded; expected a PluginError")
    }
}
