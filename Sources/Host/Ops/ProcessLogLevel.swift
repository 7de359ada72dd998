import Logging
import Synchronization

/// The log level of every logger of the process that did not set its own: set at startup
/// and again by a SIGHUP reload of `logging.level`, taking effect at the next log call.
enum ProcessLogLevel {
    private static let levels = Logger.Level.allCases
    private static let index = Atomic<Int>(levels.firstIndex(of: .info) ?? 0)

    static var current: Logger.Level { levels[index.load(ordering: .relaxed)] }

    static func set(_ level: Logger.Level) {
        index.store(levels.firstIndex(of: level) ?? 0, ordering: .relaxed)
    }
}
