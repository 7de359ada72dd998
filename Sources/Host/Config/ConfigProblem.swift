/// One thing wrong with a configuration file, located by file, line and key path.
struct ConfigProblem: Sendable, Equatable, CustomStringConvertible {
    var file: String
    /// 1-based line, or nil when there is no line to point at (unreadable file).
    var line: Int?
    /// Dotted key path with list indexes (`challenges.enabled[1]`); empty for the whole file.
    var path: String
    var message: String

    /// `FILE:LINE: key.path: message`.
    var description: String {
        var text = file
        if let line { text += ":\(line)" }
        if !path.isEmpty { text += ": \(path)" }
        return text + ": " + message
    }
}

/// The configuration could not be loaded; `problems` lists every reason found.
struct ConfigError: Error, Sendable, CustomStringConvertible {
    var problems: [ConfigProblem]

    /// One problem per line, ready to print.
    var description: String {
        problems.map(\.description).joined(separator: "\n")
    }
}
