/// A feature whose keys load before it is built. The file "uses" it when one of its keys is
/// set and its switch (`gate`) is on, and then startup warns once: "<name> is not active yet".
struct ConfigFeature: Sendable, Equatable {
    /// The section (or key) named in the warning.
    var name: String
    /// What is missing, for the warning and the docs.
    var what: String
    /// Where it is planned (docs/configuration.md).
    var plan: String
    /// The key that switches the feature on, and its default; nil = always on.
    var gate: String? = nil
    var gateDefault: Bool = false
}

extension ConfigFeature {
    static let adminAPI = ConfigFeature(name: "admin_api", what: "there is no admin API", plan: "issue 13",
                                        gate: "admin_api.enabled")
}
