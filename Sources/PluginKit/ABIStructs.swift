import PluginAPI

/// The ABI version this copy of PluginKit was built against, from the header's parts
/// (`ACMEEH_ABI_VERSION = major << 16 | minor`).
public enum PluginABI {
    public static let major = UInt32(ACMEEH_ABI_VERSION_MAJOR)
    public static let minor = UInt32(ACMEEH_ABI_VERSION_MINOR)
    public static let version = major << 16 | minor
}

/// Copies a borrowed struct the other side allocated, as the header's versioning rule says:
/// nil when its `struct_size` is below the frozen v1.0 size `v1Size`; otherwise its first
/// min(struct_size, ours) bytes, the rest zero (fields an older host does not know read as
/// 0/NULL, fields a newer host appended are ignored). Never compares with our own sizeof.
func borrowedStruct<T>(_ pointer: UnsafePointer<T>, v1Size: UInt32) -> T? {
    let declared = Int(UnsafeRawPointer(pointer).loadUnaligned(as: UInt32.self))
    guard declared >= Int(v1Size) else { return nil }
    let size = MemoryLayout<T>.size
    let copy = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: MemoryLayout<T>.alignment)
    defer { copy.deallocate() }
    copy.initializeMemory(as: UInt8.self, repeating: 0, count: size)
    copy.copyMemory(from: UnsafeRawPointer(pointer), byteCount: min(declared, size))
    return copy.load(as: T.self)
}

/// Whether a host-allocated output struct has at least its v1.0 fields (the only ones
/// PluginKit writes into).
func coversV1(_ structSize: UInt32, _ v1Size: UInt32) -> Bool { structSize >= v1Size }
