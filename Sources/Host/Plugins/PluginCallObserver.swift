/// Told how long each CA signing attempt and each challenge validation took, and how each
/// revocation forwarded to a CA backend ended (the metrics record them). Called on the caller's task after the plugin answered: must not block.
struct PluginCallObserver: Sendable {
    /// One backend's sign call: its `ca.backend`/`ca.failover` name, the time, and whether it threw.
    var caSigned: @Sendable (_ backend: String, _ duration: Duration, _ failed: Bool) -> Void = { _, _, _ in }
    /// One validation attempt of a challenge type, whatever its outcome.
    var validated: @Sendable (_ challengeType: String, _ duration: Duration) -> Void = { _, _ in }
    /// A revocation settled at its backend: confirmed (`delivered`), or refused for good.
    /// Failed attempts that will be retried are not reported.
    var caRevocationSettled: @Sendable (_ backend: String, _ delivered: Bool) -> Void = { _, _ in }

    /// Observes nothing.
    static let none = PluginCallObserver()
}
