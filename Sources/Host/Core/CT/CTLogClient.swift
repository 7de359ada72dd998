import CCurl
import Foundation

/// libcurl is initialised once per process (a Swift global initialises exactly once).
private let curlGlobalInit: CURLcode = curl_global_init(3 /* CURL_GLOBAL_DEFAULT: SSL | WIN32 */)

/// Collects an answer up to a cap; libcurl calls it through an `Unmanaged` pointer.
private final class AnswerSink {
    let limit: Int
    var body: [UInt8] = []
    var overflow = false
    init(limit: Int) { self.limit = limit }
}

private let collectAnswer: acmeeh_curl_data_callback = { data, size, count, userdata in
    guard let userdata else { return 0 }
    let sink = Unmanaged<AnswerSink>.fromOpaque(userdata).takeUnretainedValue()
    let length = size * count
    guard sink.body.count + length <= sink.limit else {
        sink.overflow = true
        return 0  // aborts the transfer (CURLE_WRITE_ERROR)
    }
    if let data, length > 0 { sink.body.append(contentsOf: UnsafeRawBufferPointer(start: data, count: length)) }
    return length
}

/// One JSON POST to a CT log (RFC 6962 §4.1, §4.2) over libcurl: http or https only, the
/// system's trust for https, no redirects, no proxy from the environment, the whole
/// exchange bounded by the log's `timeout_seconds` and the answer by 64 KiB. The blocking
/// transfer runs on a Dispatch worker thread, never on the caller's executor.
enum CTLogClient {
    /// An SCT is some 120 bytes of JSON; anything near this cap is not a log's answer.
    static let maxAnswerBytes = 64 << 10
    static let userAgent = "acmeeh-ct/1.0"

    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    /// The answer's body when the log answers 200; a `Failure` naming what went wrong otherwise.
    static func post(_ url: String, json: [UInt8], timeoutSeconds: Int) async throws(Failure) -> [UInt8] {
        let result: Result<[UInt8], Failure> = await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(returning: perform(url, json: json, timeoutMs: timeoutSeconds * 1000))
            }
        }
        return try result.get()
    }

    private static func perform(_ url: String, json: [UInt8], timeoutMs: Int) -> Result<[UInt8], Failure> {
        guard curlGlobalInit == CURLE_OK, let curl = curl_easy_init() else {
            return .failure(Failure(description: "libcurl could not be initialised"))
        }
        defer { curl_easy_cleanup(curl) }
        let errorBuffer = UnsafeMutablePointer<CChar>.allocate(capacity: Int(CURL_ERROR_SIZE) + 1)
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
        defer { errorBuffer.deallocate() }
        let sink = Unmanaged.passRetained(AnswerSink(limit: maxAnswerBytes))
        defer { sink.release() }
        var headers: UnsafeMutablePointer<curl_slist>? = nil
        defer { curl_slist_free_all(headers) }
        for header in ["Content-Type: application/json", "Accept: application/json", "Expect:"] {
            headers = curl_slist_append(headers, header)
        }

        var ok = headers != nil
        func set(_ option: CURLoption, _ value: Int) { ok = ok && acmeeh_curl_setopt_long(curl, option, value) == CURLE_OK }
        func set(_ option: CURLoption, _ value: String) { ok = ok && acmeeh_curl_setopt_string(curl, option, value) == CURLE_OK }
        set(CURLOPT_URL, url)
        set(CURLOPT_NOSIGNAL, 1)
        set(CURLOPT_PROTOCOLS_STR, "http,https")
        set(CURLOPT_FOLLOWLOCATION, 0)
        set(CURLOPT_PROXY, "")
        set(CURLOPT_USERAGENT, userAgent)
        set(CURLOPT_TIMEOUT_MS, timeoutMs)
        set(CURLOPT_CONNECTTIMEOUT_MS, timeoutMs)
        set(CURLOPT_SSL_VERIFYPEER, 1)
        set(CURLOPT_SSL_VERIFYHOST, 2)
        ok = ok && acmeeh_curl_setopt_slist(curl, CURLOPT_HTTPHEADER, headers) == CURLE_OK
        ok = ok && acmeeh_curl_setopt_pointer(curl, CURLOPT_ERRORBUFFER, errorBuffer) == CURLE_OK
        ok = ok && acmeeh_curl_setopt_write_function(curl, collectAnswer) == CURLE_OK
        ok = ok && acmeeh_curl_setopt_pointer(curl, CURLOPT_WRITEDATA, sink.toOpaque()) == CURLE_OK
        guard ok else { return .failure(Failure(description: "libcurl refused an option (is it older than 7.85?)")) }

        let code = json.withUnsafeBufferPointer { buffer -> CURLcode in
            // CURLOPT_POSTFIELDS does not copy: the bytes live until perform returns.
            _ = acmeeh_curl_setopt_off_t(curl, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(buffer.count))
            _ = acmeeh_curl_setopt_pointer(curl, CURLOPT_POSTFIELDS, UnsafeMutableRawPointer(mutating: buffer.baseAddress))
            return curl_easy_perform(curl)
        }
        let message = errorBuffer.pointee != 0 ? String(cString: errorBuffer) : String(cString: curl_easy_strerror(code))
        switch code {
        case CURLE_OK:
            var status = 0
            _ = acmeeh_curl_getinfo_long(curl, CURLINFO_RESPONSE_CODE, &status)
            let body = sink.takeUnretainedValue().body
            guard status == 200 else {
                let excerpt = String(decoding: body.prefix(200), as: UTF8.self)
                return .failure(Failure(description: "HTTP \(status)\(excerpt.isEmpty ? "" : ": \(excerpt)")"))
            }
            return .success(body)
        case CURLE_WRITE_ERROR where sink.takeUnretainedValue().overflow:
            return .failure(Failure(description: "the answer is larger than \(maxAnswerBytes) bytes"))
        case CURLE_OPERATION_TIMEDOUT:
            return .failure(Failure(description: "no answer within \(timeoutMs / 1000) s (\(message))"))
        default:
            return .failure(Failure(description: message))
        }
    }
}
