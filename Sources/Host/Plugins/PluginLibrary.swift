#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import PluginAPI
import Synchronization

/// What a challenge validator declares it serves (`acmeeh_challenge_type_info`).
struct ChallengeTypeInfo: Sendable, Equatable {
    var challengeType: String
    var supportsDNS: Bool
    var supportsIP: Bool
    var usesToken: Bool
}

/// One plugin shared library, opened once for the life of the process (never `dlclose`d),
/// whose descriptor passed the ABI checks. Shared by every instance created from it.
///
/// The only place in the host that calls `dlopen`.
final class PluginLibrary: @unchecked Sendable {
    // @unchecked: every stored property is immutable after init; the descriptor is a static
    // struct inside the library that the ABI says is never freed or changed.

    /// The path as given to the loader (resolved from the configuration).
    let path: String
    let kind: PluginKind
    let name: String
    let version: String
    let summary: String
    /// The `ACMEEH_ABI_VERSION` the plugin was built against.
    let abiVersion: UInt32
    let descriptorSize: UInt32
    let challengeTypes: [ChallengeTypeInfo]
    /// A copy of the checked descriptor (its function pointers point into the library).
    let descriptor: acmeeh_plugin_descriptor

    var abiVersionText: String { HostABI.text(abiVersion) }
    /// The ABI minor the plugin was built for.
    var abiMinor: UInt32 { abiVersion & 0xFFFF }

    /// The optional functions of this plugin's kind, each with whether the plugin has it
    /// (a function past the plugin's descriptor size counts as absent).
    var optionalFunctions: [(name: String, present: Bool)] {
        let d = descriptor
        switch kind {
        case .ca: return [("self_check", d.self_check != nil), ("ca_poll", d.ca_poll != nil), ("ca_sign_crl", d.ca_sign_crl != nil)]
        case .challenge: return [("self_check", d.self_check != nil), ("challenge_cleanup", d.challenge_cleanup != nil)]
        case .notifier: return [("self_check", d.self_check != nil)]
        }
    }

    /// Whether this CA signs RFC 6962 precertificates and embeds SCT lists
    /// (`ACMEEH_CA_FEATURE_PRECERTIFICATE`, ABI 1.1).
    var signsPrecertificates: Bool {
        kind == .ca && descriptor.ca_features & UInt64(ACMEEH_CA_FEATURE_PRECERTIFICATE) != 0
    }

    /// The `ACMEEH_CA_FEATURE_*` names this plugin announces.
    var features: [String] { signsPrecertificates ? ["precertificate"] : [] }

    private init(path: String, descriptor: acmeeh_plugin_descriptor, kind: PluginKind, challengeTypes: [ChallengeTypeInfo]) {
        self.path = path
        self.descriptor = descriptor
        self.kind = kind
        self.name = descriptor.name.map { String(cString: $0) } ?? ""
        self.version = descriptor.version.map { String(cString: $0) } ?? ""
        self.summary = descriptor.description.map { String(cString: $0) } ?? ""
        self.abiVersion = descriptor.abi_version
        self.descriptorSize = descriptor.struct_size
        self.challengeTypes = challengeTypes
    }

    /// Libraries already loaded, by canonical path: each file is opened and registered once.
    private static let loaded = Mutex<[String: PluginLibrary]>([:])

    /// Loads (or reuses) the library at `path` and checks that it is a plugin of `kind`.
    /// Every failure is a `PluginLoadError` naming `configKey`, `path` and the cause.
    static func load(path: String, expecting kind: PluginKind, configKey: String) throws(PluginLoadError) -> PluginLibrary {
        func fail(_ cause: String) -> PluginLoadError { PluginLoadError(configKey: configKey, path: path, cause: cause) }

        var info = stat()
        guard stat(path, &info) == 0 else {
            let reason = errno == ENOENT || errno == ENOTDIR ? "file not found" : "cannot read file (\(String(cString: strerror(errno))))"
            throw fail(reason)
        }
        guard (info.st_mode & S_IFMT) == S_IFREG else { throw fail("not a shared library (not a regular file)") }
        let key = canonicalPath(path)

        let library: PluginLibrary
        do {
            library = try loaded.withLock { (cache: inout [String: PluginLibrary]) throws(PluginLoadError) -> PluginLibrary in
                if let existing = cache[key] { return existing }
                let fresh = try open(path: path, fail: fail)
                cache[key] = fresh
                return fresh
            }
        }
        guard library.kind == kind else {
            throw fail("wrong kind: \(library.name) is a \(library.kind) plugin, \(configKey) needs a \(kind) plugin")
        }
        return library
    }

    private static func canonicalPath(_ path: String) -> String {
        guard let resolved = realpath(path, nil) else { return path }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    /// dlopen + dlsym + register + the descriptor checks (called with the cache lock held, so
    /// `acmeeh_plugin_register` runs once per load, from one thread).
    private static func open(path: String, fail: (String) -> PluginLoadError) throws(PluginLoadError) -> PluginLibrary {
        _ = dlerror()
        // Rule 6: RTLD_LOCAL so plugins never see each other's symbols; RTLD_NOW so a missing
        // dependency fails here, at startup, instead of at the first call.
        guard let handle = dlopen(path, RTLD_NOW | RTLD_LOCAL) else {
            let reason = dlerror().map { String(cString: $0) } ?? "unknown dlopen error"
            throw fail(isELF(path) ? "cannot be loaded (\(reason))" : "not a shared library (\(reason))")
        }
        // Never dlclose: instances, function pointers and static strings of the plugin stay in use.
        guard let symbol = dlsym(handle, ACMEEH_PLUGIN_ENTRY_SYMBOL) else {
            throw fail("no symbol \(ACMEEH_PLUGIN_ENTRY_SYMBOL)")
        }
        let register = unsafeBitCast(symbol, to: acmeeh_plugin_register_fn.self)
        guard let raw = register(HostABI.version) else {
            throw fail("\(ACMEEH_PLUGIN_ENTRY_SYMBOL) returned no descriptor (the plugin refuses host ABI \(HostABI.text(HostABI.version)))")
        }

        // Read the two leading fields without assuming the rest of the struct exists.
        let header = UnsafeRawPointer(raw)
        let size = header.loadUnaligned(fromByteOffset: 0, as: UInt32.self)
        guard size >= 8 else { throw fail("descriptor too small (\(size) bytes, need at least \(HostABI.descriptorV1Size))") }
        let abi = header.loadUnaligned(fromByteOffset: 4, as: UInt32.self)
        guard abi >> 16 == HostABI.major else {
            throw fail("ABI major \(abi >> 16), this host speaks \(HostABI.major)")
        }
        guard Int(size) >= HostABI.descriptorV1Size else {
            throw fail("descriptor too small (\(size) bytes, need at least \(HostABI.descriptorV1Size))")
        }

        // Only the bytes the plugin declared exist: copy min(its struct_size, ours) into a zeroed
        // descriptor, so a function appended after the plugin's minor reads as NULL (absent).
        let descriptor = copyDescriptor(raw, declaredSize: Int(size))
        guard let kind = PluginKind(cValue: descriptor.kind) else { throw fail("unknown plugin kind \(descriptor.kind)") }
        guard let name = descriptor.name, name.pointee != 0 else { throw fail("descriptor has no name") }
        _ = name

        var missing: [String] = []
        if descriptor.create == nil { missing.append("create") }
        if descriptor.destroy == nil { missing.append("destroy") }
        var challengeTypes: [ChallengeTypeInfo] = []
        switch kind {
        case .ca:
            // sign/poll return buffers, so buffer_free is required; ca_poll and self_check are optional.
            if descriptor.buffer_free == nil { missing.append("buffer_free") }
            if descriptor.ca_sign == nil { missing.append("ca_sign") }
            if descriptor.ca_revoke == nil { missing.append("ca_revoke") }
        case .challenge:
            if descriptor.challenge_validate == nil { missing.append("challenge_validate") }
        case .notifier:
            if descriptor.notifier_deliver == nil { missing.append("notifier_deliver") }
        }
        guard missing.isEmpty else {
            throw fail("descriptor lacks required function\(missing.count > 1 ? "s" : "") \(missing.joined(separator: ", "))")
        }
        if kind == .challenge {
            guard let types = descriptor.challenge_types, descriptor.challenge_type_count > 0 else {
                throw fail("challenge validator declares no challenge types")
            }
            for index in 0..<descriptor.challenge_type_count {
                let entry = types[index]
                guard let type = entry.challenge_type, type.pointee != 0 else {
                    throw fail("challenge_types[\(index)] has no challenge_type")
                }
                challengeTypes.append(ChallengeTypeInfo(
                    challengeType: String(cString: type),
                    supportsDNS: entry.identifier_types & ACMEEH_IDENTIFIER_DNS != 0,
                    supportsIP: entry.identifier_types & ACMEEH_IDENTIFIER_IP != 0,
                    usesToken: entry.uses_token != 0))
            }
        }
        return PluginLibrary(path: path, descriptor: descriptor, kind: kind, challengeTypes: challengeTypes)
    }

    /// The plugin's descriptor as this host's struct: its first min(`declaredSize`, ours) bytes,
    /// the rest zero. Never reads past the plugin's struct.
    static func copyDescriptor(_ raw: UnsafePointer<acmeeh_plugin_descriptor>, declaredSize: Int) -> acmeeh_plugin_descriptor {
        var descriptor = acmeeh_plugin_descriptor()
        withUnsafeMutableBytes(of: &descriptor) { target in
            target.copyMemory(from: UnsafeRawBufferPointer(start: UnsafeRawPointer(raw), count: min(declaredSize, target.count)))
        }
        return descriptor
    }

    /// Whether the file starts with the ELF magic, to tell "not a library at all" from
    /// "a library whose dependencies or symbols are missing".
    private static func isELF(_ path: String) -> Bool {
        guard let file = fopen(path, "rb") else { return false }
        defer { fclose(file) }
        var magic = [UInt8](repeating: 0, count: 4)
        guard fread(&magic, 1, 4, file) == 4 else { return false }
        return magic == [0x7F, 0x45, 0x4C, 0x46]
    }
}
