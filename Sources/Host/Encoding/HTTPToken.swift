/// The `token` syntax of HTTP (RFC 9110 §5.6.2): header field names, and the request ids
/// acmeeh accepts from a trusted proxy.
enum HTTPToken {
    /// One or more of `!#$%&'*+-.^_`|~`, digits and letters.
    static func isToken(_ text: String) -> Bool {
        !text.isEmpty && text.utf8.allSatisfy { byte in
            (0x30...0x39).contains(byte) || (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte)
                || "!#$%&'*+-.^_`|~".utf8.contains(byte)
        }
    }
}
