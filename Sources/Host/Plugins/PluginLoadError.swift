/// Why a plugin named in the configuration could not be resolved, loaded or created.
///
/// Raised at startup (and by `acmeeh ca test-sign` / `plugins list`); the message always
/// names the config key, the library path (once known) and the cause, e.g.
/// `ca.backend: cannot load plugin /x/libFoo.so: file not found`.
struct PluginLoadError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The config key that named the plugin, e.g. `ca.backend` or `challenges.enabled[2]`.
    let configKey: String
    /// The library path, when resolution got that far.
    let path: String?
    /// What went wrong, without key and path.
    let cause: String

    var description: String {
        if let path {
            return "\(configKey): cannot load plugin \(path): \(cause)"
        }
        return "\(configKey): \(cause)"
    }
}
