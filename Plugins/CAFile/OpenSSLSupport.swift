import COpenSSL
import Glibc
import PluginKit

/// The OpenSSL error queue of this thread as one line (and the queue emptied).
func openSSLErrors() -> String {
    var parts: [String] = []
    while true {
        let code = ERR_get_error()
        if code == 0 { break }
        var buffer = [CChar](repeating: 0, count: 256)
        ERR_error_string_n(code, &buffer, buffer.count)
        parts.append(String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
    }
    return parts.isEmpty ? "no OpenSSL error reported" : parts.joined(separator: "; ")
}

/// ACMEEH_E_INTERNAL carrying `what` and the OpenSSL error string.
func openSSLFailure(_ what: String) -> PluginError {
    .internal("\(what): \(openSSLErrors())")
}

/// Reads a whole file named by config key `key`, failing with ACMEEH_E_CONFIG
/// that names the key and path. With `privateKey`, refuses a file readable or
/// writable by group or others (checked on the open descriptor, no race).
func readConfigFile(_ path: String, key: String, privateKey: Bool = false) throws(PluginError) -> [UInt8] {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    if fd < 0 {
        throw .config("\(key): cannot open \(path): \(String(cString: strerror(errno)))")
    }
    defer { close(fd) }
    var st = stat()
    guard fstat(fd, &st) == 0 else {
        throw .config("\(key): cannot stat \(path): \(String(cString: strerror(errno)))")
    }
    guard (st.st_mode & S_IFMT) == S_IFREG else {
        throw .config("\(key): \(path) is not a regular file")
    }
    let mode = st.st_mode & 0o7777
    if privateKey && (mode & 0o044) != 0 {
        throw .config("\(key): \(path) is readable by group or others (mode \(octal(mode))); chmod 600 it")
    }
    if privateKey && (mode & 0o022) != 0 {
        throw .config("\(key): \(path) is writable by group or others (mode \(octal(mode))); chmod 600 it")
    }
    guard st.st_size <= 1 << 20 else {
        throw .config("\(key): \(path) is larger than 1 MiB; not a PEM file")
    }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 16384)
    while true {
        let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if n < 0 {
            if errno == EINTR { continue }
            throw .config("\(key): cannot read \(path): \(String(cString: strerror(errno)))")
        }
        if n == 0 { break }
        bytes.append(contentsOf: chunk[0..<n])
    }
    return bytes
}

private func octal(_ mode: mode_t) -> String {
    let digits = String(mode, radix: 8)
    return String(repeating: "0", count: max(0, 4 - digits.count)) + digits
}

/// A read-only memory BIO over `bytes` for the duration of `body`.
func withMemoryBIO<R>(_ bytes: [UInt8], _ body: (OpaquePointer) throws(PluginError) -> R) throws(PluginError) -> R {
    let result: Result<R, PluginError> = bytes.withUnsafeBytes { buffer in
        // BIO_new_mem_buf does not copy: the BIO must not outlive this closure.
        guard let bio = BIO_new_mem_buf(buffer.baseAddress, Int32(buffer.count)) else {
            return .failure(openSSLFailure("BIO_new_mem_buf"))
        }
        defer { BIO_free(bio) }
        do throws(PluginError) { return .success(try body(bio)) } catch { return .failure(error) }
    }
    return try result.get()
}

/// Every certificate in a PEM file (X509* the caller frees). Empty when there are none.
func parseCertificates(_ pem: [UInt8]) throws(PluginError) -> [OpaquePointer] {
    try withMemoryBIO(pem) { bio throws(PluginError) in
        var certificates: [OpaquePointer] = []
        while let x509 = PEM_read_bio_X509(bio, nil, nil, nil) {
            certificates.append(x509)
        }
        // The loop ends with "no start line" at end of input: expected, not an error.
        let last = ERR_peek_last_error()
        if ERR_GET_REASON(last) == PEM_R_NO_START_LINE { ERR_clear_error() }
        else if last != 0 {
            let detail = openSSLErrors()
            certificates.forEach { X509_free($0) }
            throw .config("not a valid PEM certificate: \(detail)")
        }
        return certificates
    }
}

/// No passphrase prompt, ever: an encrypted key fails to load instead of reading the tty.
private let noPassphrase: @convention(c) (UnsafeMutablePointer<CChar>?, Int32, Int32, UnsafeMutableRawPointer?) -> Int32 = { _, _, _, _ in 0 }

/// The private key (EVP_PKEY* the caller frees) from a PEM file's bytes.
func parsePrivateKey(_ pem: [UInt8]) throws(PluginError) -> OpaquePointer {
    try withMemoryBIO(pem) { bio throws(PluginError) in
        guard let key = PEM_read_bio_PrivateKey(bio, nil, noPassphrase, nil) else {
            let detail = openSSLErrors()
            if pem.containsASCII("ENCRYPTED") {
                throw .config("the private key is encrypted; decrypt it (openssl pkey -in KEY -out KEY.plain) and keep it mode 0600")
            }
            throw .config("not a PEM private key: \(detail)")
        }
        return key
    }
}

/// PEM text of one certificate.
func pemText(_ x509: OpaquePointer) throws(PluginError) -> String {
    guard let bio = BIO_new(BIO_s_mem()) else { throw openSSLFailure("BIO_new") }
    defer { BIO_free(bio) }
    guard PEM_write_bio_X509(bio, x509) == 1 else { throw openSSLFailure("PEM_write_bio_X509") }
    var data: UnsafeMutablePointer<CChar>?
    let length = acmeeh_BIO_get_mem_data(bio, &data)
    guard let data, length > 0 else { throw openSSLFailure("BIO_get_mem_data") }
    return String(decoding: UnsafeRawBufferPointer(start: data, count: Int(length)), as: UTF8.self)
}

/// An ASN1_TIME as unix seconds, or nil.
func unixTime(_ time: UnsafePointer<ASN1_TIME>?) -> Int64? {
    guard let time else { return nil }
    var tm = Glibc.tm()
    guard ASN1_TIME_to_tm(time, &tm) == 1 else { return nil }
    return Int64(timegm(&tm))
}

/// Unix seconds as RFC 3339 UTC text, for messages.
func rfc3339(_ seconds: Int64) -> String {
    var t = time_t(seconds)
    var tm = Glibc.tm()
    gmtime_r(&t, &tm)
    var buffer = [CChar](repeating: 0, count: 32)
    let n = strftime(&buffer, buffer.count, "%Y-%m-%dT%H:%M:%SZ", &tm)
    return String(decoding: buffer.prefix(n).map { UInt8(bitPattern: $0) }, as: UTF8.self)
}

/// A file-loading failure as ACMEEH_E_CONFIG that names the config key and the file.
func configError(_ error: any Error, key: String, file: String) -> PluginError {
    let e = (error as? PluginError) ?? .config("\(error)")
    return e.detail.hasPrefix(key) ? e : .config("\(key): \(file): \(e.detail)")
}

extension Array where Element == UInt8 {
    /// Whether the bytes contain `text` (ASCII), e.g. a PEM header word.
    func containsASCII(_ text: String) -> Bool {
        let needle = Array(text.utf8)
        guard needle.count <= count else { return false }
        return (0...(count - needle.count)).contains { i in self[i..<(i + needle.count)].elementsEqual(needle) }
    }
}
