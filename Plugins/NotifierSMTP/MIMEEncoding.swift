#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The encodings a mail needs to carry UTF-8 text over 7-bit SMTP.
enum MIMEEncoding {
    /// Quoted-printable (RFC 2045 §6.7) of UTF-8 text, lines ending in CRLF (whatever
    /// line breaks `text` had), at most 76 characters each. A line never starts with
    /// "." (encoded as =2E), so the text is dot-safe in SMTP DATA (RFC 5321 §4.5.2)
    /// whether or not the client stuffs dots.
    static func quotedPrintable(_ text: String) -> String {
        var out = ""
        for line in lines(text) {
            var current = ""
            for (index, byte) in line.enumerated() {
                let isLast = index == line.count - 1
                var token: String
                switch byte {
                case UInt8(ascii: " "), UInt8(ascii: "\t"):
                    // Whitespace at the end of a line is encoded: transports may strip it.
                    token = isLast ? hex(byte) : String(UnicodeScalar(byte))
                case UInt8(ascii: "="):
                    token = hex(byte)
                case 33...126:
                    token = String(UnicodeScalar(byte))
                default:
                    token = hex(byte)
                }
                // Soft line break: "=" ends a physical line that is at most 76 characters.
                if current.utf8.count + token.utf8.count > 75 {
                    out += current + "=\r\n"
                    current = ""
                }
                if current.isEmpty && token == "." { token = hex(byte) }
                current += token
            }
            out += current + "\r\n"
        }
        return out
    }

    /// The Subject (or any unstructured header value): as is when it is printable
    /// ASCII, else RFC 2047 "B" encoded-words in UTF-8, each at most 75 characters,
    /// split on character boundaries and folded onto continuation lines.
    /// Line breaks and other controls become spaces (a header cannot carry them).
    static func headerValue(_ value: String) -> String {
        let flat = String(value.unicodeScalars.map { $0.value < 0x20 || $0.value == 0x7F ? " " : Character($0) })
        if flat.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }), !flat.contains("=?"), flat.utf8.count <= 900 {
            return flat
        }
        // 75 - "=?UTF-8?B?".count - "?=".count = 63 base64 characters: 45 bytes of text.
        var words: [String] = []
        var chunk: [UInt8] = []
        for character in flat {
            let bytes = Array(String(character).utf8)
            if chunk.count + bytes.count > 45, !chunk.isEmpty {
                words.append(encodedWord(chunk))
                chunk = []
            }
            chunk += bytes
        }
        if !chunk.isEmpty || words.isEmpty { words.append(encodedWord(chunk)) }
        return words.joined(separator: "\r\n ")
    }

    /// An RFC 5322 §3.3 date-time in UTC, e.g. "Sun, 06 Dec 2026 17:04:05 +0000",
    /// without the C library's locale.
    static func date(unixSeconds: Int64) -> String {
        let days = unixSeconds >= 0 ? unixSeconds / 86400 : (unixSeconds - 86399) / 86400
        let secondsOfDay = unixSeconds - days * 86400
        let (year, month, day) = civilDate(daysSinceEpoch: days)
        let weekdays = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"]  // 1970-01-01 was a Thursday
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        let weekday = weekdays[Int(((days % 7) + 7) % 7)]
        func two(_ n: Int64) -> String { n < 10 ? "0\(n)" : "\(n)" }
        return "\(weekday), \(two(day)) \(months[Int(month) - 1]) \(year) "
            + "\(two(secondsOfDay / 3600)):\(two(secondsOfDay / 60 % 60)):\(two(secondsOfDay % 60)) +0000"
    }

    /// Year, month (1...12), day (1...31) of a day count since 1970-01-01 (proleptic Gregorian).
    static func civilDate(daysSinceEpoch: Int64) -> (Int64, Int64, Int64) {
        let z = daysSinceEpoch + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    private static func encodedWord(_ bytes: [UInt8]) -> String {
        "=?UTF-8?B?" + Data(bytes).base64EncodedString() + "?="
    }

    private static func hex(_ byte: UInt8) -> String {
        let digits = Array("0123456789ABCDEF")
        return "=" + String(digits[Int(byte >> 4)]) + String(digits[Int(byte & 0x0F)])
    }

    /// The UTF-8 bytes of `text` split on CRLF, LF or CR; a final line break adds no
    /// empty line. (Bytes, not Characters: "\r\n" is one Character in Swift.)
    private static func lines(_ text: String) -> [[UInt8]] {
        var lines: [[UInt8]] = [[]]
        var previous: UInt8 = 0
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\n") where previous == UInt8(ascii: "\r"):
                break
            case UInt8(ascii: "\n"), UInt8(ascii: "\r"):
                lines.append([])
            default:
                lines[lines.count - 1].append(byte)
            }
            previous = byte
        }
        if lines.count > 1, lines.last?.isEmpty == true { lines.removeLast() }
        return lines
    }
}
