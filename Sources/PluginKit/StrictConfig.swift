#if canImport(FoundationEssentials)
import FoundationEssentials  // JSONDecoder without ICU: keeps plugins small
#else
import Foundation
#endif

/// A plugin's configuration, decoded strictly from the `config_json` subtree.
///
/// Conform with an explicit `enum CodingKeys: String, CodingKey, CaseIterable`
/// naming every accepted key, and an `init(from:)` that supplies the defaults
/// (see `KeyedDecodingContainer.decode(_:default:)`). `StrictConfig.decode`
/// rejects any other key, and every message names `<config_path>.<key>`.
public protocol StrictConfig: Decodable {
    associatedtype CodingKeys: CodingKey & CaseIterable
}

extension StrictConfig {
    /// Decodes `json` (an object) or throws `ACMEEH_E_CONFIG` naming the key at fault.
    /// `path` is the create params' `config_path`, e.g. "ca.internal".
    public static func decode(json: String, path: String) throws(PluginError) -> Self {
        let data = Data(json.utf8)
        let present: [String]
        do {
            present = try JSONDecoder().decode(KeyNames.self, from: data).names
        } catch DecodingError.typeMismatch {
            throw .config("\(path): the configuration must be an object")
        } catch {
            throw .config("\(path): the configuration is not valid JSON")
        }
        let known = Set(CodingKeys.allCases.map(\.stringValue))
        let unknown = present.filter { !known.contains($0) }.sorted()
        if let first = unknown.first {
            let list = known.sorted().joined(separator: ", ")
            throw .config("\(path).\(first): unknown key (accepted keys: \(list))")
        }
        do {
            return try JSONDecoder().decode(Self.self, from: data)
        } catch let error as PluginError {
            throw error
        } catch let error as ConfigValueError {
            throw .config("\(join(path, error.codingPath)): \(error.message)")
        } catch let error as DecodingError {
            throw .config(describe(error, path: path))
        } catch {
            throw .config("\(path): \(error)")
        }
    }
}

/// Thrown from a config's `init(from:)` when a value decodes but is not acceptable
/// (out of range, bad syntax); `StrictConfig.decode` prefixes the key path.
public struct ConfigValueError: Error {
    public let codingPath: [any CodingKey]
    public let message: String
    public init(_ key: some CodingKey, _ message: String) {
        codingPath = [key]
        self.message = message
    }
}

extension KeyedDecodingContainer {
    /// The value at `key`, or `defaultValue` when the key is absent or null.
    public func decode<T: Decodable>(_ key: Key, default defaultValue: T) throws -> T {
        try decodeIfPresent(T.self, forKey: key) ?? defaultValue
    }

    /// A required value: absent or null fails with "is required".
    public func require<T: Decodable>(_ key: Key) throws -> T {
        guard let value = try decodeIfPresent(T.self, forKey: key) else {
            throw ConfigValueError(key, "is required")
        }
        return value
    }

    /// An integer in `range`, or `defaultValue` when absent.
    public func decode(_ key: Key, default defaultValue: Int, in range: ClosedRange<Int>) throws -> Int {
        // Decoded as a number first: Foundation's message for 1.5 read as an Int
        // names no key ("not valid JSON"); this one does.
        let number: Double?
        do {
            number = try decodeIfPresent(Double.self, forKey: key)
        } catch DecodingError.typeMismatch {
            throw ConfigValueError(key, "expected an integer")
        }
        guard let number else { return defaultValue }
        guard number == number.rounded(), abs(number) < 9.0e15 else {
            throw ConfigValueError(key, "expected an integer, found \(number)")
        }
        let value = Int(number)
        guard range.contains(value) else {
            throw ConfigValueError(key, "\(value) is out of range \(range.lowerBound)...\(range.upperBound)")
        }
        return value
    }

    /// A number in `range`, or `defaultValue` when absent.
    public func decode(_ key: Key, default defaultValue: Double, in range: ClosedRange<Double>) throws -> Double {
        let value = try decode(key, default: defaultValue)
        guard range.contains(value) else {
            throw ConfigValueError(key, "\(value) is out of range \(range.lowerBound)...\(range.upperBound)")
        }
        return value
    }

    /// A string that must be one of `allowed`, or `defaultValue` when absent.
    public func decode(_ key: Key, default defaultValue: String, oneOf allowed: [String]) throws -> String {
        let value = try decode(key, default: defaultValue)
        guard allowed.contains(value) else {
            throw ConfigValueError(key, "\"\(value)\" is not one of \(allowed.joined(separator: ", "))")
        }
        return value
    }
}

private func join(_ path: String, _ codingPath: [any CodingKey]) -> String {
    codingPath.reduce(path) { result, key in
        if let index = key.intValue { return "\(result)[\(index)]" }
        return "\(result).\(key.stringValue)"
    }
}

private func describe(_ error: DecodingError, path: String) -> String {
    switch error {
    case .typeMismatch(let type, let context):
        return "\(join(path, context.codingPath)): expected \(typeName(type))"
    case .valueNotFound(let type, let context):
        return "\(join(path, context.codingPath)): expected \(typeName(type)), found null"
    case .keyNotFound(let key, let context):
        return "\(join(path, context.codingPath + [key])): is required"
    case .dataCorrupted(let context):
        return "\(join(path, context.codingPath)): \(context.debugDescription)"
    @unknown default:
        return "\(path): \(error)"
    }
}

private func typeName(_ type: Any.Type) -> String {
    switch type {
    case is String.Type: return "a string"
    case is Bool.Type: return "true or false"
    case is Int.Type, is Int64.Type, is UInt32.Type: return "an integer"
    case is Double.Type: return "a number"
    case is [String].Type: return "a list of strings"
    case is [Any].Type: return "a list"
    case is [String: Any].Type: return "an object"
    default: return "a value of type \(type)"
    }
}

/// The keys of a JSON object, whatever their values.
private struct KeyNames: Decodable {
    struct AnyKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }
    let names: [String]
    init(from decoder: any Decoder) throws {
        names = try decoder.container(keyedBy: AnyKey.self).allKeys.map(\.stringValue)
    }
}
