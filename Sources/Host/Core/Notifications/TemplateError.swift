/// A notification template that cannot be used: an override file that does not parse, whose
/// name is no template's, or that cannot be read. Described as `FILE:LINE: message`, or
/// `FILE: message` when no line applies.
struct TemplateError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The template file (a path for overrides, `built-in <name>` for the defaults).
    let file: String
    /// The 1-based line of the problem, when it has one.
    let line: Int?
    let message: String

    init(file: String, line: Int? = nil, _ message: String) {
        self.file = file
        self.line = line
        self.message = message
    }

    var description: String {
        if let line { return "\(file):\(line): \(message)" }
        return "\(file): \(message)"
    }
}
