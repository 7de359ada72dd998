import Foundation
@testable import Host
import XCTest

/// The CSR profile engine against CSRs made by the openssl command line: strict loading,
/// every rule passing and failing, and every violation reported at once.
final class CSRProfileTests: XCTestCase {
    /// Keys made once for the whole class (RSA 3072 takes a moment).
    static let keys: [String: String] = {
        let directory = try! TestPaths.temporaryDirectory("acmeeh-csr-profile-keys")
        var keys: [String: String] = [:]
        for (name, arguments) in [
            ("rsa2048", ["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"]),
            ("rsa3072", ["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:3072"]),
            ("p256", ["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"]),
            ("p384", ["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-384"]),
            ("ed25519", ["genpkey", "-algorithm", "ED25519"]),
        ] {
            let path = directory.appendingPathComponent("\(name).key").path
            let result = try! Command.tool("openssl", arguments + ["-out", path])
            precondition(result.status == 0, result.stderr)
            keys[name] = path
        }
        return keys
    }()

    /// A CSR's DER: `key` one of `keys`, `subject` as `-subj`, `extensions` as `-addext` values.
    static func csr(key: String = "p256", subject: String = "/CN=www.example.com", sans: [String] = ["DNS:www.example.com"],
                    extensions: [String] = [], digest: String? = "-sha256") throws -> [UInt8] {
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("\(UUID().uuidString).csr")
        defer { try? FileManager.default.removeItem(at: out) }
        var arguments = ["req", "-new", "-key", keys[key]!, "-outform", "DER", "-out", out.path, "-subj", subject]
        if key != "ed25519", let digest { arguments.append(digest) }
        if !sans.isEmpty { arguments += ["-addext", "subjectAltName=" + sans.joined(separator: ",")] }
        for ext in extensions { arguments += ["-addext", ext] }
        let result = try Command.tool("openssl", arguments)
        guard result.status == 0 else { throw CLIFailure("openssl req: \(result.stderr)") }
        return Array(try Data(contentsOf: out))
    }

    func contents(_ der: [UInt8]) throws -> CSRContents { try XCTUnwrap(CSRContents(der: der)) }

    func violations(_ profile: String, _ der: [UInt8], context: CSRProfile.Context = .init()) throws -> [String] {
        try CSRProfile(json: profile).violations(of: try contents(der), context: context)
    }

    /// Asserts one violation naming `rule`.
    func assertRefused(_ profile: String, _ der: [UInt8], _ rule: String, context: CSRProfile.Context = .init(),
                       file: StaticString = #filePath, line: UInt = #line) throws {
        let found = try violations(profile, der, context: context)
        XCTAssertEqual(found.count, 1, "\(found)", file: file, line: line)
        XCTAssertTrue(found.first?.hasPrefix(rule + ":") ?? false, "\(found)", file: file, line: line)
    }

    func assertAllowed(_ profile: String, _ der: [UInt8], context: CSRProfile.Context = .init(),
                       file: StaticString = #filePath, line: UInt = #line) throws {
        XCTAssertEqual(try violations(profile, der, context: context), [], file: file, line: line)
    }

    // MARK: - Reading the CSR

    func testContentsOfACSR() throws {
        let csr = try contents(try Self.csr(key: "p384", subject: "/O=Example/CN=a.example.com/CN=b.example.com",
                                            sans: ["DNS:A.example.com", "IP:192.0.2.1", "email:x@example.com", "URI:https://e.example/"],
                                            extensions: ["keyUsage=digitalSignature,keyAgreement", "extendedKeyUsage=serverAuth,clientAuth"],
                                            digest: "-sha384"))
        XCTAssertEqual(csr.keyType, "EC.secp384r1")
        XCTAssertEqual(csr.keyBits, 384)
        XCTAssertEqual(csr.signatureAlgorithm, "SHA384withECDSA")
        XCTAssertEqual(csr.commonNames, ["a.example.com", "b.example.com"])
        XCTAssertEqual(csr.subject, "CN=b.example.com,CN=a.example.com,O=Example")
        XCTAssertEqual(csr.subjectAltNames.map(\.kind), ["DNS_NAME", "IP_ADDRESS", "RFC822_NAME", "UNIFORM_RESOURCE_IDENTIFIER"])
        XCTAssertEqual(csr.subjectAltNames.map(\.value), ["a.example.com", "192.0.2.1", "x@example.com", "https://e.example/"])
        XCTAssertEqual(csr.keyUsages, ["digital_signature", "key_agreement"])
        XCTAssertEqual(csr.extendedKeyUsages, ["server_auth", "client_auth"])
        XCTAssertEqual(try contents(try Self.csr(key: "p256")).keyType, "EC.secp256r1")
        XCTAssertEqual(try contents(try Self.csr(key: "rsa2048")).keyType, "RSA")
        XCTAssertEqual(try contents(try Self.csr(key: "ed25519")).signatureAlgorithm, "Ed25519")
        XCTAssertNil(CSRContents(der: [0x30, 0x00]))
    }

    // MARK: - Loading

    func testLoadingIsStrictAndNamesTheKey() {
        func refusal(_ json: String) -> CSRProfileError? {
            do { _ = try CSRProfile(json: json); return nil } catch { return error }
        }
        XCTAssertNotNil(try? CSRProfile(json: "{}"))
        XCTAssertNil(refusal(#"{"authorized_keys": {"RSA": 3072, "EC.secp384r1": 384}, "reuse_key": false, "san_maximum": -1}"#))
        let cases: [(String, String?)] = [
            (#"{"colour": "blue"}"#, "colour"),
            (#"{"authorized_keys": ["RSA"]}"#, "authorized_keys"),
            (#"{"authorized_keys": {"DSA": 2048}}"#, "authorized_keys"),
            (#"{"authorized_keys": {"RSA": "2048"}}"#, "authorized_keys"),
            (#"{"authorized_signature_algorithms": ["MD5withRSA"]}"#, "authorized_signature_algorithms"),
            (#"{"authorized_key_usages": ["digitalSignature"]}"#, "authorized_key_usages"),
            (#"{"authorized_extended_key_usages": "server_auth"}"#, "authorized_extended_key_usages"),
            (#"{"san_minimum": 1.5}"#, "san_minimum"),
            (#"{"san_minimum": true}"#, "san_minimum"),
            (#"{"san_maximum": -2}"#, "san_maximum"),
            (#"{"san_minimum": 3, "san_maximum": 2}"#, "san_maximum"),
            (#"{"common_name_regex": "(unclosed"}"#, "common_name_regex"),
            (#"{"san_types": ["DNS"]}"#, "san_types"),
            (#"{"wildcard_in_san": "no"}"#, "wildcard_in_san"),
            (#"{"reuse_key": null}"#, "reuse_key"),
            (#"{"renewal_window_days": -1}"#, "renewal_window_days"),
            (#"{"depth_base_domains": [3]}"#, "depth_base_domains"),
            (#"[]"#, nil),
            (#"not json"#, nil),
        ]
        for (json, key) in cases {
            let error = refusal(json)
            XCTAssertNotNil(error, json)
            XCTAssertEqual(error?.key, key, json)
            if let key { XCTAssertTrue(error?.description.hasPrefix(key + ":") ?? false, "\(String(describing: error))") }
        }
    }

    // MARK: - Rules

    func testAuthorizedKeys() throws {
        let profile = #"{"authorized_keys": {"RSA": 3072, "EC.secp384r1": 384}}"#
        try assertAllowed(profile, try Self.csr(key: "rsa3072"))
        try assertAllowed(profile, try Self.csr(key: "p384"))
        try assertRefused(profile, try Self.csr(key: "rsa2048"), "authorized_keys")
        try assertRefused(profile, try Self.csr(key: "p256"), "authorized_keys")
        XCTAssertTrue(try violations(profile, try Self.csr(key: "rsa2048"))[0].contains("2048 bits"))
    }

    func testAuthorizedSignatureAlgorithms() throws {
        let profile = #"{"authorized_signature_algorithms": ["SHA384withECDSA", "ED25519"]}"#
        try assertAllowed(profile, try Self.csr(key: "p256", digest: "-sha384"))
        try assertAllowed(profile, try Self.csr(key: "ed25519"))
        try assertRefused(profile, try Self.csr(key: "p256", digest: "-sha256"), "authorized_signature_algorithms")
    }

    func testKeyUsagesAndExtendedKeyUsages() throws {
        let profile = #"{"authorized_key_usages": ["digital_signature"], "authorized_extended_key_usages": ["server_auth"]}"#
        try assertAllowed(profile, try Self.csr())
        try assertAllowed(profile, try Self.csr(extensions: ["keyUsage=digitalSignature", "extendedKeyUsage=serverAuth"]))
        try assertRefused(profile, try Self.csr(extensions: ["keyUsage=digitalSignature,keyEncipherment"]), "authorized_key_usages")
        try assertRefused(profile, try Self.csr(extensions: ["extendedKeyUsage=serverAuth,codeSigning"]),
                          "authorized_extended_key_usages")
    }

    func testCountsOfCommonNamesAndSubjectAltNames() throws {
        let profile = #"{"common_name_minimum": 1, "common_name_maximum": 1, "san_minimum": 1, "san_maximum": 2}"#
        try assertAllowed(profile, try Self.csr(sans: ["DNS:a.example.com", "DNS:b.example.com"]))
        try assertRefused(profile, try Self.csr(subject: "/O=Example"), "common_name_minimum")
        try assertRefused(profile, try Self.csr(subject: "/CN=a.example.com/CN=b.example.com"), "common_name_maximum")
        try assertRefused(profile, try Self.csr(sans: []), "san_minimum")
        try assertRefused(profile, try Self.csr(sans: ["DNS:a.example.com", "DNS:b.example.com", "DNS:c.example.com"]),
                          "san_maximum")
        try assertAllowed(#"{"san_maximum": -1}"#, try Self.csr(sans: (1...5).map { "DNS:n\($0).example.com" }))
    }

    func testRegularExpressionsMatchTheWholeValue() throws {
        let profile = #"{"common_name_regex": "[a-z]+\\.example\\.com", "san_regex": ".*\\.example\\.com", "subject_regex": "CN=[^,]+,O=Example"}"#
        try assertAllowed(profile, try Self.csr(subject: "/O=Example/CN=www.example.com"))
        try assertRefused(profile, try Self.csr(subject: "/O=Example/CN=www.example.com.evil"), "common_name_regex")
        try assertRefused(profile, try Self.csr(subject: "/O=Example/CN=www.example.com",
                                                sans: ["DNS:www.example.com", "DNS:www.example.org"]), "san_regex")
        try assertRefused(profile, try Self.csr(subject: "/O=Other/CN=www.example.com"), "subject_regex")
    }

    func testSubjectAltNameTypes() throws {
        let profile = #"{"san_types": ["DNS_NAME"]}"#
        try assertAllowed(profile, try Self.csr())
        try assertRefused(profile, try Self.csr(sans: ["DNS:www.example.com", "IP:192.0.2.1"]), "san_types")
    }

    func testWildcards() throws {
        let profile = #"{"wildcard_in_common_name": false, "wildcard_in_san": false}"#
        try assertAllowed(profile, try Self.csr())
        try assertRefused(profile, try Self.csr(subject: "/CN=*.example.com"), "wildcard_in_common_name")
        try assertRefused(profile, try Self.csr(sans: ["DNS:*.example.com"]), "wildcard_in_san")
        try assertAllowed(#"{"wildcard_in_san": true}"#, try Self.csr(sans: ["DNS:*.example.com"]))
    }

    func testSubdomainDepth() throws {
        let based = #"{"max_subdomain_depth": 1, "depth_base_domains": ["corp.example.com"]}"#
        try assertAllowed(based, try Self.csr(subject: "/CN=a.corp.example.com", sans: ["DNS:a.corp.example.com"]))
        try assertRefused(based, try Self.csr(subject: "/CN=a.corp.example.com", sans: ["DNS:b.a.corp.example.com", "DNS:a.corp.example.com"]),
                          "max_subdomain_depth")
        // Below no base: measured from the last two labels.
        let unbased = #"{"max_subdomain_depth": 1}"#
        try assertAllowed(unbased, try Self.csr(subject: "/CN=www.example.com"))
        try assertRefused(unbased, try Self.csr(subject: "/CN=www.example.com", sans: ["DNS:a.b.example.com"]), "max_subdomain_depth")
        XCTAssertEqual(try CSRProfile(json: based).subdomainDepth(of: "*.x.corp.example.com"), 2)
    }

    func testReuseKeyAndRenewalWindowUseTheContext() throws {
        let der = try Self.csr()
        try assertAllowed(#"{"reuse_key": false}"#, der)
        try assertRefused(#"{"reuse_key": false}"#, der, "reuse_key", context: .init(keyAlreadyIssued: true))
        try assertAllowed(#"{"reuse_key": true}"#, der, context: .init(keyAlreadyIssued: true))
        let now = Date()
        let window = #"{"renewal_window_days": 30}"#
        try assertAllowed(window, der, context: .init(sameNamesNotAfter: nil, now: now))
        try assertAllowed(window, der, context: .init(sameNamesNotAfter: now.addingTimeInterval(20 * 86_400), now: now))
        try assertRefused(window, der, "renewal_window_days",
                          context: .init(sameNamesNotAfter: now.addingTimeInterval(60 * 86_400), now: now))
    }

    func testEveryViolationIsReported() throws {
        let profile = #"""
            {"authorized_keys": {"EC.secp384r1": 384}, "authorized_signature_algorithms": ["SHA384withECDSA"],
             "san_types": ["DNS_NAME"], "wildcard_in_san": false, "san_maximum": 1, "reuse_key": false}
            """#
        let found = try violations(profile, try Self.csr(key: "p256", sans: ["DNS:*.example.com", "IP:192.0.2.1"]),
                                   context: .init(keyAlreadyIssued: true))
        XCTAssertEqual(found.map { String($0.prefix { $0 != ":" }) },
                       ["authorized_keys", "authorized_signature_algorithms", "san_maximum", "san_types", "wildcard_in_san",
                        "reuse_key"])
    }

    func testDryRunOfAProfileNotStored() throws {
        XCTAssertEqual(try CoreServices.validateCSR(profileData: #"{"authorized_keys": {"RSA": 3072}}"#,
                                                    csrDER: try Self.csr(key: "rsa3072")), [])
        XCTAssertEqual(try CoreServices.validateCSR(profileData: #"{"authorized_keys": {"RSA": 3072}}"#,
                                                    csrDER: try Self.csr(key: "rsa2048")).count, 1)
        XCTAssertThrowsError(try CoreServices.validateCSR(profileData: "{}", csrDER: [1, 2, 3]))
    }

    // MARK: - Allowlist matching

    func testAllowlistMatching() {
        let list = AccountAllowlist([Identifier(type: "dns", value: "*.example.com"), Identifier(type: "dns", value: "exact.org"),
                                     Identifier(type: "ip", value: "192.0.2.1")])
        for allowed in ["a.example.com", "b.a.example.com", "*.example.com", "*.a.example.com", "exact.org"] {
            XCTAssertTrue(list.allows(Identifier(type: "dns", value: allowed)), allowed)
        }
        for refused in ["example.com", "www.exact.org", "xexample.com", "a.example.com.evil"] {
            XCTAssertFalse(list.allows(Identifier(type: "dns", value: refused)), refused)
        }
        XCTAssertTrue(list.allows(Identifier(type: "ip", value: "192.0.2.1")))
        XCTAssertFalse(list.allows(Identifier(type: "dns", value: "192.0.2.1")))
        XCTAssertFalse(AccountAllowlist([]).allows(Identifier(type: "dns", value: "a.example.com")))
        XCTAssertThrowsError(try list.check([Identifier(type: "dns", value: "a.example.com"), Identifier(type: "dns", value: "x.net"),
                                             Identifier(type: "dns", value: "y.net")])) { error in
            let problem = error as? Problem
            XCTAssertEqual(problem?.type, .rejectedIdentifier)
            XCTAssertEqual(problem?.subproblems.map(\.identifier?.value), ["x.net", "y.net"])
        }
        XCTAssertEqual(try AccountAllowlist.normalized(Identifier(type: "dns", value: "*.Example.COM")).value, "*.example.com")
        XCTAssertThrowsError(try AccountAllowlist.normalized(Identifier(type: "email", value: "a@b.c")))
    }
}
