import Foundation
import Logging
import ServiceLifecycle
import UnixSignals

/// SIGHUP (deployment guide, "Config Hot-Reload"): the configuration file is read again and
/// its reloadable set (`ConfigKeyCatalog.reloadablePrefixes`: `logging.level`,
/// `security.rate_limits`, `metrics.enabled`, the notification retry, batch and type
/// settings) takes effect; a file that does not load leaves the running
/// configuration as it was, each problem logged; changed keys that need a restart are
/// named in one warning and keep their running values.
struct ConfigReloader: Service {
    let path: String
    /// The configuration the process started with (what restart-only keys still hold).
    let started: AppConfig
    let reloadable: ReloadableSettings
    /// `--debug` / `--dev` keep debug logging whatever `logging.level` says.
    let forcedLevel: Logger.Level?
    let logger: Logger

    func run() async throws {
        let signals = await UnixSignalsSequence(trapping: .sighup)
        for await _ in signals.cancelOnGracefulShutdown() { reload() }
    }

    /// Reads the file and applies it; false when it did not load.
    @discardableResult
    func reload() -> Bool {
        let config: AppConfig
        do {
            config = try ConfigLoader.load(path: path, environment: ProcessInfo.processInfo.environment)
        } catch let error as ConfigError {
            for problem in error.problems {
                logger.error("SIGHUP: \(problem); the running configuration is kept")
            }
            return false
        } catch {
            logger.error("SIGHUP: \(path): \(error); the running configuration is kept")
            return false
        }
        let restartOnly = ConfigChanges.restartOnly(from: started.document, to: config.document)
        if !restartOnly.isEmpty {
            let keys = restartOnly.joined(separator: ", ")
            logger.warning("SIGHUP: changed keys that need a restart keep their running values until then: \(keys)")
        }
        reloadable.replace(with: config)
        ProcessLogLevel.set(forcedLevel ?? Logger.Level(config.logging.level))
        logger.notice("SIGHUP: configuration reloaded from \(path)",
                      metadata: ["logging.level": "\(config.logging.level.rawValue)"])
        return true
    }
}

/// The service group logs its services at debug level: the file, never the configuration.
extension ConfigReloader: CustomStringConvertible {
    var description: String { "ConfigReloader(\(path))" }
}
