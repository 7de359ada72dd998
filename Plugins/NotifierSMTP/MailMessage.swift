/// One notification as an Internet Message (RFC 5322) with MIME (RFC 2045/2046):
/// text/plain alone, or multipart/alternative of text/plain and text/html when the
/// notification has an HTML body. CRLF line endings, 7-bit (quoted-printable bodies,
/// RFC 2047 subject), dot-safe. Bcc recipients are never written: they exist only in
/// the SMTP envelope.
struct MailMessage {
    var from: String
    var to: [String]
    var cc: [String]
    var subject: String
    var text: String
    var html: String?
    /// The notification's event, as X-Acmeeh-Event (filtering rules can match it).
    var event: String
    /// Unix seconds for the Date header.
    var date: Int64
    /// Unique per message; the Message-ID is `<unique@domain of from>`.
    var unique: String

    var messageID: String { "<\(unique)@\(MailAddress.domain(from))>" }

    /// The message, ready for SMTP DATA.
    func rendered() -> [UInt8] {
        var headers = [
            "Date: \(MIMEEncoding.date(unixSeconds: date))",
            "From: \(from)",
        ]
        if !to.isEmpty { headers.append("To: " + to.joined(separator: ",\r\n ")) }
        if !cc.isEmpty { headers.append("Cc: " + cc.joined(separator: ",\r\n ")) }
        headers += [
            "Subject: " + MIMEEncoding.headerValue(subject),
            "Message-ID: \(messageID)",
            "MIME-Version: 1.0",
            // RFC 3834 §5: machine-generated, so responders do not answer it.
            "Auto-Submitted: auto-generated",
        ]
        let eventToken = String(event.unicodeScalars.filter { $0.value > 0x20 && $0.value < 0x7F })
        if !eventToken.isEmpty { headers.append("X-Acmeeh-Event: \(eventToken)") }

        var message: String
        if let html {
            let boundary = "=_acmeeh_\(unique)"  // "=_" never occurs in quoted-printable text
            headers.append("Content-Type: multipart/alternative; boundary=\"\(boundary)\"")
            message = headers.joined(separator: "\r\n") + "\r\n\r\n"
            message += "--\(boundary)\r\n" + part("text/plain", text)
            message += "--\(boundary)\r\n" + part("text/html", html)
            message += "--\(boundary)--\r\n"
        } else {
            message = headers.joined(separator: "\r\n") + "\r\n" + part("text/plain", text)
        }
        return Array(message.utf8)
    }

    /// A body part: its headers, the blank line, the encoded text (ending in CRLF).
    private func part(_ type: String, _ content: String) -> String {
        "Content-Type: \(type); charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"
            + MIMEEncoding.quotedPrintable(content)
    }
}
