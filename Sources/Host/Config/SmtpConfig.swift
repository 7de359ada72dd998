import Foundation

/// The `smtp` section: the mail relay that delivers notifications.
struct SmtpConfig: Sendable, Equatable {
    var enabled: Bool = false
    var host: String = ""
    var port: Int = 587
    var username: String = ""
    var password: String = ""
    /// STARTTLS.
    var useTLS: Bool = true
    var fromAddress: String = ""
    var cc: [String] = []
    var bcc: [String] = []
    /// Directory of `<type>_subject.txt` / `<type>_body.html` overrides.
    var templatesPath: String? = nil
    var timeoutSeconds: Int = 30
    /// PEM bundle that verifies the mail server's certificate (ours; nil = system trust).
    var caFile: String? = nil

    /// The configuration of the `smtp` notifier plugin (Plugins/NotifierSMTP) as JSON.
    var pluginConfigJSON: String {
        var object: [String: Any] = ["host": host, "port": port, "use_tls": useTLS, "from_address": fromAddress,
                                     "cc": cc, "bcc": bcc, "timeout_seconds": timeoutSeconds]
        if !username.isEmpty { object["username"] = username }
        if !password.isEmpty { object["password"] = password }
        if let caFile { object["ca_file"] = caFile }
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self)
    }
}

extension SmtpConfig {
    init(reading r: ConfigObjectReader) {
        self.init()
        r.read("enabled", into: &enabled)
        r.read("host", into: &host)
        r.read("port", into: &port, min: 1, max: 65535)
        r.read("username", into: &username)
        r.read("password", into: &password)
        r.read("use_tls", into: &useTLS)
        r.read("from_address", into: &fromAddress)
        r.read("cc", into: &cc)
        r.read("bcc", into: &bcc)
        r.read("templates_path", into: &templatesPath)
        r.read("timeout_seconds", into: &timeoutSeconds, min: 1)
        r.read("ca_file", into: &caFile)
        r.finish()
    }
}
