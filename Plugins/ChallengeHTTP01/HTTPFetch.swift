import CCurl
import PluginKit
import PluginNetwork

/// libcurl is initialised once per process, when the first instance is created
/// (a Swift global is initialised exactly once, thread-safely, like pthread_once).
let curlGlobalInit: CURLcode = curl_global_init(3 /* CURL_GLOBAL_DEFAULT: SSL | WIN32 */)

/// What one GET of a challenge URL, pinned to one address, came to.
enum FetchOutcome {
    /// An HTTP response. `redirect` is libcurl's absolute reading of `Location` on a 3xx.
    case response(status: Int, body: [UInt8], redirect: String?)
    /// No connection to this address (refused, unreachable, connect timeout): try the next one.
    case connectFailed(String)
    /// The time allowed ran out.
    case timedOut(String)
    /// The body passed `max_response_bytes`.
    case tooLarge
    /// Any other transfer failure (reset, TLS handshake, garbage).
    case failed(String)
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

/// One GET with its own easy handle: no proxy, no cookies, no redirects followed by
/// libcurl, the connection pinned to `address` with CURLOPT_RESOLVE so that libcurl
/// never resolves the name itself (no DNS rebinding between the check and the connect).
struct HTTPFetch {
    static let userAgent = "acmeeh-http01/0.1"

    let url: ChallengeURL
    let address: IPAddress
    let maxBytes: Int
    /// Time left for the whole transfer, and for its connect phase.
    let timeoutMs: Int64
    let connectTimeoutMs: Int64

    func run() -> FetchOutcome {
        guard curlGlobalInit == CURLE_OK, let curl = curl_easy_init() else {
            return .failed("libcurl could not be initialised")
        }
        defer { curl_easy_cleanup(curl) }
        let errorBuffer = UnsafeMutablePointer<CChar>.allocate(capacity: Int(CURL_ERROR_SIZE) + 1)
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
        defer { errorBuffer.deallocate() }
        let sink = BodySink(limit: maxBytes)
        let sinkPointer = Unmanaged.passRetained(sink)
        defer { sinkPointer.release() }

        var pin: UnsafeMutablePointer<curl_slist>? = nil
        if url.address == nil {
            // HOST:PORT:ADDRESS; IPv6 in brackets (libcurl ≥ 7.57).
            pin = curl_slist_append(nil, "\(url.host):\(url.port):\(address.urlHost)")
            guard pin != nil else { return .failed("out of memory") }
        }
        defer { curl_slist_free_all(pin) }

        var ok = true
        func set(_ option: CURLoption, _ value: Int) { ok = ok && acmeeh_curl_setopt_long(curl, option, value) == CURLE_OK }
        func set(_ option: CURLoption, _ value: String) { ok = ok && acmeeh_curl_setopt_string(curl, option, value) == CURLE_OK }
        set(CURLOPT_URL, url.text)
        set(CURLOPT_NOSIGNAL, 1)
        set(CURLOPT_PROTOCOLS_STR, "http,https")
        set(CURLOPT_FOLLOWLOCATION, 0)
        set(CURLOPT_PROXY, "")
        set(CURLOPT_NOPROXY, "*")
        set(CURLOPT_USERAGENT, Self.userAgent)
        set(CURLOPT_TIMEOUT_MS, Int(max(1, timeoutMs)))
        set(CURLOPT_CONNECTTIMEOUT_MS, Int(max(1, connectTimeoutMs)))
        // Refuses a declared Content-Length over the cap before reading; writeBody caps the rest.
        ok = ok && acmeeh_curl_setopt_off_t(curl, CURLOPT_MAXFILESIZE_LARGE, curl_off_t(maxBytes)) == CURLE_OK
        set(CURLOPT_FORBID_REUSE, 1)
        set(CURLOPT_FRESH_CONNECT, 1)
        // RFC 8555 §8.3: the server does not verify the certificate of an https redirect target.
        set(CURLOPT_SSL_VERIFYPEER, 0)
        set(CURLOPT_SSL_VERIFYHOST, 0)
        ok = ok && acmeeh_curl_setopt_pointer(curl, CURLOPT_ERRORBUFFER, errorBuffer) == CURLE_OK
        ok = ok && acmeeh_curl_setopt_write_function(curl, writeBody) == CURLE_OK
        ok = ok && acmeeh_curl_setopt_pointer(curl, CURLOPT_WRITEDATA, sinkPointer.toOpaque()) == CURLE_OK
        if let pin { ok = ok && acmeeh_curl_setopt_slist(curl, CURLOPT_RESOLVE, pin) == CURLE_OK }
        guard ok else { return .failed("libcurl refused an option (is it older than 7.85?)") }

        let code = curl_easy_perform(curl)
        let message = errorBuffer.pointee != 0 ? String(cString: errorBuffer) : String(cString: curl_easy_strerror(code))
        switch code {
        case CURLE_OK:
            var status = 0
            _ = acmeeh_curl_getinfo_long(curl, CURLINFO_RESPONSE_CODE, &status)
            var redirect: UnsafeMutablePointer<CChar>? = nil
            _ = acmeeh_curl_getinfo_string(curl, CURLINFO_REDIRECT_URL, &redirect)
            return .response(status: status, body: sink.body, redirect: redirect.map { String(cString: $0) })
        case CURLE_WRITE_ERROR where sink.overflow, CURLE_FILESIZE_EXCEEDED:
            return .tooLarge
        case CURLE_COULDNT_CONNECT:
            return .connectFailed(message)
        case CURLE_OPERATION_TIMEDOUT:
            // Still connecting when the time ran out: this address did not answer.
            var connected: curl_off_t = 0
            _ = acmeeh_curl_getinfo_off_t(curl, CURLINFO_CONNECT_TIME_T, &connected)
            return connected == 0 ? .connectFailed(message) : .timedOut(message)
        default:
            return .failed(message)
        }
    }
}
