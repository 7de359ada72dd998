/// Applies `ConfigKeyCatalog` to a loaded file: a refused key whose value matches is a
/// problem (file, line, key path, why); a key without effect becomes a startup warning.
struct ConfigKeyPolicy {
    let config: AppConfig
    let diagnostics: ConfigDiagnostics

    /// One key present in the file.
    private struct Leaf {
        var path: String
        var schemaPath: String
        var line: Int
        var value: ConfigNode
    }

    func run() -> [ConfigWarning] {
        var warnings: [ConfigWarning] = []
        for leaf in Self.leaves(of: config.document) {
            guard let key = ConfigKeyCatalog.byPath[leaf.schemaPath] else { continue }
            switch key.status {
            case .works:
                continue
            case let .refused(why, when) where Self.matches(when, leaf.value):
                diagnostics.add(path: leaf.path, line: leaf.line, "\(Self.shown(leaf.value)) is refused: \(why)")
            case let .noEffect(why, when) where Self.matches(when, leaf.value):
                warnings.append(warning(leaf.line, "\(leaf.path) has no effect: \(why)"))
            default:
                continue
            }
        }
        if let unread = unreadPluginKeys() { warnings.append(unread) }
        if !config.challenges.backgroundWorker.enabled {
            warnings.append(warning(config.document.keyLine(at: "challenges.background_worker.enabled"),
                                    "challenges.background_worker.enabled is false: this instance never runs the "
                                        + "challenge worker; validations outside the request (auto_validate: false) and "
                                        + "retries wait for an instance that runs it"))
        }
        return warnings.sorted { $0.line < $1.line }
    }

    private func warning(_ line: Int, _ message: String) -> ConfigWarning {
        ConfigWarning(file: diagnostics.source, line: line, message: message)
    }

    /// `ca` keys acmeeh does not define reach only an `ext:` CA plugin.
    private func unreadPluginKeys() -> ConfigWarning? {
        let ca = config.ca
        let usesPlugin = ([ca.backend] + ca.failover).contains { if case .plugin = $0 { true } else { false } }
        guard !usesPlugin, let first = ca.pluginKeys.first else { return nil }
        let keys = ca.pluginKeys.map { "ca.\($0)" }.joined(separator: ", ")
        return warning(config.document.keyLine(at: "ca.\(first)"),
                       "\(keys) \(ca.pluginKeys.count == 1 ? "has" : "have") no effect: only an ext: CA plugin reads "
                           + "ca keys acmeeh does not define, and ca.backend is \(ca.backend)")
    }

    /// Every mapping entry of the document, depth first, with its schema path.
    private static func leaves(of node: ConfigNode, path: String = "", schemaPath: String = "") -> [Leaf] {
        switch node {
        case .mapping(let entries, _):
            return entries.flatMap { entry -> [Leaf] in
                let childSchema = ConfigKeyCatalog.freeNameParents.contains(schemaPath) ? "<name>" : entry.key
                let leaf = Leaf(path: KeyPath.member(path, entry.key),
                                schemaPath: KeyPath.member(schemaPath, childSchema), line: entry.line, value: entry.value)
                return [leaf] + leaves(of: entry.value, path: leaf.path, schemaPath: leaf.schemaPath)
            }
        case .sequence(let items, _):
            return items.enumerated().flatMap {
                leaves(of: $0.element, path: KeyPath.element(path, $0.offset), schemaPath: schemaPath + "[]")
            }
        case .scalar:
            return []
        }
    }

    private static func value(_ s: ConfigScalar) -> ScalarValue {
        s.substituted ? ConfigTreeBuilder.resolve(plainText: s.text) : s.value
    }

    private static func matches(_ trigger: ConfigTrigger, _ node: ConfigNode) -> Bool {
        switch node {
        case .scalar(let s): return trigger.matches(value(s))
        case .mapping(let entries, _): return trigger == .set && !entries.isEmpty
        case .sequence(let items, _): return trigger == .set && !items.isEmpty
        }
    }

    private static func shown(_ node: ConfigNode) -> String {
        guard case .scalar(let s) = node else { return "this value" }
        if case .string = value(s) { return "\"\(s.text)\"" }
        return s.text
    }
}
