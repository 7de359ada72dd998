/// The `admin_api` section: the admin REST API (users, EAB keys, allowlists, CSR profiles).
struct AdminAPIConfig: Sendable, Equatable {
    var enabled: Bool = false
    /// Must differ from `api.base_path`.
    var basePath: String = "/api"
    /// Key that signs admin tokens; at least 16 characters when enabled.
    var tokenSecret: String = ""
    var tokenExpirySeconds: Int = 3600
    /// Address of the bootstrap `admin` user.
    var initialAdminEmail: String = ""
    /// Length of generated passwords.
    var passwordLength: Int = 20
    var defaultPageSize: Int = 50
    var maxPageSize: Int = 1000
    /// A listener of its own (`bind`/`port`); nil: the admin API shares the ACME listener.
    var port: Int? = nil
    /// The address of that listener (127.0.0.1 unless set).
    var bind: String = "127.0.0.1"
}

extension AdminAPIConfig {
    init(reading r: ConfigObjectReader) {
        self.init()
        r.read("enabled", into: &enabled)
        r.read("base_path", into: &basePath)
        r.read("token_secret", into: &tokenSecret)
        r.read("token_expiry_seconds", into: &tokenExpirySeconds, min: 1)
        r.read("initial_admin_email", into: &initialAdminEmail)
        r.read("password_length", into: &passwordLength, min: 1)
        r.read("default_page_size", into: &defaultPageSize, min: 1)
        r.read("max_page_size", into: &maxPageSize, min: 1)
        r.read("port", into: &port, min: 1, max: 65535)
        r.read("bind", into: &bind)
        r.finish()
    }
}
