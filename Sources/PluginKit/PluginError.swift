import PluginAPI

/// ACME problem type URNs (RFC 8555 §6.7) a plugin reports most often.
public enum ProblemType {
    public static let badCSR = "urn:ietf:params:acme:error:badCSR"
    public static let serverInternal = "urn:ietf:params:acme:error:serverInternal"
    public static let incorrectResponse = "urn:ietf:params:acme:error:incorrectResponse"
    public static let connection = "urn:ietf:params:acme:error:connection"
    public static let dns = "urn:ietf:params:acme:error:dns"
    public static let tls = "urn:ietf:params:acme:error:tls"
    public static let unauthorized = "urn:ietf:params:acme:error:unauthorized"
    public static let rejectedIdentifier = "urn:ietf:params:acme:error:rejectedIdentifier"
}

/// A failure of a plugin call, as it crosses the ABI in an `acmeeh_error`.
///
/// Throw it from an instance method; the PluginKit thunks copy it into the
/// host's `acmeeh_error` and return `ACMEEH_STATUS_ERROR`. Any other error thrown
/// becomes `ACMEEH_E_INTERNAL`. `detail` is shown to ACME clients: no secrets.
public struct PluginError: Error, Sendable, CustomStringConvertible {
    public var code: Int32
    public var retryable: Bool
    public var problemType: String
    public var detail: String

    public init(code: Int32, retryable: Bool = false,
                problemType: String = ProblemType.serverInternal, detail: String) {
        self.code = code
        self.retryable = retryable
        self.problemType = problemType
        self.detail = detail
    }

    public var description: String { detail }

    /// The instance's configuration is unusable (name the key in `detail`).
    public static func config(_ detail: String) -> PluginError {
        PluginError(code: ACMEEH_E_CONFIG, detail: detail)
    }
    /// A bug or unexpected failure inside the plugin.
    public static func `internal`(_ detail: String) -> PluginError {
        PluginError(code: ACMEEH_E_INTERNAL, detail: detail)
    }
    /// The request itself is wrong; final.
    public static func invalidInput(_ detail: String,
                                    problemType: String = ProblemType.serverInternal) -> PluginError {
        PluginError(code: ACMEEH_E_INVALID_INPUT, problemType: problemType, detail: detail)
    }
    /// A backend is unreachable; retryable by default.
    public static func unavailable(_ detail: String, retryable: Bool = true) -> PluginError {
        PluginError(code: ACMEEH_E_UNAVAILABLE, retryable: retryable, detail: detail)
    }
    /// The deadline passed; always retryable (header: "Blocking functions").
    public static func deadline(_ detail: String = "the deadline passed before the work finished") -> PluginError {
        PluginError(code: ACMEEH_E_DEADLINE, retryable: true, detail: detail)
    }
    /// The CA or the validation refused; final unless said otherwise.
    public static func rejected(_ detail: String, problemType: String = ProblemType.serverInternal,
                                retryable: Bool = false) -> PluginError {
        PluginError(code: ACMEEH_E_REJECTED, retryable: retryable, problemType: problemType, detail: detail)
    }
    /// The operation or input is not supported; final.
    public static func unsupported(_ detail: String) -> PluginError {
        PluginError(code: ACMEEH_E_UNSUPPORTED, detail: detail)
    }

    /// Copies the error into a host-owned `acmeeh_error`. Does nothing when `err`
    /// is NULL or too small for the v1.0 layout (it was set by the host).
    public func fill(_ err: UnsafeMutablePointer<acmeeh_error>?) {
        guard let err, coversV1(err.pointee.struct_size, ACMEEH_ERROR_V1_SIZE) else { return }
        err.pointee.code = code
        err.pointee.retryable = retryable ? 1 : 0
        withUnsafeMutableBytes(of: &err.pointee.problem_type) { copyTruncated(problemType, into: $0) }
        withUnsafeMutableBytes(of: &err.pointee.detail) { copyTruncated(detail, into: $0) }
    }
}

/// Copies `string` as NUL-terminated UTF-8 into `buffer`, truncating at a
/// character boundary so the result is always valid UTF-8 and NUL-terminated.
/// Truncated text ends with "..." when there is room for it.
public func copyTruncated(_ string: String, into buffer: UnsafeMutableRawBufferPointer) {
    guard buffer.count > 0 else { return }
    let capacity = buffer.count - 1
    var utf8 = Array(string.utf8)
    // An embedded NUL would silently cut the string on the C side; make it visible.
    for i in utf8.indices where utf8[i] == 0 { utf8[i] = UInt8(ascii: "?") }
    var length = utf8.count
    var ellipsis = false
    if length > capacity {
        ellipsis = capacity >= 3
        length = ellipsis ? capacity - 3 : capacity
        // Back up to the start of a UTF-8 sequence (never split a multi-byte character).
        while length > 0 && (utf8[length] & 0xC0) == 0x80 { length -= 1 }
    }
    buffer.copyBytes(from: utf8[0..<length])
    var end = length
    if ellipsis {
        for byte in "...".utf8 { buffer[end] = byte; end += 1 }
    }
    buffer[end] = 0
}
