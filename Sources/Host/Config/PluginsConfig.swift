/// The `plugins` section (acmeeh's own): where plugin shared libraries are looked up.
struct PluginsConfig: Sendable, Equatable {
    /// nil: the directory of the `acmeeh` executable.
    var directory: String? = nil
}

extension PluginsConfig {
    init(reading r: ConfigObjectReader) {
        self.init()
        r.read("directory", into: &directory)
        r.finish()
    }
}
