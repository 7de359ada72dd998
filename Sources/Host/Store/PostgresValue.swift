import Foundation

/// A statement parameter. Always bound through libpq (`$1`, `$2`, …), never spliced into
/// SQL text; `nil` in a parameter list binds SQL NULL.
enum PostgresValue: Sendable, Equatable {
    /// Text, typed by the server from context (so `id = $1` works for a uuid column too).
    case string(String)
    case int(Int64)
    case double(Double)
    case bool(Bool)
    /// A `timestamptz`, bound with microsecond precision in UTC.
    case date(Date)
    case bytea([UInt8])
    case uuid(UUID)
    /// A JSON document, given as its text.
    case jsonb(String)
    /// A one-dimensional `text[]`; elements may be NULL.
    case textArray([String?])

    static func int(_ value: Int) -> PostgresValue { .int(Int64(value)) }

    /// The type OID sent with the parameter; 0 lets the server infer it.
    var typeOID: UInt32 {
        switch self {
        case .string: 0
        case .int: 20  // int8
        case .double: 701  // float8
        case .bool: 16
        case .date: 1184  // timestamptz
        case .bytea: 17
        case .uuid: 2950
        case .jsonb: 3802
        case .textArray: 1009
        }
    }

    /// The value in PostgreSQL's text input format.
    var textEncoding: String {
        switch self {
        case .string(let s): s
        case .int(let i): String(i)
        case .double(let d):
            if d.isNaN { "NaN" } else if d.isInfinite { d > 0 ? "Infinity" : "-Infinity" } else { "\(d)" }
        case .bool(let b): b ? "t" : "f"
        case .date(let d): PostgresTimestamp.format(d)
        case .bytea(let bytes): "\\x" + Hex.encode(bytes)
        case .uuid(let u): u.uuidString.lowercased()
        case .jsonb(let j): j
        case .textArray(let items): PostgresTextArray.format(items)
        }
    }
}

/// `timestamptz` text in and out. Sessions run with `TimeZone=UTC, DateStyle=ISO`
/// (set by `Connection` on connect), so output looks like `2026-11-29 05:14:02.123456+00`.
enum PostgresTimestamp {
    static func format(_ date: Date) -> String {
        // To the nearest microsecond: a Date read from a microsecond timestamp may lie just below it.
        let micros = (date.timeIntervalSince1970 * 1_000_000).rounded()
        var seconds = Int(floor(micros / 1_000_000))
        var fraction = Int(micros - Double(seconds) * 1_000_000)
        if fraction < 0 { fraction += 1_000_000; seconds -= 1 }
        var t = time_t(seconds)
        var tmv = tm()
        gmtime_r(&t, &tmv)
        func pad(_ v: Int32, _ n: Int) -> String {
            let s = String(v)
            return String(repeating: "0", count: max(0, n - s.count)) + s
        }
        let f = String(fraction)
        return "\(pad(tmv.tm_year + 1900, 4))-\(pad(tmv.tm_mon + 1, 2))-\(pad(tmv.tm_mday, 2))T"
            + "\(pad(tmv.tm_hour, 2)):\(pad(tmv.tm_min, 2)):\(pad(tmv.tm_sec, 2))."
            + String(repeating: "0", count: 6 - f.count) + f + "Z"
    }

    /// Parses ISO output (`YYYY-MM-DD HH:MM:SS[.ffffff][+HH[:MM[:SS]]]`), also with `T`.
    static func parse(_ text: String) -> Date? {
        switch text {
        case "infinity": return .distantFuture
        case "-infinity": return .distantPast
        default: break
        }
        let u = Array(text.utf8)
        var i = 0
        func number(_ width: Int) -> Int? {
            guard i + width <= u.count else { return nil }
            var v = 0
            for k in i..<(i + width) {
                let c = u[k]
                guard c >= 48 && c <= 57 else { return nil }
                v = v * 10 + Int(c - 48)
            }
            i += width
            return v
        }
        func expect(_ c: Character) -> Bool {
            guard i < u.count, u[i] == c.asciiValue! else { return false }
            i += 1
            return true
        }
        guard let year = number(4), expect("-"), let month = number(2), expect("-"), let day = number(2)
        else { return nil }
        guard i < u.count, u[i] == UInt8(ascii: " ") || u[i] == UInt8(ascii: "T") else { return nil }
        i += 1
        guard let hour = number(2), expect(":"), let minute = number(2), expect(":"), let second = number(2)
        else { return nil }
        var fraction = 0.0
        if i < u.count, u[i] == UInt8(ascii: ".") {
            i += 1
            var scale = 0.1
            while i < u.count, u[i] >= 48, u[i] <= 57 {
                fraction += Double(u[i] - 48) * scale
                scale /= 10
                i += 1
            }
        }
        var offset = 0
        if i < u.count {
            if u[i] == UInt8(ascii: "Z") {
                i += 1
            } else {
                let sign = u[i] == UInt8(ascii: "-") ? -1 : 1
                guard u[i] == UInt8(ascii: "+") || u[i] == UInt8(ascii: "-") else { return nil }
                i += 1
                guard let oh = number(2) else { return nil }
                var om = 0, os = 0
                if expect(":") { guard let m = number(2) else { return nil }; om = m }
                if expect(":") { guard let s = number(2) else { return nil }; os = s }
                offset = sign * (oh * 3600 + om * 60 + os)
            }
        }
        guard i == u.count else { return nil }  // "BC" and other forms are not produced by us
        var tmv = tm()
        tmv.tm_year = Int32(year - 1900)
        tmv.tm_mon = Int32(month - 1)
        tmv.tm_mday = Int32(day)
        tmv.tm_hour = Int32(hour)
        tmv.tm_min = Int32(minute)
        tmv.tm_sec = Int32(second)
        let epoch = timegm(&tmv)
        return Date(timeIntervalSince1970: Double(epoch - offset) + fraction)
    }
}

/// One-dimensional array literals (`{a,"b c",NULL}`).
enum PostgresTextArray {
    static func format(_ items: [String?]) -> String {
        var out = "{"
        for (n, item) in items.enumerated() {
            if n > 0 { out += "," }
            guard let item else { out += "NULL"; continue }
            out += "\""
            for ch in item {
                if ch == "\"" || ch == "\\" { out.append("\\") }
                out.append(ch)
            }
            out += "\""
        }
        return out + "}"
    }

    static func parse(_ text: String) -> [String?]? {
        var chars = Substring(text)
        // Optional dimension decoration: "[1:2]={...}".
        if chars.first == "[" {
            guard let eq = chars.firstIndex(of: "=") else { return nil }
            chars = chars[chars.index(after: eq)...]
        }
        guard chars.first == "{", chars.last == "}" else { return nil }
        chars = chars.dropFirst().dropLast()
        var items: [String?] = []
        if chars.isEmpty { return items }
        var i = chars.startIndex
        while true {
            if chars[i] == "\"" {
                var value = ""
                i = chars.index(after: i)
                while i < chars.endIndex, chars[i] != "\"" {
                    if chars[i] == "\\" { i = chars.index(after: i); guard i < chars.endIndex else { return nil } }
                    value.append(chars[i])
                    i = chars.index(after: i)
                }
                guard i < chars.endIndex else { return nil }
                i = chars.index(after: i)
                items.append(value)
            } else {
                let end = chars[i...].firstIndex(of: ",") ?? chars.endIndex
                let raw = String(chars[i..<end])
                if raw.contains("{") { return nil }  // nested arrays are not supported
                items.append(raw.uppercased() == "NULL" ? nil : raw)
                i = end
            }
            if i == chars.endIndex { break }
            guard chars[i] == "," else { return nil }
            i = chars.index(after: i)
        }
        return items
    }
}
