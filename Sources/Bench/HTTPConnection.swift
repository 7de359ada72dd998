import CCurl
import Foundation

/// libcurl is initialised once per process (a Swift global initialises exactly once).
let curlGlobalInit: CURLcode = curl_global_init(3 /* CURL_GLOBAL_DEFAULT: SSL | WIN32 */)

/// One answer from the server under test: status, the headers ACME needs, the body.
struct HTTPResponse {
    var status = 0
    var body: [UInt8] = []
    var replayNonce: String?
    var location: String?
    var retryAfter: String?
    var contentType: String?
    var links: [String] = []
}

/// A transfer that got no HTTP answer: refused, reset, TLS failure, timeout.
struct TransportError: Error {
    let kind: String
    let detail: String
    let timedOut: Bool
}

/// One worker's connection to the server: a libcurl easy handle kept for the whole run, so
/// the TCP (and TLS) connection is reused between requests. Not thread-safe: one per worker.
final class HTTPConnection {
    /// An ACME answer is a few KiB; a certificate chain too.
    static let maxBytes = 1 << 20
    static let userAgent = "acmeeh-bench/1.0"

    private let curl: UnsafeMutableRawPointer
    private let errorBuffer: UnsafeMutablePointer<CChar>
    private let sink: Unmanaged<ResponseSink>
    private let joseHeaders: UnsafeMutablePointer<curl_slist>
    private let pemHeaders: UnsafeMutablePointer<curl_slist>

    /// `caFile` adds trust for https directories; `insecure` turns verification off.
    init(caFile: String?, insecure: Bool) throws {
        guard curlGlobalInit == CURLE_OK, let curl = curl_easy_init() else {
            throw BenchFailure("libcurl could not be initialised")
        }
        self.curl = curl
        errorBuffer = .allocate(capacity: Int(CURL_ERROR_SIZE) + 1)
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
        sink = Unmanaged.passRetained(ResponseSink())
        let jose = ["Content-Type: application/jose+json", "Expect:"]
        joseHeaders = Self.list(jose)
        pemHeaders = Self.list(jose + ["Accept: application/pem-certificate-chain"])

        var ok = true
        func set(_ option: CURLoption, _ value: Int) { ok = ok && acmeeh_curl_setopt_long(curl, option, value) == CURLE_OK }
        func set(_ option: CURLoption, _ value: String) { ok = ok && acmeeh_curl_setopt_string(curl, option, value) == CURLE_OK }
        set(CURLOPT_NOSIGNAL, 1)
        set(CURLOPT_PROTOCOLS_STR, "http,https")
        set(CURLOPT_FOLLOWLOCATION, 0)
        set(CURLOPT_PROXY, "")  // never a proxy from the environment: loopback only
        set(CURLOPT_USERAGENT, Self.userAgent)
        set(CURLOPT_TCP_NODELAY, 1)
        set(CURLOPT_SSL_VERIFYPEER, insecure ? 0 : 1)
        set(CURLOPT_SSL_VERIFYHOST, insecure ? 0 : 2)
        if let caFile { set(CURLOPT_CAINFO, caFile) }
        ok = ok && acmeeh_curl_setopt_off_t(curl, CURLOPT_MAXFILESIZE_LARGE, curl_off_t(Self.maxBytes)) == CURLE_OK
        ok = ok && acmeeh_curl_setopt_pointer(curl, CURLOPT_ERRORBUFFER, errorBuffer) == CURLE_OK
        ok = ok && acmeeh_curl_setopt_write_function(curl, writeBody) == CURLE_OK
        ok = ok && acmeeh_curl_setopt_pointer(curl, CURLOPT_WRITEDATA, sink.toOpaque()) == CURLE_OK
        ok = ok && acmeeh_curl_setopt_header_function(curl, readHeader) == CURLE_OK
        ok = ok && acmeeh_curl_setopt_pointer(curl, CURLOPT_HEADERDATA, sink.toOpaque()) == CURLE_OK
        guard ok else { throw BenchFailure("libcurl refused an option (is it older than 7.85?)") }
    }

    deinit {
        curl_easy_cleanup(curl)
        curl_slist_free_all(joseHeaders)
        curl_slist_free_all(pemHeaders)
        errorBuffer.deallocate()
        sink.release()
    }

    enum Method {
        case get, head
        /// A JWS body (`application/jose+json`); `pem` asks for a certificate chain.
        case post([UInt8], pem: Bool)
    }

    /// Performs one request, bounded by `timeoutMs` from connect to the last byte.
    func perform(_ method: Method, url: String, timeoutMs: Int) -> Result<HTTPResponse, TransportError> {
        let state = sink.takeUnretainedValue()
        state.reset()
        errorBuffer.pointee = 0
        let timeout = max(1, timeoutMs)
        _ = acmeeh_curl_setopt_string(curl, CURLOPT_URL, url)
        _ = acmeeh_curl_setopt_long(curl, CURLOPT_TIMEOUT_MS, timeout)
        _ = acmeeh_curl_setopt_long(curl, CURLOPT_CONNECTTIMEOUT_MS, timeout)
        let code: CURLcode
        switch method {
        case .get, .head:
            _ = acmeeh_curl_setopt_slist(curl, CURLOPT_HTTPHEADER, nil)
            _ = acmeeh_curl_setopt_long(curl, CURLOPT_HTTPGET, 1)
            var head = 0
            if case .head = method { head = 1 }
            _ = acmeeh_curl_setopt_long(curl, CURLOPT_NOBODY, head)
            code = curl_easy_perform(curl)
        case .post(let body, let pem):
            _ = acmeeh_curl_setopt_slist(curl, CURLOPT_HTTPHEADER, pem ? pemHeaders : joseHeaders)
            _ = acmeeh_curl_setopt_long(curl, CURLOPT_NOBODY, 0)
            _ = acmeeh_curl_setopt_long(curl, CURLOPT_POST, 1)
            code = body.withUnsafeBufferPointer { buffer in
                // CURLOPT_POSTFIELDS does not copy: the bytes live until perform returns.
                _ = acmeeh_curl_setopt_off_t(curl, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(buffer.count))
                _ = acmeeh_curl_setopt_pointer(curl, CURLOPT_POSTFIELDS, UnsafeMutableRawPointer(mutating: buffer.baseAddress))
                return curl_easy_perform(curl)
            }
            _ = acmeeh_curl_setopt_pointer(curl, CURLOPT_POSTFIELDS, nil)
        }
        guard code == CURLE_OK else {
            let generic = String(cString: curl_easy_strerror(code))
            let detail = errorBuffer.pointee != 0 ? String(cString: errorBuffer) : generic
            if state.overflow || code == CURLE_FILESIZE_EXCEEDED {
                return .failure(TransportError(kind: "transport:too large", detail: "answer over \(Self.maxBytes) bytes", timedOut: false))
            }
            return .failure(TransportError(kind: "transport:" + generic, detail: detail,
                                           timedOut: code == CURLE_OPERATION_TIMEDOUT))
        }
        var status = 0
        _ = acmeeh_curl_getinfo_long(curl, CURLINFO_RESPONSE_CODE, &status)
        state.response.status = status
        state.response.body = state.body
        return .success(state.response)
    }

    private static func list(_ lines: [String]) -> UnsafeMutablePointer<curl_slist> {
        var list: UnsafeMutablePointer<curl_slist>? = nil
        for line in lines { list = curl_slist_append(list, line) }
        return list!
    }
}

/// What libcurl's callbacks collect for the request in flight.
private final class ResponseSink {
    var body: [UInt8] = []
    var overflow = false
    var response = HTTPResponse()

    func reset() {
        body.removeAll(keepingCapacity: true)
        overflow = false
        response = HTTPResponse()
    }

    /// One header line as libcurl delivers it, CRLF included.
    func header(_ line: Substring) {
        if line.hasPrefix("HTTP/") {  // a new response (after 1xx): forget the previous headers
            response = HTTPResponse()
            return
        }
        guard let colon = line.firstIndex(of: ":") else { return }
        let name = line[..<colon].lowercased()
        let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespacesAndNewlines)
        switch name {
        case "replay-nonce": response.replayNonce = value
        case "location": response.location = value
        case "retry-after": response.retryAfter = value
        case "content-type": response.contentType = value
        case "link": response.links.append(value)
        default: break
        }
    }
}

private let writeBody: acmeeh_curl_data_callback = { data, size, count, userdata in
    guard let userdata else { return 0 }
    let sink = Unmanaged<ResponseSink>.fromOpaque(userdata).takeUnretainedValue()
    let length = size * count
    guard sink.body.count + length <= HTTPConnection.maxBytes else {
        sink.overflow = true
        return 0  // aborts the transfer (CURLE_WRITE_ERROR)
    }
    if let data, length > 0 {
        sink.body.append(contentsOf: UnsafeRawBufferPointer(start: data, count: length))
    }
    return length
}

private let readHeader: acmeeh_curl_data_callback = { data, size, count, userdata in
    guard let userdata, let data else { return 0 }
    let sink = Unmanaged<ResponseSink>.fromOpaque(userdata).takeUnretainedValue()
    let length = size * count
    let line = String(decoding: UnsafeRawBufferPointer(start: data, count: length), as: UTF8.self)
    sink.header(line[...])
    return length
}
