/// Reads one mapping of the configuration against its schema: typed members that keep
/// their default when absent, per-element list checks, and an error for every unknown
/// key once the section is done (`finish()`). Every problem names its key path and line.
final class ConfigObjectReader {
    let path: String
    /// `path` with list indexes as `[]` and free names as `<name>`: the key's place in the schema.
    let schemaPath: String
    /// Line of the key that introduced this mapping (1 for the document itself).
    let line: Int
    let diagnostics: ConfigDiagnostics
    private let entries: [ConfigNode.Entry]
    private var used: Set<String> = []
    /// False when the value had the wrong type: "required key" errors would only be noise then.
    private let isUsable: Bool

    init(node: ConfigNode?, path: String, line: Int, diagnostics: ConfigDiagnostics, schemaPath: String? = nil) {
        self.path = path
        self.schemaPath = schemaPath ?? KeyPath.schema(path)
        self.line = line
        self.diagnostics = diagnostics
        switch node {
        case .mapping(let entries, _)?:
            self.entries = entries
            isUsable = true
        case nil:
            entries = []
            isUsable = true
        case .scalar(let s)? where s.value == .null:
            // `section:` with nothing under it: all defaults.
            entries = []
            isUsable = true
        case .scalar(let s)? where s.value == .unresolved:
            entries = []
            isUsable = false
        case let other?:
            diagnostics.add(path: path, line: line, "expected a mapping, found \(other.kindDescription)")
            entries = []
            isUsable = false
        }
    }

    /// The keys present in this mapping, in document order.
    var keys: [String] { entries.map(\.key) }

    /// Takes the member `key`, marking it as known (and recording it as a key the loader accepts).
    func member(_ key: String) -> ConfigNode.Entry? {
        used.insert(key)
        diagnostics.consulted(KeyPath.member(schemaPath, key))
        return entries.first { $0.key == key }
    }

    /// A reader for the mapping under `key` (empty when absent).
    func object(_ key: String) -> ConfigObjectReader {
        let entry = member(key)
        return ConfigObjectReader(node: entry?.value, path: KeyPath.member(path, key),
                                  line: entry?.line ?? line, diagnostics: diagnostics)
    }

    /// A reader for the mapping under the free name `key` (`ca.profiles.<name>`).
    func namedObject(_ key: String) -> ConfigObjectReader {
        used.insert(key)
        let entry = entries.first { $0.key == key }
        return ConfigObjectReader(node: entry?.value, path: KeyPath.member(path, key), line: entry?.line ?? line,
                                  diagnostics: diagnostics, schemaPath: KeyPath.member(schemaPath, "<name>"))
    }

    /// The elements of the list under `key`, each with its own path; nil when absent or not a list.
    func elements(_ key: String) -> [(path: String, node: ConfigNode)]? {
        guard let entry = member(key) else { return nil }
        let keyPath = KeyPath.member(path, key)
        switch entry.value {
        case .sequence(let items, _):
            return items.enumerated().map { (KeyPath.element(keyPath, $0.offset), $0.element) }
        case .scalar(let s) where s.value == .unresolved:
            return nil
        default:
            report(keyPath, entry.line, "expected a list, found \(entry.value.kindDescription)")
            return nil
        }
    }

    /// A required, non-empty string member.
    func requiredString(_ key: String) -> String {
        guard let entry = member(key) else {
            if isUsable { report(KeyPath.member(path, key), line, "required key is missing") }
            return ""
        }
        let keyPath = KeyPath.member(path, key)
        guard let value = Self.string(entry.value, keyPath, entry.line, diagnostics) else { return "" }
        if value.isEmpty { report(keyPath, entry.line, "must not be empty") }
        return value
    }

    /// Reports each of `keys` that is absent (unless the mapping itself was unusable).
    func requireKeys(_ keys: String...) {
        guard isUsable else { return }
        for key in keys where !entries.contains(where: { $0.key == key }) {
            report(KeyPath.member(path, key), line, "required key is missing")
        }
    }

    /// Reports every member that no `read`/`member` call asked for. `_comment` is allowed where noted.
    func finish(allowComment: Bool = false) {
        for entry in entries where !used.contains(entry.key) {
            if allowComment, entry.key == "_comment" { continue }
            report(KeyPath.member(path, entry.key), entry.line, "unknown key")
        }
    }

    /// Members nobody read: the keys an open section keeps for a plugin.
    func unreadEntries() -> [ConfigNode.Entry] {
        entries.filter { !used.contains($0.key) }
    }

    func report(_ path: String, _ line: Int, _ message: String) {
        diagnostics.add(path: path, line: line, message)
    }
}

// MARK: - Typed members

extension ConfigObjectReader {
    func read(_ key: String, into target: inout String) {
        guard let e = member(key) else { return }
        if let v = Self.string(e.value, KeyPath.member(path, key), e.line, diagnostics) { target = v }
    }

    /// An optional string: explicit `null` clears it.
    func read(_ key: String, into target: inout String?) {
        guard let e = member(key) else { return }
        if case .scalar(let s) = e.value, s.value == .null, !s.substituted { target = nil; return }
        if let v = Self.string(e.value, KeyPath.member(path, key), e.line, diagnostics) { target = v }
    }

    func read(_ key: String, into target: inout Int, min: Int? = nil, max: Int? = nil) {
        guard let e = member(key) else { return }
        if let v = Self.int(e.value, KeyPath.member(path, key), e.line, diagnostics, min: min, max: max) { target = v }
    }

    func read(_ key: String, into target: inout Int?, min: Int? = nil, max: Int? = nil) {
        guard let e = member(key) else { return }
        if case .scalar(let s) = e.value, s.value == .null { target = nil; return }
        if let v = Self.int(e.value, KeyPath.member(path, key), e.line, diagnostics, min: min, max: max) { target = v }
    }

    func read(_ key: String, into target: inout Double, min: Double? = nil, max: Double? = nil) {
        guard let e = member(key) else { return }
        if let v = Self.double(e.value, KeyPath.member(path, key), e.line, diagnostics, min: min, max: max) { target = v }
    }

    func read(_ key: String, into target: inout Bool) {
        guard let e = member(key) else { return }
        let v = Self.convert(e.value, KeyPath.member(path, key), e.line, diagnostics, expected: "a boolean") { value, _ in
            if case .bool(let b) = value { return b }
            return nil
        }
        if let v { target = v }
    }

    /// A closed set of string values (`worker_class: sync|gthread|gevent`).
    func read<E: RawRepresentable & CaseIterable>(_ key: String, into target: inout E) where E.RawValue == String {
        guard let e = member(key) else { return }
        if let v = Self.choice(E.self, e.value, KeyPath.member(path, key), e.line, diagnostics) { target = v }
    }

    /// A list of strings; `check` returns a message for a bad element (reported with its index).
    func read(_ key: String, into target: inout [String], minCount: Int = 0,
              check: ((String) -> String?)? = nil) {
        guard let items = elements(key) else { return }
        var result: [String] = []
        for (itemPath, node) in items {
            guard let v = Self.string(node, itemPath, node.line, diagnostics) else { continue }
            if let problem = check?(v) { report(itemPath, node.line, problem); continue }
            result.append(v)
        }
        if items.count < minCount { report(KeyPath.member(path, key), member(key)?.line ?? line, "needs at least \(minCount) item(s)") }
        target = result
    }

    func read<E: RawRepresentable & CaseIterable>(_ key: String, into target: inout [E], minCount: Int = 0)
    where E.RawValue == String {
        guard let items = elements(key) else { return }
        target = items.compactMap { Self.choice(E.self, $0.node, $0.path, $0.node.line, diagnostics) }
        if items.count < minCount { report(KeyPath.member(path, key), member(key)?.line ?? line, "needs at least \(minCount) item(s)") }
    }

    func read(_ key: String, into target: inout [Int], min: Int? = nil, max: Int? = nil) {
        guard let items = elements(key) else { return }
        target = items.compactMap { Self.int($0.node, $0.path, $0.node.line, diagnostics, min: min, max: max) }
    }
}

// MARK: - Scalar conversion

extension ConfigObjectReader {
    /// Converts a scalar, reporting "expected X, found Y" on mismatch. A substituted scalar
    /// is typed by its text, so `${PORT}` reads as an integer where one is expected.
    static func convert<T>(_ node: ConfigNode, _ path: String, _ line: Int, _ diagnostics: ConfigDiagnostics,
                           expected: String, _ transform: (ScalarValue, ConfigScalar) -> T?) -> T? {
        guard case .scalar(let scalar) = node else {
            diagnostics.add(path: path, line: line, "expected \(expected), found \(node.kindDescription)")
            return nil
        }
        if scalar.value == .unresolved { return nil }
        let value = scalar.substituted ? ConfigTreeBuilder.resolve(plainText: scalar.text) : scalar.value
        if let result = transform(value, scalar) { return result }
        diagnostics.add(path: path, line: line, "expected \(expected), found \(scalar.value.kindDescription)")
        return nil
    }

    static func string(_ node: ConfigNode, _ path: String, _ line: Int, _ diagnostics: ConfigDiagnostics) -> String? {
        convert(node, path, line, diagnostics, expected: "a string") { value, scalar in
            if scalar.substituted { return scalar.text }
            if case .string(let s) = value { return s }
            return nil
        }
    }

    static func int(_ node: ConfigNode, _ path: String, _ line: Int, _ diagnostics: ConfigDiagnostics,
                    min: Int?, max: Int?) -> Int? {
        let v: Int? = convert(node, path, line, diagnostics, expected: "an integer") { value, _ in
            switch value {
            case .int(let i): return i
            case .float(let d) where d.rounded() == d && abs(d) < 1e15: return Int(d)
            default: return nil
            }
        }
        guard let v else { return nil }
        if let problem = rangeProblem(Double(v), min.map(Double.init), max.map(Double.init), "\(v)") {
            diagnostics.add(path: path, line: line, problem)
            return nil
        }
        return v
    }

    static func double(_ node: ConfigNode, _ path: String, _ line: Int, _ diagnostics: ConfigDiagnostics,
                       min: Double?, max: Double?) -> Double? {
        let v: Double? = convert(node, path, line, diagnostics, expected: "a number") { value, _ in
            switch value {
            case .int(let i): return Double(i)
            case .float(let d) where d.isFinite: return d
            default: return nil
            }
        }
        guard let v else { return nil }
        if let problem = rangeProblem(v, min, max, "\(v)") {
            diagnostics.add(path: path, line: line, problem)
            return nil
        }
        return v
    }

    static func choice<E: RawRepresentable & CaseIterable>(_ type: E.Type, _ node: ConfigNode, _ path: String,
                                                         _ line: Int, _ diagnostics: ConfigDiagnostics) -> E?
    where E.RawValue == String {
        guard let text = string(node, path, line, diagnostics) else { return nil }
        if let v = E(rawValue: text) { return v }
        let allowed = E.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: ", ")
        diagnostics.add(path: path, line: line, "\"\(text)\" is not one of \(allowed)")
        return nil
    }

    private static func rangeProblem(_ v: Double, _ min: Double?, _ max: Double?, _ shown: String) -> String? {
        func fmt(_ x: Double) -> String { x.rounded() == x ? String(Int(x)) : String(x) }
        switch (min, max) {
        case let (lo?, hi?) where v < lo || v > hi: return "must be between \(fmt(lo)) and \(fmt(hi)) (found \(shown))"
        case let (lo?, nil) where v < lo: return "must be at least \(fmt(lo)) (found \(shown))"
        case let (nil, hi?) where v > hi: return "must be at most \(fmt(hi)) (found \(shown))"
        default: return nil
        }
    }
}
