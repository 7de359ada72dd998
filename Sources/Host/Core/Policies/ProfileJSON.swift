import Foundation

/// A JSON value read strictly (a boolean is never a number, an integer never a float):
/// the form a CSR profile's `profile_data` is checked in.
enum ProfileJSON: Sendable, Equatable, Decodable {
    case null
    case bool(Bool)
    case integer(Int)
    case number(Double)
    case string(String)
    case array([ProfileJSON])
    case object([String: ProfileJSON])

    init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() { self = .null; return }
        if let value = try? container.decode(Bool.self) { self = .bool(value); return }
        if let value = try? container.decode(Int.self) { self = .integer(value); return }
        if let value = try? container.decode(Double.self) { self = .number(value); return }
        if let value = try? container.decode(String.self) { self = .string(value); return }
        if let value = try? container.decode([ProfileJSON].self) { self = .array(value); return }
        self = .object(try container.decode([String: ProfileJSON].self))
    }

    /// What the value is, for messages ("a string", "null", …).
    var kind: String {
        switch self {
        case .null: "null"
        case .bool: "a boolean"
        case .integer: "an integer"
        case .number: "a number"
        case .string: "a string"
        case .array: "a list"
        case .object: "an object"
        }
    }
}
