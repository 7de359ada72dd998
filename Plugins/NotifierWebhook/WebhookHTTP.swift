import CCurl
import PluginKit

/// libcurl is initialised once per process, when the first instance is created
/// (a Swift global is initialised exactly once, thread-safely, like pthread_once).
let curlGlobalInit: CURLcode = curl_global_init(3 /* CURL_GLOBAL_DEFAULT: SSL | WIN32 */)

/// What one POST came to.
enum WebhookResponse {
    /// An HTTP answer: its status and at most `WebhookHTTP.maxResponseBytes` of its body.
    case response(status: Int, body: [UInt8])
    /// No answer: refused, reset, TLS failure, timeout.
    case failed(CURLcode, String)
}

/// Keeps the first bytes of the answer; libcurl calls it through an `Unmanaged` pointer.
private final class BodySink {
    let limit: Int
    var body: [UInt8] = []
    var truncated = false
    init(limit: Int) { self.limit = limit }
}

private let writeBody: acmeeh_curl_data_callback = { data, size, count, userdata in
    guard let userdata else { return 0 }
    let sink = Unmanaged<BodySink>.fromOpaque(userdata).takeUnretainedValue()
    let length = size * count
    let kept = min(length, sink.limit - sink.body.count)
    if let data, kept > 0 {
        sink.body.append(contentsOf: UnsafeRawBufferPointer(start: data, count: kept))
    }
    guard kept == length else {
        sink.truncated = true
        return 0  // stops reading (CURLE_WRITE_ERROR); the status is already known
    }
    return length
}

/// One POST on a pooled easy handle (its connection reused when the receiver keeps it
/// open): http and https only, no redirects, no proxy from the environment, certificate
/// verification always on for https.
struct WebhookHTTP {
    static let userAgent = "acmeeh-notifier-webhook/0.1"
    /// What is read of an answer; the rest is not waited for.
    static let maxResponseBytes = 64 << 10

    let config: WebhookConfig
    /// Idle handles kept for reuse: enough for the host's concurrent deliveries.
    let handles = EasyHandlePool(capacity: 16)

    func post(_ body: [UInt8], headers extra: [String], timeoutMs: Int64) -> WebhookResponse {
        guard curlGlobalInit == CURLE_OK else { return .failed(CURLE_FAILED_INIT, "libcurl could not be initialised") }
        return handles.withHandle { curl in
            guard let curl else { return .failed(CURLE_FAILED_INIT, "libcurl could not make a handle") }
            return post(body, headers: extra, timeoutMs: timeoutMs, on: curl)
        }
    }

    private func post(_ body: [UInt8], headers extra: [String], timeoutMs: Int64, on curl: UnsafeMutableRawPointer) -> WebhookResponse {
        let errorBuffer = UnsafeMutablePointer<CChar>.allocate(capacity: Int(CURL_ERROR_SIZE) + 1)
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
        defer { errorBuffer.deallocate() }
        let sink = Unmanaged.passRetained(BodySink(limit: Self.maxResponseBytes))
        defer { sink.release() }

        var headers: UnsafeMutablePointer<curl_slist>? = nil
        defer { curl_slist_free_all(headers) }
        for line in ["Content-Type: application/json", "Expect:"] + extra + config.headers.map({ "\($0.name): \($0.value)" }) {
            headers = curl_slist_append(headers, line)
            if headers == nil { return .failed(CURLE_OUT_OF_MEMORY, "out of memory") }
        }

        var ok = true
        func set(_ option: CURLoption, _ value: Int) { ok = ok && acmeeh_curl_setopt_long(curl, option, value) == CURLE_OK }
        func set(_ option: CURLoption, _ value: String) { ok = ok && acmeeh_curl_setopt_string(curl, option, value) == CURLE_OK }
        set(CURLOPT_URL, config.url)
        set(CURLOPT_PROTOCOLS_STR, "http,https")
        set(CURLOPT_FOLLOWLOCATION, 0)
        set(CURLOPT_NOSIGNAL, 1)
        set(CURLOPT_PROXY, "")
        set(CURLOPT_USERAGENT, Self.userAgent)
        set(CURLOPT_TIMEOUT_MS, Int(max(1, timeoutMs)))
        set(CURLOPT_CONNECTTIMEOUT_MS, Int(max(1, timeoutMs)))
        set(CURLOPT_SSL_VERIFYPEER, 1)
        set(CURLOPT_SSL_VERIFYHOST, 2)
        if let caFile = config.caFile { set(CURLOPT_CAINFO, caFile) }
        set(CURLOPT_POST, 1)
        ok = ok && acmeeh_curl_setopt_slist(curl, CURLOPT_HTTPHEADER, headers) == CURLE_OK
        ok = ok && acmeeh_curl_setopt_pointer(curl, CURLOPT_ERRORBUFFER, errorBuffer) == CURLE_OK
        ok = ok && acmeeh_curl_setopt_write_function(curl, writeBody) == CURLE_OK
        ok = ok && acmeeh_curl_setopt_pointer(curl, CURLOPT_WRITEDATA, sink.toOpaque()) == CURLE_OK
        guard ok else { return .failed(CURLE_FAILED_INIT, "libcurl refused an option (is it older than 7.85?)") }

        let code: CURLcode = body.withUnsafeBufferPointer { buffer in
            // CURLOPT_POSTFIELDS does not copy: the bytes must live until perform returns.
            _ = acmeeh_curl_setopt_off_t(curl, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(buffer.count))
            _ = acmeeh_curl_setopt_pointer(curl, CURLOPT_POSTFIELDS,
                                           UnsafeMutableRawPointer(mutating: buffer.baseAddress ?? UnsafePointer(bitPattern: 1)!))
            return curl_easy_perform(curl)
        }
        let sinkObject = sink.takeUnretainedValue()
        if code == CURLE_OK || (code == CURLE_WRITE_ERROR && sinkObject.truncated) {
            var status = 0
            _ = acmeeh_curl_getinfo_long(curl, CURLINFO_RESPONSE_CODE, &status)
            return .response(status: status, body: sinkObject.body)
        }
        let message = errorBuffer.pointee != 0 ? String(cString: errorBuffer) : String(cString: curl_easy_strerror(code))
        return .failed(code, message)
    }
}
