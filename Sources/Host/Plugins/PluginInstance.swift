#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Logging
import PluginAPI
import Synchronization

/// One live plugin instance (`create` … `destroy`), shared by the kind-specific wrappers.
///
/// Owns the host API table and the log bridge the plugin was given, runs every call on the
/// plugin thread pool with a deadline, and destroys the instance exactly once: on `close()`
/// after the calls in flight have returned, or on deinit.
final class PluginInstance: @unchecked Sendable {
    // @unchecked: `handle`, `hostAPI` and `bridge` are immutable pointers whose targets are
    // only touched by the plugin (thread-safe by ABI rule) and by `destroyIfNeeded`, which
    // runs once under `state`'s lock after the last call returned.

    enum Lifecycle: String, Sendable { case active, closing, closed }

    let library: PluginLibrary
    /// The config key that named the plugin (`ca.backend`, `challenges.enabled[1]`).
    let configKey: String
    /// The config subtree the instance was created from (`ca.internal`), as given to `create`.
    let configPath: String
    /// Challenge validators: the type passed to `create`.
    let challengeType: String?
    let pool: PluginThreadPool
    /// `PluginError.source` of this instance's errors.
    let source: String

    private let handle: UnsafeMutableRawPointer?
    private let hostAPI: UnsafeMutablePointer<acmeeh_host_api>
    private let bridge: Unmanaged<HostLogBridge>
    private let state = Mutex<(lifecycle: Lifecycle, inFlight: Int)>((.active, 0))

    private init(
        library: PluginLibrary, configKey: String, configPath: String, challengeType: String?,
        pool: PluginThreadPool, handle: UnsafeMutableRawPointer?,
        hostAPI: UnsafeMutablePointer<acmeeh_host_api>, bridge: Unmanaged<HostLogBridge>
    ) {
        self.library = library
        self.configKey = configKey
        self.configPath = configPath
        self.challengeType = challengeType
        self.pool = pool
        self.handle = handle
        self.hostAPI = hostAPI
        self.bridge = bridge
        self.source = "\(library.name) (\(configKey))"
    }

    deinit {
        // No call can be in flight: each one holds a strong reference.
        destroyIfNeeded(force: true)
    }

    var lifecycle: Lifecycle { state.withLock { $0.lifecycle } }

    /// How long `create` may take (reading keys, probing a backend).
    static let createTimeout: Duration = .seconds(30)

    /// Calls the descriptor's `create` on the pool. `logger` becomes the plugin's log
    /// (metadata `plugin` and `config` are added).
    static func create(
        library: PluginLibrary, configKey: String, configPath: String, configJSON: String,
        challengeType: String?, pool: PluginThreadPool, logger: Logger
    ) async throws(PluginLoadError) -> PluginInstance {
        @Sendable func fail(_ cause: String) -> PluginLoadError { PluginLoadError(configKey: configKey, path: library.path, cause: cause) }
        var logger = logger
        logger[metadataKey: "plugin"] = "\(library.name)"
        logger[metadataKey: "config"] = "\(configPath)"
        let bridgeLogger = logger

        let outcome: Result<PluginInstance, PluginLoadError>
        do {
            outcome = try await pool.run { () -> Result<PluginInstance, PluginLoadError> in
                let bridge = Unmanaged.passRetained(HostLogBridge(logger: bridgeLogger))
                let hostAPI = UnsafeMutablePointer<acmeeh_host_api>.allocate(capacity: 1)
                hostAPI.initialize(to: acmeeh_host_api(
                    struct_size: UInt32(MemoryLayout<acmeeh_host_api>.size),
                    abi_version: HostABI.version,
                    ctx: bridge.toOpaque(),
                    log: HostLogBridge.callback))
                func release() {
                    hostAPI.deinitialize(count: 1)
                    hostAPI.deallocate()
                    bridge.release()
                }

                var error = acmeeh_error.empty()
                var instance: UnsafeMutableRawPointer? = nil
                let status = withCStrings([configJSON.isEmpty ? "{}" : configJSON, configPath, challengeType]) { strings in
                    var params = acmeeh_create_params(
                        struct_size: UInt32(MemoryLayout<acmeeh_create_params>.size),
                        host: UnsafePointer(hostAPI),
                        config_json: strings[0], config_path: strings[1], challenge_type: strings[2],
                        deadline_ms: MonotonicClock.deadline(after: Self.createTimeout))
                    return library.descriptor.create!(&params, &instance, &error)
                }
                switch status {
                case ACMEEH_STATUS_OK:
                    return .success(PluginInstance(
                        library: library, configKey: configKey, configPath: configPath,
                        challengeType: challengeType, pool: pool, handle: instance,
                        hostAPI: hostAPI, bridge: bridge))
                case ACMEEH_STATUS_ERROR:
                    // The ABI says *instance stays NULL on failure; nothing to destroy.
                    release()
                    var copy = error
                    let detail = withUnsafeBytes(of: &copy.detail) { boundedString($0) }
                    return .failure(fail(detail.isEmpty
                        ? "create() failed without detail (code \(error.code))"
                        : "create() failed: \(detail)"))
                default:
                    if let instance { library.descriptor.destroy!(instance) }
                    release()
                    return .failure(fail("create() returned unknown status \(status)"))
                }
            }
        } catch {
            throw fail("create() was not run: \(error)")
        }
        return try outcome.get()
    }

    /// Runs one plugin call on the pool. The deadline is taken now (queueing time counts
    /// against it); a call that would start after its deadline is not made.
    func call<T: Sendable>(
        _ operation: String, timeout: Duration,
        _ body: @escaping @Sendable (_ descriptor: acmeeh_plugin_descriptor, _ instance: UnsafeMutableRawPointer?, _ deadlineMs: Int64) -> Result<T, PluginError>
    ) async throws(PluginError) -> T {
        let deadline = MonotonicClock.deadline(after: timeout)
        let source = self.source
        let result: Result<T, PluginError>
        do {
            result = try await pool.run { () -> Result<T, PluginError> in
                guard self.begin() else {
                    return .failure(PluginError(
                        code: .unavailable, retryable: true,
                        detail: "\(operation): plugin instance is closed", source: source))
                }
                defer { self.end() }
                guard MonotonicClock.nowMilliseconds() < deadline else {
                    return .failure(PluginError(
                        code: .deadline, retryable: true,
                        detail: "\(operation): deadline passed before the plugin was called", source: source))
                }
                return body(self.library.descriptor, self.handle, deadline)
            }
        } catch is CancellationError {
            throw PluginError(code: .deadline, retryable: true, detail: "\(operation): cancelled before the plugin was called", source: source)
        } catch {
            throw PluginError(code: .unavailable, retryable: true, detail: "\(operation): plugin thread pool is not running (\(error))", source: source)
        }
        return try result.get()
    }

    /// Stops accepting calls and destroys the instance on the pool once the calls in flight
    /// have returned (the last one to finish destroys it).
    func close() async {
        let destroyNow = state.withLock { state -> Bool in
            guard state.lifecycle == .active else { return false }
            state.lifecycle = .closing
            return state.inFlight == 0
        }
        guard destroyNow else { return }
        do {
            try await pool.run { self.destroyIfNeeded(force: false) }
        } catch {
            destroyIfNeeded(force: false)
        }
    }

    private func begin() -> Bool {
        state.withLock { state in
            guard state.lifecycle == .active else { return false }
            state.inFlight += 1
            return true
        }
    }

    private func end() {
        let last = state.withLock { state -> Bool in
            state.inFlight -= 1
            return state.inFlight == 0 && state.lifecycle == .closing
        }
        if last { destroyIfNeeded(force: false) }
    }

    private func destroyIfNeeded(force: Bool) {
        let destroy = state.withLock { state -> Bool in
            guard state.lifecycle != .closed, force || state.inFlight == 0 else { return false }
            state.lifecycle = .closed
            return true
        }
        guard destroy else { return }
        if let handle { library.descriptor.destroy!(handle) }
        hostAPI.deinitialize(count: 1)
        hostAPI.deallocate()
        bridge.release()
    }

    // MARK: - helpers for the kind wrappers

    /// Maps the status of a call without outputs (revoke, self_check, validate, deliver).
    func plainOutcome(_ status: Int32, _ error: acmeeh_error, operation: String) -> Result<Void, PluginError> {
        switch status {
        case ACMEEH_STATUS_OK: .success(())
        case ACMEEH_STATUS_ERROR: .failure(error.pluginError(source: source, operation: operation))
        default: .failure(.contractViolation("\(operation) returned unknown status \(status)", source: source))
        }
    }
}
