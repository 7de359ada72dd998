import Logging
import Synchronization

/// The plugins this process loaded, with their instances: the one place the rest of the
/// host asks for a CA, a validator or a notifier, and what `acmeeh plugins list` prints.
final class PluginRegistry: Sendable {
    /// One row of `acmeeh plugins list`.
    struct Entry: Sendable, Equatable {
        enum State: Sendable, Equatable, CustomStringConvertible {
            /// An instance is running.
            case active
            /// The instance was closed.
            case closed
            /// Loading or creating failed with this message.
            case failed(String)

            var description: String {
                switch self {
                case .active: "active"
                case .closed: "closed"
                case .failed(let message): "failed: \(message)"
                }
            }
        }

        var kind: PluginKind
        /// The descriptor's name; nil when loading failed before it was read.
        var name: String?
        var pluginVersion: String?
        /// "major.minor" the plugin was built against.
        var abiVersion: String?
        var path: String?
        var configKey: String
        var configPath: String
        var state: State
    }

    private enum Record: Sendable {
        case instance(PluginInstance, kind: PluginKind)
        case failure(Entry)
    }

    let threadPool: PluginThreadPool
    private let makeLogger: @Sendable (_ label: String) -> Logger
    private let records = Mutex<[Record]>([])

    /// `makeLogger` builds the logger of each instance from a label
    /// `acmeeh.plugin.<configPath>`; tests pass a capturing one.
    init(threadPool: PluginThreadPool, makeLogger: @escaping @Sendable (String) -> Logger = { Logger(label: $0) }) {
        self.threadPool = threadPool
        self.makeLogger = makeLogger
    }

    /// The CA named by `ca.backend` (`internal`, `external`, `ext:...`), created with the
    /// config subtree `configJSON` found at `configPath` (e.g. `ca.internal`).
    func loadCA(
        backend: String, configKey: String = "ca.backend", directory: String,
        configJSON: String = "{}", configPath: String
    ) async throws(PluginLoadError) -> CAPluginInstance {
        let instance = try await load(kind: .ca, configKey: configKey, configPath: configPath, configJSON: configJSON) { () throws(PluginLoadError) in
            (try PluginReference.caLibrary(backend, configKey: configKey, directory: directory), nil)
        }
        return CAPluginInstance(instance)
    }

    /// The validator for one `challenges.enabled[i]` entry (`http-01`, `dns-01`,
    /// `dns-persist-01`, `tls-alpn-01`, `ext:...`); `configKey` is `challenges.enabled[i]`.
    /// `challengeType` picks one of the types an `ext:` plugin declares (default: its first).
    func loadChallenge(
        entry: String, configKey: String, directory: String,
        configJSON: String = "{}", configPath: String, challengeType: String? = nil
    ) async throws(PluginLoadError) -> ChallengePluginInstance {
        let instance = try await load(kind: .challenge, configKey: configKey, configPath: configPath, configJSON: configJSON) { () throws(PluginLoadError) in
            let resolved = try PluginReference.challengeLibrary(entry, configKey: configKey, directory: directory)
            return (resolved.path, resolved.challengeType ?? challengeType)
        }
        return ChallengePluginInstance(instance)
    }

    /// Every validator one `challenges.enabled[i]` entry stands for: the built-in type, or
    /// one instance per challenge type an `ext:` plugin declares.
    func loadChallenges(
        entry: String, configKey: String, directory: String,
        configJSON: String = "{}", configPath: String
    ) async throws(PluginLoadError) -> [ChallengePluginInstance] {
        let first = try await loadChallenge(entry: entry, configKey: configKey, directory: directory,
                                            configJSON: configJSON, configPath: configPath)
        var all = [first]
        let served = Set(first.challengeTypes.map(\.challengeType))
        for type in first.declaredChallengeTypes.map(\.challengeType) where !served.contains(type) {
            all.append(try await loadChallenge(entry: entry, configKey: configKey, directory: directory,
                                               configJSON: configJSON, configPath: configPath, challengeType: type))
        }
        return all
    }

    /// A notifier (`smtp`, `webhook`, `ext:...`).
    func loadNotifier(
        reference: String, configKey: String, directory: String,
        configJSON: String = "{}", configPath: String
    ) async throws(PluginLoadError) -> NotifierPluginInstance {
        let instance = try await load(kind: .notifier, configKey: configKey, configPath: configPath, configJSON: configJSON) { () throws(PluginLoadError) in
            (try PluginReference.notifierLibrary(reference, configKey: configKey, directory: directory), nil)
        }
        return NotifierPluginInstance(instance)
    }

    /// Every plugin this registry loaded or failed to load, in order.
    func entries() -> [Entry] {
        records.withLock { $0 }.map { record in
            switch record {
            case .failure(let entry):
                return entry
            case .instance(let instance, let kind):
                let library = instance.library
                return Entry(
                    kind: kind, name: library.name, pluginVersion: library.version,
                    abiVersion: library.abiVersionText, path: library.path,
                    configKey: instance.configKey, configPath: instance.configPath,
                    state: instance.lifecycle == .active ? .active : .closed)
            }
        }
    }

    /// The entries as an aligned text table.
    func formattedTable() -> String {
        let header = ["KIND", "NAME", "VERSION", "ABI", "CONFIG KEY", "PATH", "STATE"]
        let rows = entries().map { entry in
            [entry.kind.rawValue, entry.name ?? "-", entry.pluginVersion ?? "-", entry.abiVersion ?? "-",
             entry.configKey, entry.path ?? "-", entry.state.description]
        }
        let widths = header.indices.map { column in ([header] + rows).map { $0[column].count }.max() ?? 0 }
        return ([header] + rows).map { row in
            row.enumerated().map { column, cell in
                column == row.count - 1 ? cell : cell.padding(to: widths[column])
            }.joined(separator: "  ")
        }.joined(separator: "\n")
    }

    /// Closes every instance (graceful shutdown); libraries stay loaded.
    func closeAll() async {
        let instances = records.withLock { $0 }.compactMap { record -> PluginInstance? in
            if case .instance(let instance, _) = record { return instance }
            return nil
        }
        for instance in instances { await instance.close() }
    }

    private func load(
        kind: PluginKind, configKey: String, configPath: String, configJSON: String,
        resolve: () throws(PluginLoadError) -> (path: String, challengeType: String?)
    ) async throws(PluginLoadError) -> PluginInstance {
        var path: String? = nil
        do throws(PluginLoadError) {
            let resolved = try resolve()
            path = resolved.path
            let library = try PluginLibrary.load(path: resolved.path, expecting: kind, configKey: configKey)
            var challengeType = resolved.challengeType
            if kind == .challenge {
                let declared = library.challengeTypes.map(\.challengeType)
                if let wanted = challengeType {
                    guard declared.contains(wanted) else {
                        throw PluginLoadError(
                            configKey: configKey, path: resolved.path,
                            cause: "\(library.name) does not serve \(wanted) (it declares \(declared.joined(separator: ", ")))")
                    }
                } else {
                    // ext: entries serve what the plugin declares; create gets the first type.
                    challengeType = declared.first
                }
            }
            let instance = try await PluginInstance.create(
                library: library, configKey: configKey, configPath: configPath, configJSON: configJSON,
                challengeType: challengeType, pool: threadPool,
                logger: makeLogger("acmeeh.plugin.\(configPath)"))
            records.withLock { $0.append(.instance(instance, kind: kind)) }
            return instance
        } catch {
            records.withLock {
                $0.append(.failure(Entry(
                    kind: kind, name: nil, pluginVersion: nil, abiVersion: nil, path: error.path ?? path,
                    configKey: configKey, configPath: configPath, state: .failed(error.description))))
            }
            throw error
        }
    }
}

extension String {
    fileprivate func padding(to width: Int) -> String {
        count >= width ? self : self + String(repeating: " ", count: width - count)
    }
}
