import Logging

extension CoreServices {
    /// A new OCSP responder without a certificate yet (`ocsp.enabled`; nil when off). `serve`
    /// makes one per instance and keeps it for its lifetime.
    func makeOCSPResponder() -> OCSPResponder? {
        guard config.ocsp.enabled else { return nil }
        return OCSPResponder(config: config.ocsp, database: database, ca: ca, drawsSerial: issuance.drawsSerial,
                             timeout: pluginTimeout, logger: Logger(label: "acmeeh.ocsp"))
    }
}
