import CLibPQ

/// The libpq connection string for a `DatabaseConfig`.
///
/// Every key is written as `key='value'` with `\` and `'` backslash-escaped, which is
/// libpq's quoting rule for keyword/value strings, so passwords and paths with spaces,
/// quotes or `=` pass through unchanged. `host` may be a unix-socket directory (an
/// absolute path) or a comma-separated host list; both are libpq's own syntax. With a list,
/// libpq tries each host in turn (the one `port` for all), and `target_session_attrs`
/// (`read-write`, `primary`, ...) makes it pass over servers that do not qualify.
enum Conninfo {
    static func build(_ config: DatabaseConfig) -> String {
        var pairs: [(String, String)] = [
            ("host", config.host),
            ("port", String(config.port)),
            ("dbname", config.database),
            ("user", config.user),
        ]
        if let password = config.password {
            pairs.append(("password", password))
        }
        pairs.append(("sslmode", config.sslmode))
        if let attrs = config.targetSessionAttrs {
            pairs.append(("target_session_attrs", attrs))
        }
        // libpq: 0 = wait for ever; values below 2 are raised to 2 by libpq itself.
        pairs.append(("connect_timeout", String(max(0, config.connectionTimeout))))
        pairs.append(("application_name", "acmeeh"))
        pairs.append(("client_encoding", "UTF8"))
        return pairs.map { "\($0.0)=\(quote($0.1))" }.joined(separator: " ")
    }

    /// `'value'` with backslash and single quote escaped.
    static func quote(_ value: String) -> String {
        var out = "'"
        for ch in value {
            if ch == "\\" || ch == "'" { out.append("\\") }
            out.append(ch)
        }
        out.append("'")
        return out
    }

    /// The conninfo with the password replaced, for logs and error messages.
    static func redacted(_ config: DatabaseConfig) -> String {
        var c = config
        if c.password != nil { c.password = "********" }
        return build(c)
    }

    /// libpq's own reading of a conninfo string (only keys that are set), or nil when
    /// libpq rejects it. For diagnostics and tests.
    static func parse(_ conninfo: String) -> [String: String]? {
        guard let options = PQconninfoParse(conninfo, nil) else { return nil }
        defer { PQconninfoFree(options) }
        var out: [String: String] = [:]
        var p = options
        while let keyword = p.pointee.keyword {
            if let value = p.pointee.val { out[String(cString: keyword)] = String(cString: value) }
            p += 1
        }
        return out
    }
}
