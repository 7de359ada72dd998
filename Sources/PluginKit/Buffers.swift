#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Outputs handed to the host: allocated with `malloc`, released by the
/// plugin's `buffer_free` (which is `Buffers.free`, installed by `PluginDescriptor`).
public enum Buffers {
    /// A malloc'ed NUL-terminated copy of `string` (embedded NULs end it early on the C side).
    /// Throws `ACMEEH_E_INTERNAL` when out of memory.
    public static func cString(_ string: String) throws(PluginError) -> UnsafeMutablePointer<CChar> {
        let utf8 = Array(string.utf8)
        return try cString(bytes: utf8)
    }

    /// A malloc'ed copy of `bytes` followed by a NUL byte.
    public static func cString(bytes: [UInt8]) throws(PluginError) -> UnsafeMutablePointer<CChar> {
        guard let raw = malloc(bytes.count + 1) else {
            throw .internal("out of memory allocating \(bytes.count + 1) bytes")
        }
        let p = raw.bindMemory(to: CChar.self, capacity: bytes.count + 1)
        bytes.withUnsafeBytes { src in
            if let base = src.baseAddress { memcpy(raw, base, bytes.count) }
        }
        p[bytes.count] = 0
        return p
    }

    /// A malloc'ed copy of `bytes` (for binary outputs); never NULL, even for zero bytes.
    public static func bytes(_ bytes: [UInt8]) throws(PluginError) -> UnsafeMutablePointer<UInt8> {
        guard let raw = malloc(max(1, bytes.count)) else {
            throw .internal("out of memory allocating \(bytes.count) bytes")
        }
        bytes.withUnsafeBytes { src in
            if let base = src.baseAddress { memcpy(raw, base, bytes.count) }
        }
        return raw.bindMemory(to: UInt8.self, capacity: max(1, bytes.count))
    }

    /// Releases a pointer made by this file's functions; NULL is ignored.
    public static func free(_ pointer: UnsafeMutableRawPointer?) {
        guard let pointer else { return }
        #if canImport(Glibc)
        Glibc.free(pointer)
        #else
        Darwin.free(pointer)
        #endif
    }

    /// A copy that lives as long as the process (descriptor names, static tables).
    /// Never freed; use only for data built once per load.
    public static func permanentCString(_ string: String) -> UnsafePointer<CChar> {
        guard let p = strdup(string) else { fatalError("out of memory at plugin registration") }
        return UnsafePointer(p)
    }
}

/// A borrowed C string as a Swift String; NULL gives nil. Invalid UTF-8 is repaired (U+FFFD).
public func borrowedString(_ cString: UnsafePointer<CChar>?) -> String? {
    guard let cString else { return nil }
    return String(decoding: UnsafeRawBufferPointer(start: cString, count: strlen(cString)), as: UTF8.self)
}
