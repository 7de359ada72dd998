/// Bytes from the network or from a request made safe for a problem detail: printable
/// ASCII kept, quote, backslash, newline, return and tab escaped, everything else as
/// `\xNN`, cut after `limit` bytes (then "...").
public func escapedForDetail(_ bytes: some Collection<UInt8>, limit: Int = 64) -> String {
    var out = ""
    for byte in bytes.prefix(limit) {
        switch byte {
        case UInt8(ascii: "\""): out += "\\\""
        case UInt8(ascii: "\\"): out += "\\\\"
        case 0x20...0x7E: out.unicodeScalars.append(Unicode.Scalar(byte))
        case UInt8(ascii: "\n"): out += "\\n"
        case UInt8(ascii: "\r"): out += "\\r"
        case UInt8(ascii: "\t"): out += "\\t"
        default:
            let hex = Array("0123456789abcdef")
            out += "\\x\(hex[Int(byte >> 4)])\(hex[Int(byte & 0xF)])"
        }
    }
    if bytes.count > limit { out += "..." }
    return out
}

/// `escapedForDetail` of the text's UTF-8.
public func escapedForDetail(_ text: String, limit: Int = 200) -> String {
    escapedForDetail(Array(text.utf8), limit: limit)
}
