import Foundation

/// One result row, copied out of libpq (text format), read by column name.
///
/// Each accessor exists twice: `string("c")` throws when the value is NULL, the
/// `…IfPresent` form returns nil for NULL. Both throw `StoreError(.decoding)` for a
/// missing column or a value of another type.
struct Row: Sendable {
    /// Column names, shared by every row of a result.
    let columns: ColumnIndex
    /// Raw text values, nil = SQL NULL.
    let values: [String?]

    /// Column name → position; the first column of a name wins.
    final class ColumnIndex: Sendable {
        let names: [String]
        let positions: [String: Int]
        init(_ names: [String]) {
            self.names = names
            var p: [String: Int] = [:]
            for (i, n) in names.enumerated() where p[n] == nil { p[n] = i }
            self.positions = p
        }
    }

    func raw(_ column: String) throws -> String? {
        guard let i = columns.positions[column] else {
            throw StoreError(.decoding, "no column \"\(column)\" in result (columns: \(columns.names.joined(separator: ", ")))")
        }
        return values[i]
    }

    func raw(at index: Int) -> String? { values[index] }

    func isNull(_ column: String) throws -> Bool { try raw(column) == nil }

    private func required<T>(_ column: String, _ type: String, _ decode: (String) -> T?) throws -> T {
        guard let v = try optional(column, type, decode) else {
            throw StoreError(.decoding, "column \"\(column)\" is NULL, expected \(type)")
        }
        return v
    }

    private func optional<T>(_ column: String, _ type: String, _ decode: (String) -> T?) throws -> T? {
        guard let text = try raw(column) else { return nil }
        guard let v = decode(text) else {
            throw StoreError(.decoding, "column \"\(column)\": \"\(text.prefix(64))\" is not a \(type)")
        }
        return v
    }

    // text, varchar, and anything else as its text form
    func string(_ c: String) throws -> String { try required(c, "string") { $0 } }
    func stringIfPresent(_ c: String) throws -> String? { try optional(c, "string") { $0 } }

    // int2, int4, int8, numeric without fraction
    func int(_ c: String) throws -> Int { try required(c, "integer") { Int($0) } }
    func intIfPresent(_ c: String) throws -> Int? { try optional(c, "integer") { Int($0) } }
    func int64(_ c: String) throws -> Int64 { try required(c, "integer") { Int64($0) } }

    func double(_ c: String) throws -> Double { try required(c, "number") { Double($0) } }

    // bool: PostgreSQL prints t/f
    func bool(_ c: String) throws -> Bool { try required(c, "boolean", Self.decodeBool) }
    func boolIfPresent(_ c: String) throws -> Bool? { try optional(c, "boolean", Self.decodeBool) }

    // timestamptz (the session runs in UTC, DateStyle ISO)
    func date(_ c: String) throws -> Date { try required(c, "timestamp", PostgresTimestamp.parse) }
    func dateIfPresent(_ c: String) throws -> Date? { try optional(c, "timestamp", PostgresTimestamp.parse) }

    // bytea in hex output format (\x…)
    func bytes(_ c: String) throws -> [UInt8] { try required(c, "bytea", Self.decodeBytea) }
    func bytesIfPresent(_ c: String) throws -> [UInt8]? { try optional(c, "bytea", Self.decodeBytea) }

    func uuid(_ c: String) throws -> UUID { try required(c, "uuid") { UUID(uuidString: $0) } }
    func uuidIfPresent(_ c: String) throws -> UUID? { try optional(c, "uuid") { UUID(uuidString: $0) } }

    /// json/jsonb as its text; decode it with JSONDecoder where needed.
    func json(_ c: String) throws -> String { try required(c, "json") { $0 } }
    func jsonIfPresent(_ c: String) throws -> String? { try optional(c, "json") { $0 } }

    /// text[] (one dimension); NULL elements are dropped.
    func stringArray(_ c: String) throws -> [String] {
        try required(c, "text[]") { PostgresTextArray.parse($0).map { $0.compactMap { $0 } } }
    }

    private static func decodeBool(_ s: String) -> Bool? {
        switch s {
        case "t", "true": true
        case "f", "false": false
        default: nil
        }
    }

    private static func decodeBytea(_ s: String) -> [UInt8]? {
        guard s.hasPrefix("\\x") else { return nil }
        return Hex.decode(s.dropFirst(2))
    }
}
