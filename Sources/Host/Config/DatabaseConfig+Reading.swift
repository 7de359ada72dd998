extension DatabaseConfig {
    /// libpq `sslmode` values.
    static let sslModes = ["disable", "allow", "prefer", "require", "verify-ca", "verify-full"]
    /// libpq `target_session_attrs` values (PostgreSQL 14+ libpq).
    static let targetSessionAttrValues = ["any", "read-write", "read-only", "primary", "standby", "prefer-standby"]

    init(reading r: ConfigObjectReader) {
        self.init(database: r.requiredString("database"), user: r.requiredString("user"))
        r.read("host", into: &host)
        r.read("port", into: &port, min: 1, max: 65535)
        r.read("password", into: &password)
        if let entry = r.member("sslmode"),
           let mode = ConfigObjectReader.string(entry.value, KeyPath.member(r.path, "sslmode"), entry.line, r.diagnostics) {
            if Self.sslModes.contains(mode) {
                sslmode = mode
            } else {
                r.report(KeyPath.member(r.path, "sslmode"), entry.line,
                         "\"\(mode)\" is not one of \(Self.sslModes.map { "\"\($0)\"" }.joined(separator: ", "))")
            }
        }
        if let entry = r.member("target_session_attrs"),
           let attrs = ConfigObjectReader.string(entry.value, KeyPath.member(r.path, "target_session_attrs"), entry.line,
                                                 r.diagnostics) {
            if Self.targetSessionAttrValues.contains(attrs) {
                targetSessionAttrs = attrs
            } else {
                r.report(KeyPath.member(r.path, "target_session_attrs"), entry.line,
                         "\"\(attrs)\" is not one of \(Self.targetSessionAttrValues.map { "\"\($0)\"" }.joined(separator: ", "))")
            }
        }
        r.read("min_connections", into: &minConnections, min: 1)
        if r.member("max_connections") != nil {
            r.read("max_connections", into: &maxConnections, min: 1)
        } else {
            // A configuration that raises only the minimum gets a pool that large.
            maxConnections = max(maxConnections, minConnections)
        }
        // The reference takes a number of seconds (`30.0`); libpq wants whole seconds.
        var timeout = Double(connectionTimeout)
        r.read("connection_timeout", into: &timeout, min: 0.001)
        connectionTimeout = Int(timeout.rounded(.up))
        r.read("max_idle_seconds", into: &maxIdleSeconds, min: 1)
        r.read("auto_setup", into: &autoSetup)
        r.finish()
    }
}
