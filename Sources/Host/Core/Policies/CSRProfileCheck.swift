import Foundation

/// The CSR profile at finalize (RFC 8555 §7.4): the account's profile, read in the
/// finalize batch with the facts its rules need, applied to the CSR; and the dry run of
/// a stored profile for the admin API.
extension CoreServices {
    /// Whether finalize reads the account's CSR profile: with the admin API (which assigns
    /// profiles) or `security.require_csr_profile`. Otherwise finalize sends no statement for it.
    var csrProfilesActive: Bool { config.adminAPI.enabled || config.security.requireCSRProfile }

    /// Whether an external account binding carries the credential's allowlist and CSR
    /// profile to its account: when either policy is active (the admin API manages them).
    var eabPoliciesActive: Bool { csrProfilesActive || config.security.identifierPolicy.enforceAccountAllowlist }

    /// The statement finalize adds to its batch, when profiles are active (`inspected` then
    /// carries the key's fingerprint).
    func csrProfileRead(account: Account, _ inspected: CSRPolicy.Inspected) -> BatchStatement? {
        guard csrProfilesActive, let fingerprint = inspected.publicKeyFingerprint else { return nil }
        return .accountCSRProfileFacts(accountID: account.id, publicKeyFingerprint: fingerprint,
                                       names: inspected.requested.map(\.value))
    }

    /// The refusal of the CSR by the account's profile (`facts`, nil: the account has none),
    /// or nil: one `badCSR` whose subproblems carry every violation; without a profile
    /// under `security.require_csr_profile`, `badCSR` with 403.
    /// The CSR is read for the profile's rules only when there is a profile.
    func csrProfileRefusal(_ facts: CSRProfileFacts?, csrDER: [UInt8]) -> Problem? {
        guard let facts else {
            guard config.security.requireCSRProfile else { return nil }
            return Problem(.badCSR, "this server requires a CSR profile for the account, and none is assigned to it",
                           refusal: .forbidden)
        }
        let profile: CSRProfile
        do {
            profile = try CSRProfile(json: facts.profile.profileData)
        } catch {
            logger.error("stored CSR profile is invalid", metadata: ["profile": "\(facts.profile.name)", "error": "\(error)"])
            return Problem(.serverInternal, "the account's CSR profile \"\(facts.profile.name)\" is invalid; contact the operators")
        }
        guard let csr = CSRContents(der: csrDER) else {
            return Problem(.badCSR, "the csr is not a DER PKCS#10 certification request")
        }
        let violations = profile.violations(of: csr, context: .init(keyAlreadyIssued: facts.keyAlreadyIssued,
                                                                    sameNamesNotAfter: facts.sameNamesNotAfter))
        return Self.profileProblem(violations, profileName: facts.profile.name)
    }

    static func profileProblem(_ violations: [String], profileName: String) -> Problem? {
        guard !violations.isEmpty else { return nil }
        return Problem(.badCSR, "the CSR violates CSR profile \"\(profileName)\": " + violations.joined(separator: "; "),
                       subproblems: violations.map { .init(type: .badCSR, detail: $0, identifier: nil) })
    }

    /// The admin API's dry run: the violations of `csrDER` under the stored profile
    /// `profileID` (rules on this server's certificates, `reuse_key` and
    /// `renewal_window_days`, are left out: there is no account). Throws `badCSR` for a
    /// CSR that does not parse, `CSRProfileError` for an invalid stored profile, nil for
    /// an unknown profile.
    func validateCSR(profileID: UUID, csrDER: [UInt8]) async throws -> [String]? {
        guard let record = try await database.withConnection({ try $0.csrProfile(id: profileID) }) else { return nil }
        return try Self.validateCSR(profileData: record.profileData, csrDER: csrDER)
    }

    /// The violations of `csrDER` under a profile not stored yet (`profile_data` JSON).
    static func validateCSR(profileData: String, csrDER: [UInt8]) throws -> [String] {
        let profile = try CSRProfile(json: profileData)
        guard let csr = CSRContents(der: csrDER) else {
            throw Problem(.badCSR, "the csr is not a DER PKCS#10 certification request")
        }
        return profile.violations(of: csr)
    }
}
