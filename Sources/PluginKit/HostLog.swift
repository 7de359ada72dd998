import PluginAPI

/// Logging through the host's `acmeeh_host_api.log`, attributed to one instance.
///
/// Plugins never write to stdout (header rules); when the host offers no log
/// function the message is dropped.
public struct HostLog: @unchecked Sendable {
    // @unchecked: `ctx` is an opaque pointer the host says may be used from any thread.
    private let ctx: UnsafeMutableRawPointer?
    private let function: (@convention(c) (UnsafeMutableRawPointer?, Int32, UnsafePointer<CChar>?) -> Void)?

    /// Copies the table's `ctx` and `log` (the table is valid until destroy; the copy does not depend on it).
    public init(_ host: UnsafePointer<acmeeh_host_api>?) {
        if let host, let table = borrowedStruct(host, v1Size: ACMEEH_HOST_API_V1_SIZE) {
            ctx = table.ctx
            function = table.log
        } else {
            ctx = nil
            function = nil
        }
    }

    /// A logger that drops everything (tests).
    public static let none = HostLog(nil)

    public func log(_ level: Int32, _ message: String) {
        guard let function else { return }
        // Embedded NULs would cut the line; make them visible instead.
        let text = message.contains("\0") ? message.replacingNULs() : message
        text.withCString { function(ctx, level, $0) }
    }

    public func trace(_ message: String) { log(ACMEEH_LOG_TRACE, message) }
    public func debug(_ message: String) { log(ACMEEH_LOG_DEBUG, message) }
    public func info(_ message: String) { log(ACMEEH_LOG_INFO, message) }
    public func notice(_ message: String) { log(ACMEEH_LOG_NOTICE, message) }
    public func warning(_ message: String) { log(ACMEEH_LOG_WARNING, message) }
    public func error(_ message: String) { log(ACMEEH_LOG_ERROR, message) }
}

extension String {
    fileprivate func replacingNULs() -> String {
        String(unicodeScalars.map { $0 == "\0" ? "?" : Character($0) })
    }
}
