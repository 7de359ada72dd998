import PluginAPI

/// The three roles a plugin can play, as declared by `acmeeh_plugin_descriptor.kind`.
enum PluginKind: String, Sendable, CaseIterable, CustomStringConvertible {
    case ca
    case challenge
    case notifier

    init?(cValue: Int32) {
        switch cValue {
        case ACMEEH_KIND_CA: self = .ca
        case ACMEEH_KIND_CHALLENGE: self = .challenge
        case ACMEEH_KIND_NOTIFIER: self = .notifier
        default: return nil
        }
    }

    var cValue: Int32 {
        switch self {
        case .ca: ACMEEH_KIND_CA
        case .challenge: ACMEEH_KIND_CHALLENGE
        case .notifier: ACMEEH_KIND_NOTIFIER
        }
    }

    /// The words used in messages: "a CA plugin", "a challenge validator plugin".
    var description: String {
        switch self {
        case .ca: "CA"
        case .challenge: "challenge validator"
        case .notifier: "notifier"
        }
    }
}

/// The host's own ABI version, split into its parts (`ACMEEH_ABI_VERSION = major << 16 | minor`).
enum HostABI {
    static let major: UInt32 = UInt32(ACMEEH_ABI_VERSION_MAJOR)
    static let minor: UInt32 = UInt32(ACMEEH_ABI_VERSION_MINOR)
    static let version: UInt32 = major << 16 | minor

    /// Size of the v1.0 descriptor, frozen in the header (`ACMEEH_DESCRIPTOR_V1_SIZE`): the
    /// smallest descriptor this host accepts, whatever minor it was built for.
    static let descriptorV1Size = Int(ACMEEH_DESCRIPTOR_V1_SIZE)
    /// Size of the descriptor as this host knows it: it reads at most this many bytes.
    static let descriptorSize = MemoryLayout<acmeeh_plugin_descriptor>.size

    static func text(_ version: UInt32) -> String { "\(version >> 16).\(version & 0xFFFF)" }
}
