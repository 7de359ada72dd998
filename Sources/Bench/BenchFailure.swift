import COpenSSL

/// A failure of the tool itself (not of the server under test): bad arguments, a port
/// that cannot be bound, OpenSSL refusing an operation.
struct BenchFailure: Error, CustomStringConvertible {
    let description: String

    init(_ description: String) { self.description = description }

    /// `what`, with OpenSSL's first queued error if there is one.
    static func openSSL(_ what: String) -> BenchFailure {
        let code = ERR_get_error()
        guard code != 0 else { return BenchFailure(what) }
        var text = [CChar](repeating: 0, count: 256)
        ERR_error_string_n(code, &text, text.count)
        ERR_clear_error()
        let reason = text.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        return BenchFailure("\(what): \(reason)")
    }
}
