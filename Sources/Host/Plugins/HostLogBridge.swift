import Logging
import PluginAPI

/// The `acmeeh_host_api.log` of one plugin instance, bridged to swift-log.
///
/// The bridge is retained through `Unmanaged` as the host API's `ctx` for as long as the
/// instance exists; the C callback captures nothing.
final class HostLogBridge: Sendable {
    let logger: Logger

    init(logger: Logger) { self.logger = logger }

    /// ACMEEH_LOG_* uses swift-log's order; out-of-range levels are clamped.
    static func level(_ value: Int32) -> Logger.Level {
        switch value {
        case ..<ACMEEH_LOG_DEBUG: .trace
        case ACMEEH_LOG_DEBUG: .debug
        case ACMEEH_LOG_INFO: .info
        case ACMEEH_LOG_NOTICE: .notice
        case ACMEEH_LOG_WARNING: .warning
        case ACMEEH_LOG_ERROR: .error
        default: .critical
        }
    }

    /// The C function handed to plugins. The message is logged as data (interpolated into a
    /// `Logger.Message`), never used as a format string; invalid UTF-8 is repaired.
    static let callback: @convention(c) (UnsafeMutableRawPointer?, Int32, UnsafePointer<CChar>?) -> Void = { ctx, level, message in
        guard let ctx, let message else { return }
        let bridge = Unmanaged<HostLogBridge>.fromOpaque(ctx).takeUnretainedValue()
        let text = String(cString: message)
        bridge.logger.log(level: HostLogBridge.level(level), "\(text)")
    }
}
