/// The labels of the `acmeeh_config` info gauge (always 1): what this process serves and
/// with which backends, for joining with other series in PromQL. No secrets, no hosts
/// of the database.
enum ConfigInfo {
    static func labels(_ config: AppConfig) -> [(String, String)] {
        [
            ("version", AcmeehVersion.string),
            ("external_url", config.server.externalURL),
            ("ca_backend", config.ca.backend.description),
            ("ca_failover", config.ca.failover.map(\.description).joined(separator: ",")),
            ("challenges", config.challenges.enabled.map(\.description).joined(separator: ",")),
        ]
    }
}
