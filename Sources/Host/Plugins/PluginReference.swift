#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Turns the plugin names written in the configuration (`ca.backend: internal`,
/// `challenges.enabled: [http-01, ext:MyDNS]`) into library paths.
///
/// Built-in names map to the libraries this package builds; `ext:NAME` means `libNAME.so`
/// (or `NAME` when it already ends in `.so`) in the plugin directory; `ext:` followed by
/// something containing a `/` is a path used as written.
enum PluginReference {
    static let environmentVariable = "ACMEEH_PLUGIN_DIR"

    /// The plugin directory: `plugins.directory` from the config when given, else
    /// `$ACMEEH_PLUGIN_DIR`, else the directory of the running executable (rule 7: SwiftPM
    /// puts `lib<Product>.so` next to it). Empty values count as absent.
    static func directory(configured: String?, environment: [String: String]? = nil) -> String {
        if let configured, !configured.isEmpty { return configured }
        let fromEnvironment: String? =
            if let environment { environment[environmentVariable] } else { getenv(environmentVariable).map { String(cString: $0) } }
        if let fromEnvironment, !fromEnvironment.isEmpty { return fromEnvironment }
        return executableDirectory() ?? "."
    }

    /// The directory holding `/proc/self/exe`'s target.
    static func executableDirectory() -> String? {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let count = readlink("/proc/self/exe", &buffer, Int(PATH_MAX))
        guard count > 0 else { return nil }
        let path = String(decoding: buffer[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        guard let slash = path.lastIndex(of: "/") else { return nil }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    /// The library for `ca.backend`: `internal`, `external` or `ext:...`.
    static func caLibrary(_ backend: String, configKey: String, directory: String) throws(PluginLoadError) -> String {
        switch backend {
        case "internal": return join(directory, "libCAFile.so")
        case "external": return join(directory, "libCAExternal.so")
        default:
            if let path = try external(backend, configKey: configKey, directory: directory) { return path }
            throw PluginLoadError(
                configKey: configKey, path: nil,
                cause: "unknown CA backend \"\(backend)\" (expected internal, external or ext:NAME)")
        }
    }

    /// The built-in validator library of each challenge type.
    static let builtinChallengeLibraries: [String: String] = [
        "http-01": "libChallengeHTTP01.so",
        "dns-01": "libChallengeDNS01.so",
        "dns-persist-01": "libChallengeDNS01.so",
        "tls-alpn-01": "libChallengeTLSALPN.so",
    ]

    /// The library for one `challenges.enabled` entry, and the challenge type the instance is
    /// created for (nil for `ext:` entries: the plugin's own declared types decide).
    static func challengeLibrary(
        _ entry: String, configKey: String, directory: String
    ) throws(PluginLoadError) -> (path: String, challengeType: String?) {
        if let library = builtinChallengeLibraries[entry] {
            return (join(directory, library), entry)
        }
        if let path = try external(entry, configKey: configKey, directory: directory) { return (path, nil) }
        let known = builtinChallengeLibraries.keys.sorted().joined(separator: ", ")
        throw PluginLoadError(
            configKey: configKey, path: nil,
            cause: "unknown challenge type \"\(entry)\" (expected \(known) or ext:NAME)")
    }

    /// Built-in notifier channels (Plugins/Notifier*).
    static let builtinNotifierLibraries: [String: String] = [
        "smtp": "libNotifierSMTP.so",
        "webhook": "libNotifierWebhook.so",
    ]

    /// The library for a notifier reference: `smtp`, `webhook` or `ext:...`.
    static func notifierLibrary(_ reference: String, configKey: String, directory: String) throws(PluginLoadError) -> String {
        if let library = builtinNotifierLibraries[reference] { return join(directory, library) }
        if let path = try external(reference, configKey: configKey, directory: directory) { return path }
        throw PluginLoadError(
            configKey: configKey, path: nil,
            cause: "unknown notifier \"\(reference)\" (expected smtp, webhook or ext:NAME)")
    }

    /// `ext:NAME` → `<directory>/libNAME.so`; `ext:NAME.so` → `<directory>/NAME.so`;
    /// `ext:a/b.so` → `a/b.so`. Nil when `reference` does not start with `ext:`.
    static func external(_ reference: String, configKey: String, directory: String) throws(PluginLoadError) -> String? {
        guard reference.hasPrefix("ext:") else { return nil }
        let name = String(reference.dropFirst(4))
        guard !name.isEmpty else {
            throw PluginLoadError(configKey: configKey, path: nil, cause: "\"ext:\" needs a plugin name or path")
        }
        if name.contains("/") { return name }
        return join(directory, name.hasSuffix(".so") ? name : "lib\(name).so")
    }

    /// A path that always contains a `/`, so `dlopen` never searches the library path.
    static func join(_ directory: String, _ file: String) -> String {
        if directory.isEmpty { return "./" + file }
        return directory.hasSuffix("/") ? directory + file : directory + "/" + file
    }
}
