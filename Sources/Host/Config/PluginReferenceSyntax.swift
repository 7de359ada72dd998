/// Checks the `ext:NAME_OR_PATH` form that names a plugin shared library in
/// `ca.backend`, `ca.failover` and `challenges.enabled`.
///
/// The reference (Python) used `ext:package.module.Class`; such a value cannot name a
/// shared library, so it is refused with a message that says what to write instead.
enum PluginReferenceSyntax {
    static let prefix = "ext:"

    /// The library name or path after `ext:`, or a problem description.
    static func parse(_ value: String) -> Result<String, Problem> {
        let target = String(value.dropFirst(prefix.count))
        if target.isEmpty {
            return .failure(Problem("\"\(value)\": `ext:` needs a plugin library name or path (ext:NAME or ext:/path/libNAME.so)"))
        }
        if looksLikePythonClassPath(target) {
            return .failure(Problem("\"\(value)\" looks like a Python class path; acmeeh expects a shared-library plugin "
                + "(ext:NAME for libNAME.so in the plugin directory, or ext:/path/to/libNAME.so), not a Python class"))
        }
        return .success(target)
    }

    /// `pkg.module.Class`: dots, no slash, and not a `.so` file name.
    static func looksLikePythonClassPath(_ target: String) -> Bool {
        target.contains(".") && !target.contains("/") && !target.hasSuffix(".so") && !target.contains(".so.")
    }

    /// Why a plugin reference (or backend/challenge name) was refused, ready to show.
    struct Problem: Error, Equatable {
        var message: String
        init(_ message: String) { self.message = message }
    }
}
