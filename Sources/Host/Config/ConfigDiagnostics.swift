/// Collects every problem found while loading one configuration file, so the user
/// sees all of them at once instead of fixing one per run.
final class ConfigDiagnostics {
    let source: String
    private(set) var problems: [ConfigProblem] = []
    /// Schema paths of every key a reader asked for (`hooks.registered[].events`), present or not.
    private(set) var consultedKeys: Set<String> = []

    init(source: String) {
        self.source = source
    }

    func add(path: String, line: Int?, _ message: String) {
        problems.append(ConfigProblem(file: source, line: line, path: path, message: message))
    }

    func consulted(_ schemaPath: String) {
        consultedKeys.insert(schemaPath)
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

    /// The schema path of a concrete path: list indexes become `[]` (`a[2].b` → `a[].b`).
    static func schema(_ path: String) -> String {
        var result = ""
        var inIndex = false
        for c in path {
            if c == "[" { inIndex = true; result += "[]"; continue }
            if inIndex { if c == "]" { inIndex = false }; continue }
            result.append(c)
        }
        return result
    }
}
