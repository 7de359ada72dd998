/// A mailbox address as SMTP carries it in MAIL FROM / RCPT TO (RFC 5321 §4.1.2) and a
/// header carries it (RFC 5322 §3.4.1 addr-spec): `local@domain`, ASCII only (no SMTPUTF8),
/// no quoted local part, nothing that could end a command or a header.
enum MailAddress {
    /// RFC 5321 §4.5.3.1.3: a path is at most 256 octets, so an address at most 254.
    static let maxLength = 254

    /// Why `text` is not an acceptable address, or nil when it is.
    static func problem(_ text: String) -> String? {
        guard !text.isEmpty else { return "is empty" }
        guard text.utf8.count <= maxLength else { return "is longer than \(maxLength) bytes" }
        guard text.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
            return "\"\(printable(text))\" has a space, a control or a non-ASCII character"
        }
        let forbidden = Set("<>()[],;:\\\"".utf8)
        guard !text.utf8.contains(where: { forbidden.contains($0) }) else {
            return "\"\(text)\" has a character not allowed in an address (one of <>()[],;:\\\")"
        }
        let parts = text.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
            return "\"\(text)\" is not of the form local@domain"
        }
        guard parts[0].utf8.count <= 64 else { return "\"\(text)\": the local part is longer than 64 bytes" }
        for part in parts where part.hasPrefix(".") || part.hasSuffix(".") || part.contains("..") {
            return "\"\(text)\": \"\(part)\" has an empty dot-separated label"
        }
        return nil
    }

    /// The domain after the "@" (for the Message-ID).
    static func domain(_ address: String) -> Substring {
        address.split(separator: "@", omittingEmptySubsequences: false).last ?? "localhost"
    }

    /// `text` with control characters replaced, for messages.
    static func printable(_ text: String) -> String {
        String(text.unicodeScalars.map { $0.value < 0x20 || $0.value == 0x7F ? "?" : Character($0) })
    }
}
