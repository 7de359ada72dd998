/// What differs between two loaded configuration documents, key by key.
enum ConfigChanges {
    /// The key paths (`server.port`, `challenges.enabled[1]`) whose value was added,
    /// removed or changed from `old` to `new`, sorted. Values compare as the text they were
    /// read from after `${VAR}` substitution.
    static func changedKeys(from old: ConfigNode, to new: ConfigNode) -> [String] {
        let before = scalars(of: old), after = scalars(of: new)
        return Set(before.keys).union(after.keys).filter { before[$0] != after[$0] }.sorted()
    }

    /// The changed keys that SIGHUP does not reload: they take effect at the next restart.
    static func restartOnly(from old: ConfigNode, to new: ConfigNode) -> [String] {
        changedKeys(from: old, to: new).filter { !ConfigKeyCatalog.isReloadable($0) }
    }

    /// Every scalar leaf of a document by key path; an empty mapping or list counts as a leaf.
    private static func scalars(of node: ConfigNode, path: String = "") -> [String: String] {
        switch node {
        case .scalar(let scalar):
            return [path: scalar.text]
        case .mapping(let entries, _):
            if entries.isEmpty { return [path: "{}"] }
            return entries.reduce(into: [:]) { result, entry in
                result.merge(scalars(of: entry.value, path: KeyPath.member(path, entry.key))) { first, _ in first }
            }
        case .sequence(let items, _):
            if items.isEmpty { return [path: "[]"] }
            return items.enumerated().reduce(into: [:]) { result, item in
                result.merge(scalars(of: item.element, path: KeyPath.element(path, item.offset))) { first, _ in first }
            }
        }
    }
}
