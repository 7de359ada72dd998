import CCurl
import PluginKit

/// libcurl is initialised once per process, when the first instance is created
/// (a Swift global is initialised exactly once, thread-safely, like pthread_once).
let curlGlobalInit: CURLcode = curl_global_init(3 /* CURL_GLOBAL_DEFAULT: SSL | WIN32 */)

/// The message libcurl uploads as DATA; read through an `Unmanaged` pointer.
private final class UploadSource {
    let bytes: [UInt8]
    var offset = 0
    init(_ bytes: [UInt8]) { self.bytes = bytes }
}

private let readMessage: acmeeh_curl_data_callback = { buffer, size, count, userdata in
    guard let buffer, let userdata else { return 0 }
    let source = Unmanaged<UploadSource>.fromOpaque(userdata).takeUnretainedValue()
    let length = min(size * count, source.bytes.count - source.offset)
    guard length > 0 else { return 0 }
    source.bytes.withUnsafeBytes { all in
        UnsafeMutableRawPointer(buffer).copyMemory(from: all.baseAddress! + source.offset, byteCount: length)
    }
    source.offset += length
    return length
}

/// One SMTP transaction (RFC 5321) per delivery, with its own libcurl easy handle:
/// TLS as `use_tls` says (verification always on), AUTH when configured, the envelope
/// sender and recipients, the message as DATA (libcurl stuffs dots and ends it with
/// CRLF.CRLF).
struct SMTPTransport {
    let config: SMTPConfig
    /// e.g. "notifications.smtp", to name keys in errors.
    let configPath: String

    /// "host:port" as messages name the server.
    var server: String { "\(hostForURL):\(config.port)" }

    private var hostForURL: String { config.host.contains(":") ? "[\(config.host)]" : config.host }

    /// Sends `message` from `from` to every address of `recipients`; throws a PluginError
    /// that says whether trying again can help.
    func send(_ message: [UInt8], from: String, recipients: [String], deadline: Deadline) throws(PluginError) {
        let timeoutMs = deadline.remainingMilliseconds(cappedAt: Int64(config.timeoutSeconds) * 1000)
        guard timeoutMs > 0 else { throw .deadline("the deadline passed before sending mail to \(server)") }
        guard curlGlobalInit == CURLE_OK, let curl = curl_easy_init() else {
            throw .internal("libcurl could not be initialised")
        }
        defer { curl_easy_cleanup(curl) }
        let errorBuffer = UnsafeMutablePointer<CChar>.allocate(capacity: Int(CURL_ERROR_SIZE) + 1)
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
        defer { errorBuffer.deallocate() }
        let source = Unmanaged.passRetained(UploadSource(message))
        defer { source.release() }
        var rcpt: UnsafeMutablePointer<curl_slist>? = nil
        defer { curl_slist_free_all(rcpt) }
        for recipient in recipients { rcpt = curl_slist_append(rcpt, "<\(recipient)>") }
        guard rcpt != nil else { throw .internal("out of memory") }

        var ok = true
        func set(_ option: CURLoption, _ value: Int) { ok = ok && acmeeh_curl_setopt_long(curl, option, value) == CURLE_OK }
        func set(_ option: CURLoption, _ value: String) { ok = ok && acmeeh_curl_setopt_string(curl, option, value) == CURLE_OK }
        set(CURLOPT_URL, "\(config.implicitTLS ? "smtps" : "smtp")://\(hostForURL):\(config.port)")
        set(CURLOPT_PROTOCOLS_STR, "smtp,smtps")
        set(CURLOPT_NOSIGNAL, 1)
        set(CURLOPT_PROXY, "")
        set(CURLOPT_TIMEOUT_MS, Int(timeoutMs))
        set(CURLOPT_CONNECTTIMEOUT_MS, Int(timeoutMs))
        set(CURLOPT_USE_SSL, Int((config.useTLS ? CURLUSESSL_ALL : CURLUSESSL_NONE).rawValue))
        set(CURLOPT_SSL_VERIFYPEER, 1)
        set(CURLOPT_SSL_VERIFYHOST, 2)
        if let caFile = config.caFile { set(CURLOPT_CAINFO, caFile) }
        if let username = config.username, let password = config.password {
            set(CURLOPT_USERNAME, username)
            set(CURLOPT_PASSWORD, password)
        }
        set(CURLOPT_MAIL_FROM, "<\(from)>")
        ok = ok && acmeeh_curl_setopt_slist(curl, CURLOPT_MAIL_RCPT, rcpt) == CURLE_OK
        set(CURLOPT_UPLOAD, 1)
        ok = ok && acmeeh_curl_setopt_off_t(curl, CURLOPT_INFILESIZE_LARGE, curl_off_t(message.count)) == CURLE_OK
        ok = ok && acmeeh_curl_setopt_read_function(curl, readMessage) == CURLE_OK
        ok = ok && acmeeh_curl_setopt_pointer(curl, CURLOPT_READDATA, source.toOpaque()) == CURLE_OK
        ok = ok && acmeeh_curl_setopt_pointer(curl, CURLOPT_ERRORBUFFER, errorBuffer) == CURLE_OK
        guard ok else { throw .internal("libcurl refused an option (is it older than 7.85?)") }

        let code = curl_easy_perform(curl)
        guard code != CURLE_OK else { return }
        let message = errorBuffer.pointee != 0 ? String(cString: errorBuffer) : String(cString: curl_easy_strerror(code))
        var reply = 0
        _ = acmeeh_curl_getinfo_long(curl, CURLINFO_RESPONSE_CODE, &reply)
        throw failure(code, message: message, reply: reply, deadline: deadline)
    }

    /// What a failed transaction means for the host: final when only a configuration
    /// change or a different message can help, retryable when the server may take it later.
    private func failure(_ code: CURLcode, message: String, reply: Int, deadline: Deadline) -> PluginError {
        let at = "SMTP server \(server)"
        switch code {
        case CURLE_LOGIN_DENIED:
            let user = config.username.map { " as \"\($0)\"" } ?? ""
            return .config("\(at): authentication\(user) was refused (check \(configPath).username and password): \(message)")
        case CURLE_USE_SSL_FAILED:
            return .config("\(at) does not offer STARTTLS (RFC 3207), which \(configPath).use_tls requires: \(message)")
        case CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CACERT_BADFILE:
            let trust = config.caFile.map { "\(configPath).ca_file (\($0))" } ?? "the system's trusted CAs (set \(configPath).ca_file)"
            return .config("\(at): its certificate did not verify against \(trust): \(message)")
        case CURLE_OPERATION_TIMEDOUT:
            if deadline.hasPassed { return .deadline("the deadline passed while sending mail to \(server): \(message)") }
            return .unavailable("\(at) did not finish within \(config.timeoutSeconds) s: \(message)")
        default:
            // RFC 5321 §4.2.1: 5yz is a permanent refusal (a recipient, the sender, the
            // message), 4yz a transient one.
            if (500...599).contains(reply) {
                return .rejected("\(at) refused the message (\(reply)): \(message)")
            }
            return .unavailable("\(at): \(message)")
        }
    }
}
