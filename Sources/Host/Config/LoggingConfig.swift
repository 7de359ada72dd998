/// The `logging` section: log level and format, and the audit log.
struct LoggingConfig: Sendable, Equatable {
    /// Python-style level names, as the reference wrote them.
    enum Level: String, Sendable, CaseIterable {
        case debug = "DEBUG", info = "INFO", warning = "WARNING", error = "ERROR", critical = "CRITICAL"
    }

    /// JSON lines for log collectors, or text for a terminal.
    enum Format: String, Sendable, CaseIterable {
        case json, human
    }

    var level: Level = .info
    var format: Format = .json
    var audit = AuditLogConfig()
}

/// `logging.audit`: the security audit trail written as JSON lines to a rotating file.
struct AuditLogConfig: Sendable, Equatable {
    var enabled: Bool = true
    /// nil: audit events go to the main log only.
    var file: String? = nil
    /// Accepted for compatibility; unused by the reference.
    var syslog: Bool = false
    var maxFileSizeBytes: Int = 104_857_600
    var backupCount: Int = 10
}

extension LoggingConfig {
    init(reading r: ConfigObjectReader) {
        self.init()
        r.read("level", into: &level)
        r.read("format", into: &format)
        audit = AuditLogConfig(reading: r.object("audit"))
        r.finish()
    }
}

extension AuditLogConfig {
    init(reading r: ConfigObjectReader) {
        self.init()
        r.read("enabled", into: &enabled)
        r.read("file", into: &file)
        r.read("syslog", into: &syslog)
        r.read("max_file_size_bytes", into: &maxFileSizeBytes, min: 1_048_576, max: 1_073_741_824)
        r.read("backup_count", into: &backupCount, min: 1, max: 100)
        r.finish()
    }
}
