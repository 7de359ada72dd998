/// The `ocsp` section (ours: the reference has no OCSP): the RFC 6960 responder that
/// answers for the primary CA backend's certificates with a delegated responder
/// certificate, which each instance has the CA issue for a key it keeps in memory.
struct OcspConfig: Sendable, Equatable {
    var enabled: Bool = false
    /// Where POST requests go and GET requests (`path/{base64}`) begin.
    var path: String = "/ocsp"
    /// Lifetime of the responder certificate the CA issues.
    var responderValidityDays: Int = 7
    /// The responder certificate is re-issued when it expires within this many days.
    var renewBeforeDays: Int = 2
    /// nextUpdate of each response = thisUpdate + this (how long a client may cache it).
    var nextUpdateSeconds: Int = 3600
}

extension OcspConfig {
    init(reading r: ConfigObjectReader) {
        self.init()
        r.read("enabled", into: &enabled)
        r.read("path", into: &path)
        r.read("responder_validity_days", into: &responderValidityDays, min: 1, max: 366)
        r.read("renew_before_days", into: &renewBeforeDays, min: 0, max: 365)
        r.read("next_update_seconds", into: &nextUpdateSeconds, min: 60, max: 7 * 86400)
        if let entry = r.member("path"), !path.hasPrefix("/") || path.count < 2 || path.hasSuffix("/") {
            r.report("ocsp.path", entry.line, "\"\(path)\" must start with \"/\", be more than \"/\" and not end with \"/\"")
        }
        if renewBeforeDays >= responderValidityDays, let entry = r.member("renew_before_days") ?? r.member("responder_validity_days") {
            r.report("ocsp.renew_before_days", entry.line,
                     "must be less than ocsp.responder_validity_days (\(responderValidityDays)), or the responder certificate is renewed forever")
        }
        r.finish()
    }
}

extension AppConfig {
    /// The responder's URL for the AIA extension of issued certificates (RFC 5280
    /// §4.2.2.1, id-ad-ocsp): `server.external_url` + `ocsp.path`; nil while OCSP is off.
    var ocspResponderURL: String? {
        ocsp.enabled ? server.externalURL + ocsp.path : nil
    }
}
