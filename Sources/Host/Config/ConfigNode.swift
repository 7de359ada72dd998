/// A configuration value after `${VAR}` substitution, with the line it came from.
///
/// The loader keeps this tree next to the typed `AppConfig`, so the host can hand a
/// plugin its own subtree (`AppConfig.pluginConfigJSON(at:)`), including keys the
/// typed schema does not know (the open `ca` section).
enum ConfigNode: Sendable, Equatable {
    case scalar(ConfigScalar)
    case mapping([Entry], line: Int)
    case sequence([ConfigNode], line: Int)

    /// One `key: value` member of a mapping, in document order.
    struct Entry: Sendable, Equatable {
        var key: String
        var line: Int
        var value: ConfigNode
    }

    /// The line the value starts on (1-based).
    var line: Int {
        switch self {
        case .scalar(let s): return s.line
        case .mapping(_, let line), .sequence(_, let line): return line
        }
    }

    /// What kind of value this is, for error messages ("found a list").
    var kindDescription: String {
        switch self {
        case .scalar(let s): return s.value.kindDescription
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        }
    }

    /// The member `key` of a mapping, if this is a mapping that has it.
    subscript(key: String) -> ConfigNode? {
        guard case .mapping(let entries, _) = self else { return nil }
        return entries.first { $0.key == key }?.value
    }

    /// The node at a dotted key path (`"ca.internal"`), or nil.
    func node(at keyPath: String) -> ConfigNode? {
        var node: ConfigNode? = self
        for part in keyPath.split(separator: ".", omittingEmptySubsequences: true) {
            node = node?[String(part)]
        }
        return node
    }
}

/// A scalar leaf: its typed value as YAML resolves it, the text it was read from,
/// and whether an environment variable produced it.
struct ConfigScalar: Sendable, Equatable {
    var value: ScalarValue
    /// The scalar's text after substitution.
    var text: String
    var line: Int
    /// True when the text came (at least partly) from `${VAR}` substitution.
    var substituted: Bool = false
}

/// The typed value of a YAML scalar (YAML 1.1 core resolution, as PyYAML and Yams do).
enum ScalarValue: Sendable, Equatable {
    case null
    case bool(Bool)
    case int(Int)
    case float(Double)
    case string(String)
    /// Substitution failed; the problem is already reported, so readers stay quiet.
    case unresolved

    var kindDescription: String {
        switch self {
        case .null: return "null"
        case .bool: return "a boolean"
        case .int: return "an integer"
        case .float: return "a number"
        case .string(let s): return "a string (\"\(s)\")"
        case .unresolved: return "an unresolved value"
        }
    }
}
