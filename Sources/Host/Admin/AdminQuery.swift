import Foundation
import Hummingbird

/// The query parameters of an admin request, with errors that name the parameter.
struct AdminQuery: Sendable {
    let parameters: Parameters

    init(_ parameters: Parameters) { self.parameters = parameters }

    func string(_ name: String) -> String? {
        guard let value = parameters.get(name), !value.isEmpty else { return nil }
        return value
    }

    func int(_ name: String, in range: ClosedRange<Int>) throws -> Int? {
        guard let text = string(name) else { return nil }
        guard let value = Int(text), range.contains(value) else {
            throw AdminProblem(.badRequest, "\(name) must be an integer in \(range.lowerBound)...\(range.upperBound)")
        }
        return value
    }

    func bool(_ name: String) throws -> Bool? {
        guard let text = string(name)?.lowercased() else { return nil }
        switch text {
        case "true", "1", "yes": return true
        case "false", "0", "no": return false
        default: throw AdminProblem(.badRequest, "\(name) must be true or false")
        }
    }

    func uuid(_ name: String) throws -> UUID? {
        guard let text = string(name) else { return nil }
        guard let id = UUID(uuidString: text) else { throw AdminProblem(.badRequest, "\(name) \"\(text)\" is not a UUID") }
        return id
    }

    func date(_ name: String) throws -> Date? {
        guard let text = string(name) else { return nil }
        guard let date = AdminDates.parse(text) else {
            throw AdminProblem(.badRequest, "\(name) \"\(text)\" is not an ISO 8601 date or timestamp")
        }
        return date
    }

    /// One of `allowed`.
    func choice(_ name: String, _ allowed: [String]) throws -> String? {
        guard let text = string(name) else { return nil }
        guard allowed.contains(text) else {
            throw AdminProblem(.badRequest, "\(name) must be one of \(allowed.joined(separator: ", "))")
        }
        return text
    }
}

/// Timestamps of the admin API: ISO 8601 out (UTC, microseconds), ISO 8601 or a plain
/// date in (a date is its midnight UTC; a timestamp without zone is UTC).
enum AdminDates {
    /// `YYYY-MM-DDTHH:MM:SS.ffffffZ`: exact to the microsecond PostgreSQL keeps, so a
    /// timestamp the API showed selects its own entry as `since` or `until`.
    /// (`ISO8601FormatStyle` shows only milliseconds.)
    static func format(_ date: Date) -> String {
        let micros = Int64((date.timeIntervalSince1970 * 1_000_000).rounded())
        let (seconds, fraction) = (micros.floorDivided(by: 1_000_000), micros.floorModulo(1_000_000))
        let whole = Date(timeIntervalSince1970: TimeInterval(seconds)).formatted(Date.ISO8601FormatStyle())
        let digits = String(fraction)
        return String(whole.dropLast()) + "." + String(repeating: "0", count: 6 - digits.count) + digits + "Z"
    }

    /// Fractional seconds are read to the microsecond exactly (Foundation's parser keeps
    /// milliseconds), so a timestamp the API showed selects its own row again.
    static func parse(_ text: String) -> Date? {
        var trimmed = text.trimmingCharacters(in: .whitespaces)
        var micros = 0
        if let dot = trimmed.firstIndex(of: "."), trimmed[..<dot].contains("T") {
            let digits = trimmed[trimmed.index(after: dot)...].prefix { $0.isASCII && $0.isNumber }
            guard (1...9).contains(digits.count) else { return nil }
            micros = Int(String(digits.prefix(6)).padding(toLength: 6, withPad: "0", startingAt: 0)) ?? 0
            trimmed.removeSubrange(dot..<digits.endIndex)
        }
        for candidate in [trimmed, trimmed + "Z"] {
            if let date = try? Date.ISO8601FormatStyle().parse(candidate) {
                return date.addingTimeInterval(Double(micros) / 1_000_000)
            }
        }
        if micros == 0, let date = try? Date.ISO8601FormatStyle().year().month().day().parse(trimmed) { return date }
        return nil
    }
}

private extension Int64 {
    func floorDivided(by divisor: Int64) -> Int64 {
        let quotient = self / divisor
        return (self % divisor < 0) ? quotient - 1 : quotient
    }

    func floorModulo(_ divisor: Int64) -> Int64 {
        let remainder = self % divisor
        return remainder < 0 ? remainder + divisor : remainder
    }
}
