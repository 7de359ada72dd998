/// The `acme` section: directory paths and metadata, external account binding, CAA.
struct AcmeConfig: Sendable, Equatable {
    var paths = AcmePathsConfig()
    /// Directory `meta.website`.
    var websiteURL: String? = nil
    /// Directory `meta.caaIdentities`; also the names CAA records must allow (RFC 8659).
    var caaIdentities: [String] = []
    /// Directory `meta.externalAccountRequired` (RFC 8555 §7.3.4).
    var eabRequired: Bool = false
    /// An EAB key may bind more than one account.
    var eabReusable: Bool = false
    var caaEnforce: Bool = true
    var ordersPageSize: Int = 50
}

/// `acme.paths`: where the seven directory resources are served (below `api.base_path`).
struct AcmePathsConfig: Sendable, Equatable {
    var directory: String = "/directory"
    var newNonce: String = "/new-nonce"
    var newAccount: String = "/new-account"
    var newOrder: String = "/new-order"
    var newAuthz: String = "/new-authz"
    var revokeCert: String = "/revoke-cert"
    var keyChange: String = "/key-change"
}

extension AcmeConfig {
    init(reading r: ConfigObjectReader) {
        self.init()
        paths = AcmePathsConfig(reading: r.object("paths"))
        r.read("website_url", into: &websiteURL)
        r.read("caa_identities", into: &caaIdentities)
        r.read("eab_required", into: &eabRequired)
        r.read("eab_reusable", into: &eabReusable)
        r.read("caa_enforce", into: &caaEnforce)
        r.read("orders_page_size", into: &ordersPageSize, min: 1)
        r.finish()
    }
}

extension AcmePathsConfig {
    init(reading r: ConfigObjectReader) {
        self.init()
        r.read("directory", into: &directory)
        r.read("new_nonce", into: &newNonce)
        r.read("new_account", into: &newAccount)
        r.read("new_order", into: &newOrder)
        r.read("new_authz", into: &newAuthz)
        r.read("revoke_cert", into: &revokeCert)
        r.read("key_change", into: &keyChange)
        r.finish()
    }
}
