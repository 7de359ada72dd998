import Foundation

/// Compact JSON with sorted keys for the values this server builds itself: strings,
/// booleans, integers, arrays and string-keyed objects. Foundation's JSONSerialization
/// walks NSObjects and costs several times more per response; any other value (a Double,
/// an NSNumber from parsed JSON, …) makes `write` return nil and the caller falls back to
/// JSONSerialization, so the output never depends on which path produced it.
enum JSONWriter {
    static func write(_ object: [String: Any]) -> [UInt8]? {
        var out: [UInt8] = []
        out.reserveCapacity(512)
        return append(object, to: &out) ? out : nil
    }

    private static func append(_ value: Any, to out: inout [UInt8]) -> Bool {
        switch ObjectIdentifier(type(of: value)) {
        case ObjectIdentifier(String.self): appendString(value as! String, to: &out)
        case ObjectIdentifier(Bool.self): out += (value as! Bool) ? Array("true".utf8) : Array("false".utf8)
        case ObjectIdentifier(Int.self): out += Array(String(value as! Int).utf8)
        case ObjectIdentifier(Int64.self): out += Array(String(value as! Int64).utf8)
        case ObjectIdentifier(Int32.self): out += Array(String(value as! Int32).utf8)
        default:
            if let object = value as? [String: Any] {
                out.append(UInt8(ascii: "{"))
                for (index, key) in object.keys.sorted().enumerated() {
                    if index > 0 { out.append(UInt8(ascii: ",")) }
                    appendString(key, to: &out)
                    out.append(UInt8(ascii: ":"))
                    guard append(object[key]!, to: &out) else { return false }
                }
                out.append(UInt8(ascii: "}"))
            } else if let array = value as? [Any] {
                out.append(UInt8(ascii: "["))
                for (index, element) in array.enumerated() {
                    if index > 0 { out.append(UInt8(ascii: ",")) }
                    guard append(element, to: &out) else { return false }
                }
                out.append(UInt8(ascii: "]"))
            } else {
                return false
            }
        }
        return true
    }

    /// A JSON string (RFC 8259 §7): quote, backslash and control characters escaped, the
    /// rest as UTF-8 (slashes unescaped, as `.withoutEscapingSlashes`).
    private static func appendString(_ text: String, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): out += [UInt8(ascii: "\\"), UInt8(ascii: "\"")]
            case UInt8(ascii: "\\"): out += [UInt8(ascii: "\\"), UInt8(ascii: "\\")]
            case 0x0A: out += [UInt8(ascii: "\\"), UInt8(ascii: "n")]
            case 0x0D: out += [UInt8(ascii: "\\"), UInt8(ascii: "r")]
            case 0x09: out += [UInt8(ascii: "\\"), UInt8(ascii: "t")]
            case 0x08: out += [UInt8(ascii: "\\"), UInt8(ascii: "b")]
            case 0x0C: out += [UInt8(ascii: "\\"), UInt8(ascii: "f")]
            case 0..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                out += [UInt8(ascii: "\\"), UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"),
                        hex[Int(byte >> 4)], hex[Int(byte & 0xF)]]
            default: out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
    }
}
