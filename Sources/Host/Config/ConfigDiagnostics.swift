/// Collects every problem found while loading one configuration file, so the user
/// sees all of them at once instead of fixing one per run.
final class ConfigDiagnostics {
    let source: String
    private(set) var problems: [ConfigProblem] = []

    init(source: String) {
        self.source = source
    }

    func add(path: String, line: Int?, _ message: String) {
        problems.append(ConfigProblem(file: source, line: line, path: path, message: message))
    }

    /// Problems ordered by line; problems on the same line keep the order they were found in.
    var sortedProblems: [ConfigProblem] {
        problems.enumerated()
            .sorted { ($0.element.line ?? 0, $0.offset) < ($1.element.line ?? 0, $1.offset) }
            .map(\.element)
    }
}

/// Builds the key path of a member or list element: `a` + `b` → `a.b`, `a` + 1 → `a[1]`.
enum KeyPath {
    static func member(_ parent: String, _ key: String) -> String {
        parent.isEmpty ? key : parent + "." + key
    }

    static func element(_ parent: String, _ index: Int) -> String {
        parent + "[\(index)]"
    }
}
