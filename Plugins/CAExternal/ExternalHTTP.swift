import CCurl
import PluginKit

/// libcurl is initialised once per process, when the first instance is created
/// (a Swift global is initialised exactly once, thread-safely, like pthread_once).
let curlGlobalInit: CURLcode = curl_global_init(3 /* CURL_GLOBAL_DEFAULT: SSL | WIN32 */)

/// What one POST to the signing API came to.
enum ExternalResponse {
    /// An HTTP answer, whatever its status.
    case response(status: Int, body: [UInt8])
    /// No answer: refused, reset, timeout. `timedOut` when the time ran out.
    case failed(String, timedOut: Bool)
    /// TLS was refused in a way that asking again will not change (see `TLSRefusal`).
    case tlsRefused(String)
}

/// Collects the body up to a cap; libcurl calls it through an `Unmanaged` pointer.
private final class BodySink {
    let limit: Int
    var body: [UInt8] = []
    var overflow = false
    init(limit: Int) { self.limit = limit }
}

private let writeBody: acmeeh_curl_data_callback = { data, size, count, userdata in
    guard let userdata else { return 0 }
    let sink = Unmanaged<BodySink>.fromOpaque(userdata).takeUnretainedValue()
    let length = size * count
    guard sink.body.count + length <= sink.limit else {
        sink.overflow = true
        return 0  // aborts the transfer (CURLE_WRITE_ERROR)
    }
    if let data, length > 0 {
        sink.body.append(contentsOf: UnsafeRawBufferPointer(start: data, count: length))
    }
    return length
}

/// One request to the signing API with its own easy handle: the configured trust
/// (`ca_cert_path`, verification always on for https), client certificate for mutual
/// TLS, the auth header, no proxy from the environment, no redirects.
struct ExternalHTTP {
    static let userAgent = "acmeeh-caexternal/0.2"
    /// A certificate chain is a few KiB; 1 MiB is far more than a sign or revoke answer needs.
    static let maxBytes = 1 << 20
    /// A CRL grows with every revocation: 32 MiB (base64) holds some 500,000 entries.
    static let maxCRLBytes = 32 << 20

    let config: CAExternalConfig
    /// `ca.external` (or the `ext:` instance's path), to name keys in errors.
    let configPath: String

    /// `method` "POST" with `body` (JSON), or "HEAD" without; an answer over `maxBytes` fails.
    func perform(method: String, url: String, body: [UInt8]?, timeoutMs: Int64,
                 maxBytes: Int = ExternalHTTP.maxBytes) -> ExternalResponse {
        guard curlGlobalInit == CURLE_OK, let curl = curl_easy_init() else {
            return .failed("libcurl could not be initialised", timedOut: false)
        }
        defer { curl_easy_cleanup(curl) }
        let errorBuffer = UnsafeMutablePointer<CChar>.allocate(capacity: Int(CURL_ERROR_SIZE) + 1)
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
        defer { errorBuffer.deallocate() }
        let sink = BodySink(limit: maxBytes)
        let sinkPointer = Unmanaged.passRetained(sink)
        defer { sinkPointer.release() }

        var headers: UnsafeMutablePointer<curl_slist>? = nil
        defer { curl_slist_free_all(headers) }
        headers = curl_slist_append(headers, "Accept: application/json")
        if body != nil { headers = curl_slist_append(headers, "Content-Type: application/json") }
        if let value = config.authValue { headers = curl_slist_append(headers, "\(config.authHeader): \(value)") }
        // No "Expect: 100-continue" round trip.
        headers = curl_slist_append(headers, "Expect:")
        guard headers != nil else { return .failed("out of memory", timedOut: false) }

        var ok = true
        func set(_ option: CURLoption, _ value: Int) { ok = ok && acmeeh_curl_setopt_long(curl, option, value) == CURLE_OK }
        func set(_ option: CURLoption, _ value: String) { ok = ok && acmeeh_curl_setopt_string(curl, option, value) == CURLE_OK }
        set(CURLOPT_URL, url)
        set(CURLOPT_NOSIGNAL, 1)
        set(CURLOPT_PROTOCOLS_STR, "http,https")
        set(CURLOPT_FOLLOWLOCATION, 0)
        set(CURLOPT_PROXY, "")
        set(CURLOPT_USERAGENT, Self.userAgent)
        set(CURLOPT_TIMEOUT_MS, Int(max(1, timeoutMs)))
        set(CURLOPT_CONNECTTIMEOUT_MS, Int(max(1, timeoutMs)))
        ok = ok && acmeeh_curl_setopt_off_t(curl, CURLOPT_MAXFILESIZE_LARGE, curl_off_t(maxBytes)) == CURLE_OK
        set(CURLOPT_SSL_VERIFYPEER, 1)
        set(CURLOPT_SSL_VERIFYHOST, 2)
        if let caCertPath = config.caCertPath { set(CURLOPT_CAINFO, caCertPath) }
        if let cert = config.clientCertPath, let key = config.clientKeyPath {
            set(CURLOPT_SSLCERT, cert)
            set(CURLOPT_SSLKEY, key)
        }
        if method == "HEAD" {
            set(CURLOPT_NOBODY, 1)
        } else {
            set(CURLOPT_POST, 1)
        }
        ok = ok && acmeeh_curl_setopt_slist(curl, CURLOPT_HTTPHEADER, headers) == CURLE_OK
        ok = ok && acmeeh_curl_setopt_pointer(curl, CURLOPT_ERRORBUFFER, errorBuffer) == CURLE_OK
        ok = ok && acmeeh_curl_setopt_write_function(curl, writeBody) == CURLE_OK
        ok = ok && acmeeh_curl_setopt_pointer(curl, CURLOPT_WRITEDATA, sinkPointer.toOpaque()) == CURLE_OK
        guard ok else { return .failed("libcurl refused an option (is it older than 7.85?)", timedOut: false) }

        let code: CURLcode = {
            guard let body else { return curl_easy_perform(curl) }
            return body.withUnsafeBufferPointer { buffer in
                // CURLOPT_POSTFIELDS does not copy: the bytes must live until perform returns.
                _ = acmeeh_curl_setopt_off_t(curl, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(buffer.count))
                _ = acmeeh_curl_setopt_pointer(curl, CURLOPT_POSTFIELDS,
                                               UnsafeMutableRawPointer(mutating: buffer.baseAddress ?? UnsafePointer(bitPattern: 1)!))
                return curl_easy_perform(curl)
            }
        }()
        let message = errorBuffer.pointee != 0 ? String(cString: errorBuffer) : String(cString: curl_easy_strerror(code))
        switch code {
        case CURLE_OK:
            var status = 0
            _ = acmeeh_curl_getinfo_long(curl, CURLINFO_RESPONSE_CODE, &status)
            return .response(status: status, body: sink.body)
        case CURLE_WRITE_ERROR where sink.overflow, CURLE_FILESIZE_EXCEEDED:
            return .failed("the answer is larger than \(maxBytes) bytes", timedOut: false)
        case CURLE_OPERATION_TIMEDOUT:
            return .failed(message, timedOut: true)
        default:
            if let refusal = TLSRefusal(code: code, message: message, config: config, path: configPath) { return .tlsRefused(refusal.detail) }
            return .failed(message, timedOut: false)
        }
    }
}
