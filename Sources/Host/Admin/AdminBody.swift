import Foundation

/// A JSON request body, read field by field with errors that name the field.
struct AdminBody: @unchecked Sendable {
    let fields: [String: Any]

    init(_ fields: [String: Any]) { self.fields = fields }

    /// Refuses fields other than `known`.
    func allowOnly(_ known: Set<String>) throws {
        if let unknown = fields.keys.sorted().first(where: { !known.contains($0) }) {
            throw AdminProblem(.badRequest, "unknown field \"\(unknown)\"")
        }
    }

    func string(_ name: String) throws -> String? {
        guard let value = fields[name], !(value is NSNull) else { return nil }
        guard let text = value as? String else { throw AdminProblem(.badRequest, "\"\(name)\" must be a string") }
        return text
    }

    func requiredString(_ name: String) throws -> String {
        guard let text = try string(name), !text.isEmpty else {
            throw AdminProblem(.badRequest, "\"\(name)\" is required")
        }
        return text
    }

    /// A JSON boolean, strictly (`1` and `"true"` are refused).
    func bool(_ name: String) throws -> Bool? {
        guard let value = fields[name], !(value is NSNull) else { return nil }
        guard let number = value as? NSNumber, Self.isBoolean(number) else {
            throw AdminProblem(.badRequest, "\"\(name)\" must be true or false")
        }
        return number.boolValue
    }

    /// A JSON integer (booleans refused).
    func int(_ name: String) throws -> Int? {
        guard let value = fields[name], !(value is NSNull) else { return nil }
        guard let number = value as? NSNumber, !Self.isBoolean(number),
              let int = Int(exactly: number.doubleValue)
        else { throw AdminProblem(.badRequest, "\"\(name)\" must be an integer") }
        return int
    }

    /// JSONSerialization's booleans are NSNumbers of ObjC type `c`; its integers never are.
    private static func isBoolean(_ number: NSNumber) -> Bool { String(cString: number.objCType) == "c" }

    func object(_ name: String) throws -> [String: Any]? {
        guard let value = fields[name], !(value is NSNull) else { return nil }
        guard let object = value as? [String: Any] else { throw AdminProblem(.badRequest, "\"\(name)\" must be an object") }
        return object
    }

    func stringArray(_ name: String) throws -> [String]? {
        guard let value = fields[name], !(value is NSNull) else { return nil }
        guard let array = value as? [String] else { throw AdminProblem(.badRequest, "\"\(name)\" must be an array of strings") }
        return array
    }

    func date(_ name: String) throws -> Date? {
        guard let text = try string(name) else { return nil }
        guard let date = AdminDates.parse(text) else {
            throw AdminProblem(.badRequest, "\"\(name)\" is not an ISO 8601 date or timestamp")
        }
        return date
    }

    func uuid(_ name: String) throws -> UUID? {
        guard let text = try string(name) else { return nil }
        guard let id = UUID(uuidString: text) else { throw AdminProblem(.badRequest, "\"\(name)\" is not a UUID") }
        return id
    }
}
