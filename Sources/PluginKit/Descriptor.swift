import PluginAPI

/// The C signature of `create`. A plugin passes a non-capturing closure that
/// calls `createInstance(MyInstance.self, $0, $1, $2)`: `@convention(c)` cannot
/// capture, so this one line is the only per-plugin glue.
public typealias CreateFunction = @convention(c) (
    UnsafePointer<acmeeh_create_params>?, UnsafeMutablePointer<UnsafeMutableRawPointer?>?,
    UnsafeMutablePointer<acmeeh_error>?
) -> Int32

/// One challenge type a validator serves (`acmeeh_challenge_type_info`).
public struct ChallengeTypeInfo: Sendable {
    public var challengeType: String
    /// `ACMEEH_IDENTIFIER_*` bits.
    public var identifierTypes: UInt32
    public var usesToken: Bool
    public init(_ challengeType: String, identifierTypes: UInt32, usesToken: Bool = true) {
        self.challengeType = challengeType
        self.identifierTypes = identifierTypes
        self.usesToken = usesToken
    }
}

/// Builds a plugin's static descriptor, with PluginKit's thunks for every
/// function but `create`.
///
/// Typical plugin file:
///
///     nonisolated(unsafe) let descriptor = PluginDescriptor.ca(
///         name: "CAFile", version: "0.1.0", description: "...",
///         create: { createInstance(CAFile.self, $0, $1, $2) })
///
///     @_cdecl("acmeeh_plugin_register")
///     public func acmeeh_plugin_register(_ hostABIVersion: UInt32) -> UnsafePointer<acmeeh_plugin_descriptor>? {
///         descriptor
///     }
///
/// The descriptor and its strings are allocated once and never freed (the
/// header: "static, never freed, never changed"). It is returned whatever the
/// host's ABI version: the host reports a major mismatch itself.
public enum PluginDescriptor {
    /// A CA plugin. `poll` installs `ca_poll` (only for CAs that answer PENDING); `crl`
    /// installs `ca_sign_crl` (ABI 1.1; the instance implements `CAInstance.signCRL`);
    /// `precertificate` announces `ACMEEH_CA_FEATURE_PRECERTIFICATE` (ABI 1.1; `sign` honours
    /// `SignRequest.precertificate` and `sctList`).
    public static func ca(name: String, version: String, description: String,
                          create: CreateFunction, poll: Bool = false, crl: Bool = false,
                          precertificate: Bool = false) -> UnsafePointer<acmeeh_plugin_descriptor> {
        var d = base(kind: ACMEEH_KIND_CA, name: name, version: version, description: description, create: create)
        d.ca_sign = caSignThunk
        d.ca_poll = poll ? caPollThunk : nil
        d.ca_revoke = caRevokeThunk
        d.ca_sign_crl = crl ? caSignCRLThunk : nil
        d.ca_features = precertificate ? UInt64(ACMEEH_CA_FEATURE_PRECERTIFICATE) : 0
        return permanent(d)
    }

    /// A challenge validator serving `types`. `cleanup` installs `challenge_cleanup`.
    public static func challenge(name: String, version: String, description: String,
                                 types: [ChallengeTypeInfo], create: CreateFunction,
                                 cleanup: Bool = false) -> UnsafePointer<acmeeh_plugin_descriptor> {
        var d = base(kind: ACMEEH_KIND_CHALLENGE, name: name, version: version, description: description, create: create)
        let table = UnsafeMutablePointer<acmeeh_challenge_type_info>.allocate(capacity: max(1, types.count))
        for (i, t) in types.enumerated() {
            table[i] = acmeeh_challenge_type_info(
                challenge_type: Buffers.permanentCString(t.challengeType),
                identifier_types: t.identifierTypes,
                uses_token: t.usesToken ? 1 : 0)
        }
        d.challenge_types = UnsafePointer(table)
        d.challenge_type_count = types.count
        d.challenge_validate = challengeValidateThunk
        d.challenge_cleanup = cleanup ? challengeCleanupThunk : nil
        return permanent(d)
    }

    static func base(kind: Int32, name: String, version: String, description: String,
                             create: CreateFunction) -> acmeeh_plugin_descriptor {
        var d = acmeeh_plugin_descriptor()
        // This header's full size and version: the host reads min(this, its own size).
        d.struct_size = UInt32(MemoryLayout<acmeeh_plugin_descriptor>.size)
        d.abi_version = PluginABI.version
        d.kind = kind
        d.name = Buffers.permanentCString(name)
        d.version = Buffers.permanentCString(version)
        d.description = Buffers.permanentCString(description)
        d.create = create
        d.destroy = destroyThunk
        d.buffer_free = bufferFreeThunk
        d.self_check = selfCheckThunk
        return d
    }

    static func permanent(_ d: acmeeh_plugin_descriptor) -> UnsafePointer<acmeeh_plugin_descriptor> {
        let p = UnsafeMutablePointer<acmeeh_plugin_descriptor>.allocate(capacity: 1)
        p.initialize(to: d)
        return UnsafePointer(p)
    }
}

// MARK: - create

/// Runs `T.init` for `create`: checks the params, boxes the instance with
/// `Unmanaged` (retained until `destroy`), or fills `err`.
public func createInstance<T: PluginInstance>(
    _ type: T.Type, _ params: UnsafePointer<acmeeh_create_params>?,
    _ instance: UnsafeMutablePointer<UnsafeMutableRawPointer?>?, _ err: UnsafeMutablePointer<acmeeh_error>?
) -> Int32 {
    instance?.pointee = nil
    guard let params, let instance else {
        PluginError.internal("create called with NULL params or instance").fill(err)
        return ACMEEH_STATUS_ERROR
    }
    guard let p = borrowedStruct(params, v1Size: ACMEEH_CREATE_PARAMS_V1_SIZE) else {
        PluginError.internal("create params struct_size \(params.pointee.struct_size) is smaller than the v1.0 layout (\(ACMEEH_CREATE_PARAMS_V1_SIZE) bytes)").fill(err)
        return ACMEEH_STATUS_ERROR
    }
    let context = CreateContext(
        configJSON: borrowedString(p.config_json) ?? "{}",
        configPath: borrowedString(p.config_path) ?? "config",
        challengeType: borrowedString(p.challenge_type),
        log: HostLog(p.host))
    do {
        let object = try T(context)
        instance.pointee = Unmanaged.passRetained(object as AnyObject).toOpaque()
        return ACMEEH_STATUS_OK
    } catch {
        asPluginError(error).fill(err)
        return ACMEEH_STATUS_ERROR
    }
}

// MARK: - thunks

/// Any thrown error as a `PluginError` (others become ACMEEH_E_INTERNAL).
func asPluginError(_ error: any Error) -> PluginError {
    (error as? PluginError) ?? .internal("\(error)")
}

func object(_ instance: UnsafeMutableRawPointer?) -> AnyObject? {
    guard let instance else { return nil }
    return Unmanaged<AnyObject>.fromOpaque(instance).takeUnretainedValue()
}

func fail(_ error: PluginError, _ err: UnsafeMutablePointer<acmeeh_error>?) -> Int32 {
    error.fill(err)
    return ACMEEH_STATUS_ERROR
}

private let destroyThunk: @convention(c) (UnsafeMutableRawPointer?) -> Void = { instance in
    guard let instance else { return }
    Unmanaged<AnyObject>.fromOpaque(instance).release()
}

private let bufferFreeThunk: @convention(c) (UnsafeMutableRawPointer?) -> Void = { Buffers.free($0) }

private let selfCheckThunk: @convention(c) (UnsafeMutableRawPointer?, Int64, UnsafeMutablePointer<acmeeh_error>?) -> Int32 = {
    instance, deadline, err in
    guard let object = object(instance) as? any PluginInstance else {
        return fail(.internal("self_check called with an unknown instance"), err)
    }
    do {
        try object.selfCheck(deadline: Deadline(milliseconds: deadline))
        return ACMEEH_STATUS_OK
    } catch {
        return fail(asPluginError(error), err)
    }
}

private func write(_ outcome: SignOutcome, to result: UnsafeMutablePointer<acmeeh_ca_sign_result>) throws(PluginError) -> Int32 {
    switch outcome {
    case let .issued(pemChain, serialHex, notBefore, notAfter):
        let chain = try Buffers.cString(pemChain)
        let serial: UnsafeMutablePointer<CChar>
        do { serial = try Buffers.cString(serialHex) } catch { Buffers.free(chain); throw error }
        result.pointee.pem_chain = chain
        result.pointee.pem_chain_len = pemChain.utf8.count
        result.pointee.serial_hex = serial
        result.pointee.not_before = notBefore
        result.pointee.not_after = notAfter
        return ACMEEH_STATUS_OK
    case let .pending(handle, retryAfter):
        result.pointee.pending_handle = try Buffers.cString(handle)
        result.pointee.retry_after_seconds = retryAfter
        return ACMEEH_STATUS_PENDING
    }
}

private func clear(_ result: UnsafeMutablePointer<acmeeh_ca_sign_result>) {
    result.pointee.pem_chain = nil
    result.pointee.pem_chain_len = 0
    result.pointee.serial_hex = nil
    result.pointee.pending_handle = nil
}

private let caSignThunk: @convention(c) (
    UnsafeMutableRawPointer?, UnsafePointer<acmeeh_ca_sign_request>?,
    UnsafeMutablePointer<acmeeh_ca_sign_result>?, UnsafeMutablePointer<acmeeh_error>?
) -> Int32 = { instance, request, result, err in
    guard let ca = object(instance) as? any CAInstance, let request, let result else {
        return fail(.internal("ca_sign called with NULL or unknown arguments"), err)
    }
    guard let r = borrowedStruct(request, v1Size: ACMEEH_CA_SIGN_REQUEST_V1_SIZE),
          coversV1(result.pointee.struct_size, ACMEEH_CA_SIGN_RESULT_V1_SIZE) else {
        return fail(.internal("ca_sign request/result struct_size is smaller than the v1.0 layout"), err)
    }
    clear(result)
    guard let csr = r.csr_der, r.csr_der_len > 0 else {
        return fail(.invalidInput("the CSR is empty", problemType: ProblemType.badCSR), err)
    }
    let signRequest = SignRequest(
        csrDER: Array(UnsafeBufferPointer(start: csr, count: r.csr_der_len)),
        profile: borrowedString(r.profile) ?? "default",
        profileJSON: borrowedString(r.profile_json) ?? "{}",
        notBefore: r.not_before, notAfter: r.not_after, validityDays: r.validity_days,
        serialHex: borrowedString(r.serial_hex),
        deadline: Deadline(milliseconds: r.deadline_ms),
        // 1.1 fields: borrowedStruct left them NULL when the host's struct_size stops before them.
        crlDistributionPoint: borrowedString(r.crl_distribution_point),
        ocspURL: borrowedString(r.ocsp_url),
        precertificate: r.precertificate != 0,
        sctList: r.sct_list.map { Array(UnsafeBufferPointer(start: $0, count: r.sct_list_len)) })
    do {
        return try write(try ca.sign(signRequest), to: result)
    } catch {
        return fail(asPluginError(error), err)
    }
}

private let caPollThunk: @convention(c) (
    UnsafeMutableRawPointer?, UnsafePointer<CChar>?, Int64,
    UnsafeMutablePointer<acmeeh_ca_sign_result>?, UnsafeMutablePointer<acmeeh_error>?
) -> Int32 = { instance, handle, deadline, result, err in
    guard let ca = object(instance) as? any CAInstance, let handle, let result else {
        return fail(.internal("ca_poll called with NULL or unknown arguments"), err)
    }
    guard coversV1(result.pointee.struct_size, ACMEEH_CA_SIGN_RESULT_V1_SIZE) else {
        return fail(.internal("ca_poll result struct_size is smaller than the v1.0 layout"), err)
    }
    clear(result)
    do {
        let outcome = try ca.poll(handle: borrowedString(handle) ?? "", deadline: Deadline(milliseconds: deadline))
        return try write(outcome, to: result)
    } catch {
        return fail(asPluginError(error), err)
    }
}

private let caRevokeThunk: @convention(c) (
    UnsafeMutableRawPointer?, UnsafePointer<acmeeh_ca_revoke_request>?, UnsafeMutablePointer<acmeeh_error>?
) -> Int32 = { instance, request, err in
    guard let ca = object(instance) as? any CAInstance, let request else {
        return fail(.internal("ca_revoke called with NULL or unknown arguments"), err)
    }
    guard let r = borrowedStruct(request, v1Size: ACMEEH_CA_REVOKE_REQUEST_V1_SIZE) else {
        return fail(.internal("ca_revoke request struct_size is smaller than the v1.0 layout"), err)
    }
    let der: [UInt8] = r.certificate_der.map { Array(UnsafeBufferPointer(start: $0, count: r.certificate_der_len)) } ?? []
    let revokeRequest = RevokeRequest(
        serialHex: borrowedString(r.serial_hex) ?? "", certificateDER: der,
        reason: r.reason >= 0 ? r.reason : nil, deadline: Deadline(milliseconds: r.deadline_ms))
    do {
        try ca.revoke(revokeRequest)
        return ACMEEH_STATUS_OK
    } catch {
        return fail(asPluginError(error), err)
    }
}

private func challengeRequest(_ r: acmeeh_challenge_request) -> ChallengeRequest {
    ChallengeRequest(
        challengeType: borrowedString(r.challenge_type) ?? "",
        identifierType: borrowedString(r.identifier_type) ?? "",
        identifierValue: borrowedString(r.identifier_value) ?? "",
        token: borrowedString(r.token), keyAuthorization: borrowedString(r.key_authorization),
        accountURL: borrowedString(r.account_url) ?? "", wildcard: r.wildcard != 0,
        deadline: Deadline(milliseconds: r.deadline_ms))
}

private let challengeValidateThunk: @convention(c) (
    UnsafeMutableRawPointer?, UnsafePointer<acmeeh_challenge_request>?, UnsafeMutablePointer<acmeeh_error>?
) -> Int32 = { instance, request, err in
    guard let validator = object(instance) as? any ChallengeInstance, let request else {
        return fail(.internal("challenge_validate called with NULL or unknown arguments"), err)
    }
    guard let r = borrowedStruct(request, v1Size: ACMEEH_CHALLENGE_REQUEST_V1_SIZE) else {
        return fail(.internal("challenge request struct_size is smaller than the v1.0 layout"), err)
    }
    do {
        try validator.validate(challengeRequest(r))
        return ACMEEH_STATUS_OK
    } catch {
        return fail(asPluginError(error), err)
    }
}

private let challengeCleanupThunk: @convention(c) (
    UnsafeMutableRawPointer?, UnsafePointer<acmeeh_challenge_request>?
) -> Void = { instance, request in
    guard let validator = object(instance) as? any ChallengeInstance, let request,
          let r = borrowedStruct(request, v1Size: ACMEEH_CHALLENGE_REQUEST_V1_SIZE) else { return }
    validator.cleanup(challengeRequest(r))
}
