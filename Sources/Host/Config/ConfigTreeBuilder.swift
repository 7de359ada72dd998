import Yams

/// Turns the Yams node tree into a `ConfigNode` tree: substitutes `${VAR}` in every
/// scalar, types scalars as YAML does, applies `<<` merge keys and keeps line numbers.
struct ConfigTreeBuilder {
    let environment: [String: String]
    let diagnostics: ConfigDiagnostics

    /// `substitute` is false inside `_comment` values: comments are prose, not settings.
    func build(_ node: Node, path: String, substitute: Bool = true) -> ConfigNode {
        switch node {
        case .scalar(let scalar):
            return .scalar(buildScalar(scalar, path: path, substitute: substitute))
        case .sequence(let sequence):
            let items = sequence.enumerated().map {
                build($0.element, path: KeyPath.element(path, $0.offset), substitute: substitute)
            }
            return .sequence(items, line: line(of: node))
        case .mapping(let mapping):
            return .mapping(buildEntries(mapping, path: path, substitute: substitute), line: line(of: node))
        case .alias:
            // Yams resolves aliases while composing; an unresolved one cannot reach here.
            diagnostics.add(path: path, line: line(of: node), "unresolved YAML alias")
            return .scalar(ConfigScalar(value: .unresolved, text: "", line: line(of: node)))
        }
    }

    private func buildEntries(_ mapping: Node.Mapping, path: String, substitute: Bool) -> [ConfigNode.Entry] {
        var entries: [ConfigNode.Entry] = []
        var merged: [ConfigNode.Entry] = []
        for (keyNode, valueNode) in mapping {
            let keyLine = line(of: keyNode)
            guard case .scalar(let keyScalar) = keyNode else {
                diagnostics.add(path: path, line: keyLine, "mapping keys must be plain strings")
                continue
            }
            if keyScalar.string == "<<", keyNode.tag.rawValue == Tag.Name.merge.rawValue {
                merged += mergeSources(valueNode, path: path)
                continue
            }
            let key = keyScalar.string
            let value = build(valueNode, path: KeyPath.member(path, key), substitute: substitute && key != "_comment")
            entries.append(.init(key: key, line: keyLine, value: value))
        }
        // YAML merge keys: explicit members win over merged ones.
        for entry in merged where !entries.contains(where: { $0.key == entry.key }) {
            entries.append(entry)
        }
        return entries
    }

    private func mergeSources(_ node: Node, path: String) -> [ConfigNode.Entry] {
        switch build(node, path: path) {
        case .mapping(let entries, _):
            return entries
        case .sequence(let items, _):
            return items.flatMap { item -> [ConfigNode.Entry] in
                if case .mapping(let entries, _) = item { return entries }
                return []
            }
        default:
            diagnostics.add(path: path, line: line(of: node), "a `<<` merge key needs a mapping")
            return []
        }
    }

    private func buildScalar(_ scalar: Node.Scalar, path: String, substitute: Bool) -> ConfigScalar {
        let line = scalar.mark?.line ?? 1
        guard substitute else {
            return ConfigScalar(value: Self.typedValue(of: .scalar(scalar)), text: scalar.string, line: line)
        }
        let result = EnvironmentSubstitution.substitute(scalar.string, environment: environment)
        for name in result.missing {
            diagnostics.add(path: path, line: line,
                            "environment variable \(name) is not set and has no default (write ${\(name):-default} to give one)")
        }
        if !result.missing.isEmpty {
            return ConfigScalar(value: .unresolved, text: scalar.string, line: line, substituted: true)
        }
        guard result.substituted else {
            return ConfigScalar(value: Self.typedValue(of: .scalar(scalar)), text: scalar.string, line: line)
        }
        // A substituted plain scalar is typed by its new text (`port: ${P:-5432}` → 5432);
        // quoted ones stay strings. An empty result stays the empty string, not null.
        let plain = scalar.style == .plain || scalar.style == .any
        let value: ScalarValue
        // Yams tags untagged plain scalars `.implicit`; `!!str` or quotes keep a string.
        if plain, scalar.tag.rawValue == Tag.Name.implicit.rawValue, !result.text.isEmpty {
            value = Self.resolve(plainText: result.text)
        } else {
            value = .string(result.text)
        }
        return ConfigScalar(value: value, text: result.text, line: line, substituted: true)
    }

    /// Types `text` as an untagged plain YAML scalar would be typed.
    static func resolve(plainText text: String) -> ScalarValue {
        typedValue(of: Node(text))
    }

    static func typedValue(of node: Node) -> ScalarValue {
        let text = node.scalar?.string ?? ""
        switch node.tag.rawValue {
        case Tag.Name.null.rawValue: return .null
        case Tag.Name.bool.rawValue: return node.bool.map(ScalarValue.bool) ?? .string(text)
        case Tag.Name.int.rawValue: return node.int.map(ScalarValue.int) ?? .string(text)
        case Tag.Name.float.rawValue: return node.float.map(ScalarValue.float) ?? .string(text)
        default: return .string(text)
        }
    }

    private func line(of node: Node) -> Int {
        node.mark?.line ?? 1
    }
}
