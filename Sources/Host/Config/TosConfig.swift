/// The `tos` section: terms of service (directory `meta.termsOfService`, RFC 8555 §7.1.1).
struct TosConfig: Sendable, Equatable {
    var url: String? = nil
    /// newAccount must carry `termsOfServiceAgreed: true`.
    var requireAgreement: Bool = false
}

extension TosConfig {
    init(reading r: ConfigObjectReader) {
        self.init()
        r.read("url", into: &url)
        r.read("require_agreement", into: &requireAgreement)
        r.finish()
    }
}
