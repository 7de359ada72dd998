import Foundation
import Logging
import Synchronization
import XCTest

@testable import Host

/// The `internal` CA (libCAFile.so) loaded through the host's real plugin loader, with a PKI
/// made by the openssl CLI and every certificate it issues checked with the openssl CLI.
final class CAFileTests: XCTestCase {
    override class func tearDown() {
        try? FileManager.default.removeItem(at: CAFilePKI.scratch)
        super.tearDown()
    }

    // MARK: - issuing under an RSA root

    func testRSALeafUnderRSARoot() async throws {
        let pki = try CAFilePKI.shared()
        let ca = try await loadCA(["root_cert_path": pki.rsaRootCert, "root_key_path": pki.rsaRootKey])
        let csr = try pki.csr(key: pki.rsaLeafKey, subject: "/O=Ignored Org/CN=cn.example.test", sans: [
            "DNS:www.example.test", "DNS:example.test", "IP:192.0.2.10", "IP:2001:db8::10", "email:admin@example.test",
        ])
        let before = Int64(Date().timeIntervalSince1970)
        let issued = try await sign(ca, CASignRequest(csrDER: csr, validityDays: 90, serialHex: "1a2b3c4d5e6f"))
        let after = Int64(Date().timeIntervalSince1970)

        // Chain: the leaf, then the root (the issuer) and nothing else.
        XCTAssertEqual(issued.blocks.count, 2)
        XCTAssertEqual(issued.blocks.last, try pemBlocks(String(contentsOfFile: pki.rsaRootCert, encoding: .utf8)).first)
        try assertVerifies(issued, root: pki.rsaRootCert, purpose: "sslserver")

        let leaf = issued.leaf
        XCTAssertTrue(try x509(leaf, ["-text"]).contains("Version: 3 (0x2)"))
        XCTAssertEqual(try x509(leaf, ["-subject", "-nameopt", "RFC2253"]), "subject=CN=www.example.test")
        XCTAssertEqual(try x509(leaf, ["-issuer", "-nameopt", "RFC2253"]), "issuer=CN=Test RSA Root")
        // Exactly the CSR's DNS and IP names, in its order, then its DNS commonName (RFC 8555
        // §7.4: a dns identifier may be requested in the CN alone); the e-mail name and the O
        // are not carried over.
        XCTAssertEqual(try x509Extension(leaf, "subjectAltName"), X509Extension(
            critical: false,
            value: "DNS:www.example.test, DNS:example.test, IP Address:192.0.2.10, IP Address:2001:DB8:0:0:0:0:0:10, DNS:cn.example.test"))
        XCTAssertEqual(try x509Extension(leaf, "basicConstraints"), X509Extension(critical: true, value: "CA:FALSE"))
        XCTAssertEqual(try x509Extension(leaf, "keyUsage"),
                       X509Extension(critical: true, value: "Digital Signature, Key Encipherment"))
        XCTAssertEqual(try x509Extension(leaf, "extendedKeyUsage")?.value, "TLS Web Server Authentication")

        // AKI = the root's SKI; the leaf's own SKI is there and is not the root's.
        let rootSKI = try XCTUnwrap(try x509Extension(file: pki.rsaRootCert, "subjectKeyIdentifier")?.value)
        XCTAssertEqual(try x509Extension(leaf, "authorityKeyIdentifier")?.value, rootSKI)
        let leafSKI = try XCTUnwrap(try x509Extension(leaf, "subjectKeyIdentifier")?.value)
        XCTAssertTrue(leafSKI.range(of: #"^([0-9A-F]{2}:){19}[0-9A-F]{2}$"#, options: .regularExpression) != nil, leafSKI)
        XCTAssertNotEqual(leafSKI, rootSKI)

        // The key certified is the CSR's.
        XCTAssertEqual(try x509(leaf, ["-pubkey"]), try openssl(["pkey", "-in", pki.rsaLeafKey, "-pubout"]))
        XCTAssertTrue(try x509(leaf, ["-text"]).contains("Signature Algorithm: sha256WithRSAEncryption"))

        // The host's serial comes back and is the certificate's.
        XCTAssertEqual(issued.serial, "1a2b3c4d5e6f")
        XCTAssertEqual(try x509(leaf, ["-serial"]), "serial=1A2B3C4D5E6F")

        // Validity: from now, exactly validity_days long, as reported.
        let (notBefore, notAfter) = try validity(leaf)
        XCTAssertGreaterThanOrEqual(notBefore, before)
        XCTAssertLessThanOrEqual(notBefore, after)
        XCTAssertEqual(notAfter - notBefore, 90 * 86_400)
        XCTAssertEqual(issued.notBefore, notBefore)
        XCTAssertEqual(issued.notAfter, notAfter)

        // The file CA keeps no revocation state: revoke succeeds and changes nothing.
        try await ca.revoke(CARevokeRequest(serialHex: issued.serial, certificateDER: try der(leaf), reason: 1), timeout: .seconds(10))
        try await ca.selfCheck(timeout: .seconds(10))
    }

    func testRandomSerialWhenTheHostGivesNone() async throws {
        let pki = try CAFilePKI.shared()
        let ca = try await loadCA(["root_cert_path": pki.rsaRootCert, "root_key_path": pki.rsaRootKey,
                                   "serial_source": "random"])
        let csr = try pki.csr(key: pki.ecLeafKey, sans: ["DNS:random.example.test"])
        var serials: [String] = []
        for _ in 0..<2 {
            let issued = try await sign(ca, CASignRequest(csrDER: csr, validityDays: 7))
            let certificateSerial = try x509(issued.leaf, ["-serial"])
            XCTAssertEqual("serial=" + issued.serial.uppercased(), certificateSerial)
            XCTAssertEqual(issued.serial, issued.serial.lowercased())
            let bits = significantBits(hex: issued.serial)
            XCTAssertGreaterThan(bits, 0, issued.serial)
            XCTAssertLessThanOrEqual(bits, 159, issued.serial)
            try assertVerifies(issued, root: pki.rsaRootCert)
            serials.append(issued.serial)
        }
        XCTAssertNotEqual(serials[0], serials[1], "two random serials were equal")
    }

    func testHostSerialOutOfRangeIsRefused() async throws {
        let pki = try CAFilePKI.shared()
        let ca = try await loadCA(["root_cert_path": pki.rsaRootCert, "root_key_path": pki.rsaRootKey])
        let csr = try pki.csr(key: pki.ecLeafKey, sans: ["DNS:serial.example.test"])
        // 160 bits would need 21 DER octets (RFC 5280 §4.1.2.2 allows 20); zero and non-hex are not serials.
        for serial in ["8" + String(repeating: "0", count: 39), "0", "12g4", ""] {
            let error = try await signError(ca, CASignRequest(csrDER: csr, validityDays: 7, serialHex: serial))
            XCTAssertEqual(error.code, .invalidInput, "serial \(serial): \(error)")
            XCTAssertTrue(error.detail.contains("serial_hex"), error.detail)
            XCTAssertFalse(error.retryable)
        }
        // The largest serial allowed, 159 bits, is accepted as it is.
        let largest = "7" + String(repeating: "f", count: 39)
        let issued = try await sign(ca, CASignRequest(csrDER: csr, validityDays: 7, serialHex: largest))
        XCTAssertEqual(issued.serial, largest)
        XCTAssertEqual(try x509(issued.leaf, ["-serial"]), "serial=" + largest.uppercased())
    }

    // MARK: - EC

    func testECLeafUnderECRootWithSHA384() async throws {
        let pki = try CAFilePKI.shared()
        let ca = try await loadCA(["root_cert_path": pki.ecRootCert, "root_key_path": pki.ecRootKey,
                                   "hash_algorithm": "sha384"])
        // A CN that is also a subjectAltName is not named twice.
        let csr = try pki.csr(key: pki.ecLeafKey, subject: "/CN=EC.example.test", sans: ["DNS:ec.example.test", "IP:198.51.100.4"])
        let issued = try await sign(ca, CASignRequest(csrDER: csr, validityDays: 30, serialHex: "0badcafe"))
        try assertVerifies(issued, root: pki.ecRootCert, purpose: "sslserver")

        let leaf = issued.leaf
        XCTAssertEqual(try x509Extension(leaf, "keyUsage"), X509Extension(critical: true, value: "Digital Signature"))
        XCTAssertEqual(try x509Extension(leaf, "extendedKeyUsage")?.value, "TLS Web Server Authentication")
        XCTAssertEqual(try x509Extension(leaf, "subjectAltName"),
                       X509Extension(critical: false, value: "DNS:ec.example.test, IP Address:198.51.100.4"))
        let text = try x509(leaf, ["-text"])
        XCTAssertTrue(text.contains("Signature Algorithm: ecdsa-with-SHA384"), text)
        XCTAssertFalse(text.contains("ecdsa-with-SHA256"), text)
        XCTAssertTrue(text.contains("NIST CURVE: P-256"), text)
        XCTAssertEqual(try x509Extension(leaf, "authorityKeyIdentifier")?.value,
                       try x509Extension(file: pki.ecRootCert, "subjectKeyIdentifier")?.value)
        XCTAssertEqual(issued.serial, "0badcafe")
        XCTAssertEqual(try x509(leaf, ["-serial"]), "serial=0BADCAFE")
    }

    func testIPOnlyCSRGetsAnEmptySubjectAndCriticalSAN() async throws {
        let pki = try CAFilePKI.shared()
        let ca = try await loadCA(["root_cert_path": pki.rsaRootCert, "root_key_path": pki.rsaRootKey])
        let csr = try pki.csr(key: pki.ecLeafKey, subject: "/", sans: ["IP:192.0.2.7", "IP:2001:db8::1"])
        let issued = try await sign(ca, CASignRequest(csrDER: csr, validityDays: 10))
        try assertVerifies(issued, root: pki.rsaRootCert, purpose: "sslserver")

        XCTAssertEqual(try x509(issued.leaf, ["-subject", "-nameopt", "RFC2253"]), "subject=")
        XCTAssertEqual(try x509Extension(issued.leaf, "subjectAltName"),
                       X509Extension(critical: true, value: "IP Address:192.0.2.7, IP Address:2001:DB8:0:0:0:0:0:1"))
        XCTAssertEqual(try x509Extension(issued.leaf, "keyUsage")?.value, "Digital Signature")
    }

    // MARK: - intermediate issuer and chain_path

    func testIntermediateIssuerServesLeafIntermediateRoot() async throws {
        let pki = try CAFilePKI.shared()
        let intermediatePEM = try pemBlocks(String(contentsOfFile: pki.intermediateCert, encoding: .utf8))
        let rootPEM = try pemBlocks(String(contentsOfFile: pki.rsaRootCert, encoding: .utf8))
        XCTAssertEqual(intermediatePEM.count, 1)
        XCTAssertEqual(rootPEM.count, 1)
        // chain_path holding the root only, and holding the intermediate again before the root
        // (the issuer is not served twice).
        let scratch = try scratchDirectory()
        let bundle = scratch.appendingPathComponent("intermediate-and-root.pem").path
        try (intermediatePEM + rootPEM).joined().write(toFile: bundle, atomically: true, encoding: .utf8)

        for chainPath in [pki.rsaRootCert, bundle] {
            let logs = CAFileLogCapture()
            let ca = try await loadCA(["root_cert_path": pki.intermediateCert, "root_key_path": pki.intermediateKey,
                                       "chain_path": chainPath], logs: logs)
            let csr = try pki.csr(key: pki.rsaLeafKey, sans: ["DNS:chain.example.test"])
            let issued = try await sign(ca, CASignRequest(csrDER: csr, validityDays: 30))

            XCTAssertEqual(issued.blocks.count, 3, "chain_path \(chainPath)")
            XCTAssertEqual(Array(issued.blocks.dropFirst()), intermediatePEM + rootPEM, "chain_path \(chainPath)")
            XCTAssertEqual(try x509(issued.leaf, ["-issuer", "-nameopt", "RFC2253"]), "issuer=CN=Test EC P-384 Intermediate")
            XCTAssertEqual(try x509Extension(issued.leaf, "authorityKeyIdentifier")?.value,
                           try x509Extension(file: pki.intermediateCert, "subjectKeyIdentifier")?.value)
            XCTAssertTrue(try x509(issued.leaf, ["-text"]).contains("Signature Algorithm: ecdsa-with-SHA256"))
            try assertVerifies(issued, root: pki.rsaRootCert, purpose: "sslserver")
            // Without the served intermediate the leaf does not verify against the root: the
            // check above really used the chain.
            let alone = try Command.tool("openssl", ["verify", "-CAfile", pki.rsaRootCert, try tempFile(issued.leaf)])
            XCTAssertNotEqual(alone.status, 0, alone.stdout)
            XCTAssertEqual(logs.lines().filter { $0.level >= .warning }.map(\.message), [], "chain_path \(chainPath)")
        }
    }

    // MARK: - validity and profiles

    func testExplicitNotBeforeAndNotAfterAreHonoured() async throws {
        let pki = try CAFilePKI.shared()
        let ca = try await loadCA(["root_cert_path": pki.rsaRootCert, "root_key_path": pki.rsaRootKey])
        let csr = try pki.csr(key: pki.ecLeafKey, sans: ["DNS:dates.example.test"])
        let notBefore = Int64(Date().timeIntervalSince1970) - 3_600
        let notAfter = notBefore + 10 * 86_400 + 123

        // Both given: validity_days is ignored.
        let both = try await sign(ca, CASignRequest(csrDER: csr, notBefore: notBefore, notAfter: notAfter, validityDays: 90))
        let bothDates = try validity(both.leaf)
        XCTAssertEqual(bothDates.notBefore, notBefore)
        XCTAssertEqual(bothDates.notAfter, notAfter)
        XCTAssertEqual(both.notBefore, notBefore)
        XCTAssertEqual(both.notAfter, notAfter)
        try assertVerifies(both, root: pki.rsaRootCert)

        // Only notBefore: notAfter = notBefore + validity_days.
        let start = try await sign(ca, CASignRequest(csrDER: csr, notBefore: notBefore, validityDays: 3))
        let startDates = try validity(start.leaf)
        XCTAssertEqual(startDates.notBefore, notBefore)
        XCTAssertEqual(startDates.notAfter, notBefore + 3 * 86_400)

        // notAfter not after notBefore: refused, not issued.
        let error = try await signError(ca, CASignRequest(csrDER: csr, notBefore: notBefore, notAfter: notBefore, validityDays: 3))
        XCTAssertEqual(error.code, .invalidInput)
        XCTAssertTrue(error.detail.contains("not_after"), error.detail)
    }

    func testProfileKeyUsagesAndExtendedKeyUsagesAreApplied() async throws {
        let pki = try CAFilePKI.shared()
        let ca = try await loadCA(["root_cert_path": pki.rsaRootCert, "root_key_path": pki.rsaRootKey])
        let csr = try pki.csr(key: pki.rsaLeafKey, sans: ["DNS:client.example.test"])
        let issued = try await sign(ca, CASignRequest(
            csrDER: csr, profile: "client",
            profileJSON: #"{"key_usages":["digital_signature"],"extended_key_usages":["client_auth"],"validity_days":30}"#,
            validityDays: 30))
        XCTAssertEqual(try x509Extension(issued.leaf, "keyUsage"), X509Extension(critical: true, value: "Digital Signature"))
        XCTAssertEqual(try x509Extension(issued.leaf, "extendedKeyUsage")?.value, "TLS Web Client Authentication")
        try assertVerifies(issued, root: pki.rsaRootCert, purpose: "sslclient")

        // Both usages at once, and RSA-only usages dropped for an EC key.
        let ecCSR = try pki.csr(key: pki.ecLeafKey, sans: ["DNS:both.example.test"])
        let both = try await sign(ca, CASignRequest(
            csrDER: ecCSR, profile: "both",
            profileJSON: #"{"key_usages":["digital_signature","key_encipherment","key_agreement"],"extended_key_usages":["server_auth","client_auth"]}"#,
            validityDays: 30))
        XCTAssertEqual(try x509Extension(both.leaf, "keyUsage"), X509Extension(critical: true, value: "Digital Signature, Key Agreement"))
        XCTAssertEqual(try x509Extension(both.leaf, "extendedKeyUsage")?.value,
                       "TLS Web Server Authentication, TLS Web Client Authentication")

        // A usage a leaf must not have is refused, naming the profile key.
        let error = try await signError(ca, CASignRequest(
            csrDER: csr, profile: "client", profileJSON: #"{"key_usages":["key_cert_sign"]}"#, validityDays: 30))
        XCTAssertEqual(error.code, .config)
        XCTAssertTrue(error.detail.contains("ca.profiles.client.key_usages"), error.detail)
    }

    // MARK: - revocation pointers

    /// The host's CRL and OCSP URLs (ABI 1.1) become cRLDistributionPoints and
    /// authorityInfoAccess id-ad-ocsp; each is left out when not handed in.
    func testCRLDistributionPointAndOCSPURLGoIntoTheLeafWhenGiven() async throws {
        let pki = try CAFilePKI.shared()
        let ca = try await loadCA(["root_cert_path": pki.rsaRootCert, "root_key_path": pki.rsaRootKey])
        let csr = try pki.csr(key: pki.rsaLeafKey, sans: ["DNS:revocation.example.test"])
        func pointers(_ issued: Issued) throws -> [String] {
            try x509(issued.leaf, ["-ext", "crlDistributionPoints,authorityInfoAccess"])
                .split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
        }

        var request = CASignRequest(csrDER: csr, validityDays: 30)
        request.crlDistributionPoint = "http://acme.example.test:8080/crl/1"
        request.ocspURL = "https://ocsp.example.test/ocsp"
        let both = try await sign(ca, request)
        XCTAssertEqual(try pointers(both), [
            "X509v3 CRL Distribution Points:", "Full Name:", "URI:http://acme.example.test:8080/crl/1",
            "Authority Information Access:", "OCSP - URI:https://ocsp.example.test/ocsp",
        ])
        XCTAssertEqual(try x509Extension(both.leaf, "crlDistributionPoints")?.critical, false)
        XCTAssertEqual(try x509Extension(both.leaf, "authorityInfoAccess")?.critical, false)
        try assertVerifies(both, root: pki.rsaRootCert, purpose: "sslserver")

        request.ocspURL = nil
        let crlOnly = try await sign(ca, request)
        XCTAssertEqual(try pointers(crlOnly), [
            "X509v3 CRL Distribution Points:", "Full Name:", "URI:http://acme.example.test:8080/crl/1",
        ])
        request.crlDistributionPoint = nil
        request.ocspURL = "http://ocsp.example.test/"
        let ocspOnly = try await sign(ca, request)
        XCTAssertEqual(try pointers(ocspOnly), [
            "Authority Information Access:", "OCSP - URI:http://ocsp.example.test/",
        ])
        let neither = try await sign(ca, CASignRequest(csrDER: csr, validityDays: 30))
        XCTAssertEqual(try pointers(neither), [])

        // The longest URL allowed fits; anything that is not an http(s) URL the extension can carry is refused.
        let longest = "http://acme.example.test/" + String(repeating: "a", count: 2048 - 25)
        request.crlDistributionPoint = longest
        let long = try await sign(ca, request)
        XCTAssertEqual(try pointers(long).filter { $0.hasPrefix("URI:") }, ["URI:" + longest])
        for (crl, ocsp) in [(longest + "a", nil), ("ftp://acme.example.test/crl", nil), ("http://", nil),
                            ("http://acme.example.test/a,URI:http://evil.test/", nil), ("http://acme.example.test/a b", nil),
                            (nil, "http://ocsp.example.test/\u{7}"), (nil, "ocsp.example.test"), (nil, "http://ocsp.example.tést/")] {
            request.crlDistributionPoint = crl
            request.ocspURL = ocsp
            let error = try await signError(ca, request)
            XCTAssertEqual(error.code, .invalidInput, "\(crl ?? "-") \(ocsp ?? "-"): \(error)")
            XCTAssertTrue(error.detail.hasPrefix(crl != nil ? "crl_distribution_point " : "ocsp_url "), error.detail)
        }
    }

    // MARK: - create() refusals

    func testKeyFileReadableByOthersIsRefused() async throws {
        let pki = try CAFilePKI.shared()
        let key = try copyKey(pki.rsaRootKey, mode: 0o644)
        let error = try await loadError(["root_cert_path": pki.rsaRootCert, "root_key_path": key])
        XCTAssertTrue(error.description.contains("ca.internal.root_key_path: \(key) is readable by group or others (mode 0644)"),
                      error.description)
    }

    func testKeyThatDoesNotMatchTheCertificateIsRefused() async throws {
        let pki = try CAFilePKI.shared()
        let error = try await loadError(["root_cert_path": pki.rsaRootCert, "root_key_path": pki.ecRootKey])
        XCTAssertTrue(error.description.contains("ca.internal.root_key_path: \(pki.ecRootKey) does not match"),
                      error.description)
    }

    func testUnknownConfigKeyIsRefused() async throws {
        let pki = try CAFilePKI.shared()
        let error = try await loadError(["root_cert_path": pki.rsaRootCert, "root_key_path": pki.rsaRootKey,
                                         "key_provider": "file"])
        XCTAssertTrue(error.description.contains("ca.internal.key_provider: unknown key"), error.description)
    }

    func testMissingRootCertificateFileIsRefused() async throws {
        let pki = try CAFilePKI.shared()
        let missing = try scratchDirectory().appendingPathComponent("no-such-root.pem").path
        let error = try await loadError(["root_cert_path": missing, "root_key_path": pki.rsaRootKey])
        XCTAssertTrue(error.description.contains("ca.internal.root_cert_path: cannot open \(missing): No such file or directory"),
                      error.description)
    }

    func testIssuerWithoutSubjectKeyIdentifierIsRefused() async throws {
        let pki = try CAFilePKI.shared()
        // A CA certificate for the EC root's key, without SKI: leaves could get no AKI keyid.
        let scratch = try scratchDirectory()
        let config = scratch.appendingPathComponent("no-ski.cnf").path
        try """
            [req]
            distinguished_name = dn
            prompt = no
            [dn]
            [no_ski]
            basicConstraints = critical,CA:TRUE
            keyUsage = critical,keyCertSign,cRLSign
            subjectKeyIdentifier = none
            authorityKeyIdentifier = none

            """.write(toFile: config, atomically: true, encoding: .utf8)
        let certificate = scratch.appendingPathComponent("no-ski-root.pem").path
        try openssl(["req", "-config", config, "-x509", "-new", "-key", pki.ecRootKey, "-subj", "/CN=Test Root Without SKI",
                     "-days", "30", "-extensions", "no_ski", "-out", certificate])
        XCTAssertNil(try x509Extension(file: certificate, "subjectKeyIdentifier"))
        XCTAssertEqual(try x509Extension(file: certificate, "basicConstraints")?.value, "CA:TRUE")

        let error = try await loadError(["root_cert_path": certificate, "root_key_path": pki.ecRootKey])
        XCTAssertTrue(error.description.contains("ca.internal.root_cert_path: \(certificate) has no subjectKeyIdentifier"),
                      error.description)
    }

    // MARK: - bad CSRs

    func testBadCSRsAreRefusedAsBadCSR() async throws {
        let pki = try CAFilePKI.shared()
        let ca = try await loadCA(["root_cert_path": pki.rsaRootCert, "root_key_path": pki.rsaRootKey])
        let good = try pki.csr(key: pki.rsaLeafKey, sans: ["DNS:bad.example.test"])
        let cases: [(String, [UInt8], String)] = [
            ("garbage", Array("this is not a certificate signing request".utf8), "not a valid PKCS#10 DER structure"),
            ("trailing bytes", good + [0], "1 bytes follow the DER structure"),
            ("truncated", Array(good.dropLast(10)), "not a valid PKCS#10 DER structure"),
            ("no names", try pki.csr(key: pki.rsaLeafKey, subject: "/O=No Names", sans: []), "no DNS name or IP address"),
            // An IP address in the CN is no DNS name (RFC 8738 puts IP identifiers in subjectAltName).
            ("IP address CN", try pki.csr(key: pki.rsaLeafKey, subject: "/CN=192.0.2.1", sans: []), "no DNS name or IP address"),
        ]
        for (name, der, detail) in cases {
            let error = try await signError(ca, CASignRequest(csrDER: der, validityDays: 30))
            XCTAssertEqual(error.problemType, "urn:ietf:params:acme:error:badCSR", "\(name): \(error)")
            XCTAssertEqual(error.code, .invalidInput, "\(name): \(error)")
            XCTAssertFalse(error.retryable, "\(name): \(error)")
            XCTAssertTrue(error.detail.contains(detail), "\(name): \(error.detail)")
        }
        // The instance still signs after refusing.
        _ = try await sign(ca, CASignRequest(csrDER: good, validityDays: 30))
        // RFC 8555 §7.4: a CSR with its DNS name in the CN only gets a leaf with that name as its SAN.
        let commonNameOnly = try await sign(ca, CASignRequest(
            csrDER: try pki.csr(key: pki.rsaLeafKey, subject: "/CN=nosan.example.test", sans: []), validityDays: 30))
        XCTAssertEqual(try x509Extension(commonNameOnly.leaf, "subjectAltName"),
                       X509Extension(critical: false, value: "DNS:nosan.example.test"))
    }

    /// The plugin certifies the names the host checked: those of the extensions OpenSSL's
    /// X509_REQ_get_extensions returns (the PKCS#9 extensionRequest before Microsoft's, whatever
    /// their order), and refuses a request with two subjectAltName extensions. The CSRs are
    /// assembled by hand (openssl req writes neither); their signatures are not checked here.
    func testSubjectAltNamesComeFromTheExtensionRequestTheHostReads() async throws {
        let pki = try CAFilePKI.shared()
        let ca = try await loadCA(["root_cert_path": pki.rsaRootCert, "root_key_path": pki.rsaRootKey])
        var outer = DERReader(try pki.csr(key: pki.ecLeafKey, sans: ["DNS:unused.example.test"]))
        var request = DERReader(try outer.read(tag: 0x30, "CertificationRequest").content)
        var info = DERReader(try request.read(tag: 0x30, "certificationRequestInfo").content)
        _ = try info.read(tag: 0x02, "version")
        _ = try info.read(tag: 0x30, "subject")
        let spki = try info.read(tag: 0x30, "subjectPKInfo").whole

        func san(_ name: String) -> [UInt8] {
            DER.sequence([0x06, 0x03, 0x55, 0x1D, 0x11], DER.tlv(0x04, DER.sequence(DER.tlv(0x82, Array(name.utf8)))))
        }
        func extensionRequest(microsoft: Bool, _ extensions: [UInt8]...) -> [UInt8] {
            let oid: [UInt8] = microsoft ? [0x06, 0x0A, 0x2B, 0x06, 0x01, 0x04, 0x01, 0x82, 0x37, 0x02, 0x01, 0x0E]
                                         : [0x06, 0x09, 0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x09, 0x0E]
            return DER.sequence(oid, DER.tlv(0x31, DER.tlv(0x30, extensions.flatMap { $0 })))
        }
        func csr(_ attributes: [UInt8]...) -> [UInt8] {
            let ecdsaWithSHA256: [UInt8] = [0x30, 0x0A, 0x06, 0x08, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x04, 0x03, 0x02]
            return DER.sequence(DER.sequence([0x02, 0x01, 0x00], [0x30, 0x00], spki, DER.tlv(0xA0, attributes.flatMap { $0 })),
                                ecdsaWithSHA256, DER.bitString([0x30, 0x00]))
        }

        let microsoftFirst = csr(extensionRequest(microsoft: true, san("evil.example.test")),
                                 extensionRequest(microsoft: false, san("good.example.test")))
        let issued = try await sign(ca, CASignRequest(csrDER: microsoftFirst, validityDays: 30))
        XCTAssertEqual(try x509Extension(issued.leaf, "subjectAltName")?.value, "DNS:good.example.test")
        let onlyMicrosoft = csr(extensionRequest(microsoft: true, san("legacy.example.test")))
        let legacy = try await sign(ca, CASignRequest(csrDER: onlyMicrosoft, validityDays: 30))
        XCTAssertEqual(try x509Extension(legacy.leaf, "subjectAltName")?.value, "DNS:legacy.example.test")

        let twice = csr(extensionRequest(microsoft: false, san("one.example.test"), san("two.example.test")))
        let error = try await signError(ca, CASignRequest(csrDER: twice, validityDays: 30))
        XCTAssertEqual(error.problemType, "urn:ietf:params:acme:error:badCSR", "\(error)")
        XCTAssertTrue(error.detail.contains("two subjectAltName extensions"), error.detail)
    }

    /// The CSR's signature is the host's to check (acmeeh_plugin.h: "already checked by the
    /// host"; CSRPolicy, OrderTests), so the plugin does not verify it again: a CSR whose
    /// signature is broken but whose structure is sound still gets its key certified.
    func testCSRSignatureIsLeftToTheHost() async throws {
        let pki = try CAFilePKI.shared()
        let ca = try await loadCA(["root_cert_path": pki.rsaRootCert, "root_key_path": pki.rsaRootKey])
        var tampered = try pki.csr(key: pki.ecLeafKey, sans: ["DNS:trusted.example.test"])
        tampered[tampered.count - 1] ^= 0x01
        let issued = try await sign(ca, CASignRequest(csrDER: tampered, validityDays: 30))
        XCTAssertEqual(try x509(issued.leaf, ["-pubkey"]), try openssl(["pkey", "-in", pki.ecLeafKey, "-pubout"]))
        try assertVerifies(issued, root: pki.rsaRootCert, purpose: "sslserver")
    }

    // MARK: - self check

    func testSelfCheckFollowsTheKeyFile() async throws {
        let pki = try CAFilePKI.shared()
        let key = try copyKey(pki.ecRootKey, mode: 0o600)
        let ca = try await loadCA(["root_cert_path": pki.ecRootCert, "root_key_path": key])
        try await ca.selfCheck(timeout: .seconds(10))

        try FileManager.default.setAttributes([.posixPermissions: 0o640], ofItemAtPath: key)
        let loose = try await selfCheckError(ca)
        XCTAssertEqual(loose.code, .config)
        XCTAssertTrue(loose.detail.contains("ca.internal.root_key_path: \(key) is readable by group or others (mode 0640)"), loose.detail)

        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: key)
        try await ca.selfCheck(timeout: .seconds(10))

        try FileManager.default.removeItem(atPath: key)
        let gone = try await selfCheckError(ca)
        XCTAssertEqual(gone.code, .config)
        XCTAssertTrue(gone.detail.contains("ca.internal.root_key_path: cannot open \(key)"), gone.detail)
    }
}

// MARK: - driving the plugin

extension CAFileTests {
    static let pool = PluginThreadPool(numberOfThreads: 2)

    /// What a successful sign returned, with the chain split into PEM blocks.
    struct Issued {
        var chain: String
        var serial: String
        var notBefore: Int64
        var notAfter: Int64
        var blocks: [String]
        var leaf: String { blocks[0] }
    }

    func makeRegistry(_ logs: CAFileLogCapture) -> PluginRegistry {
        PluginRegistry(threadPool: Self.pool) { label in
            Logger(label: label) { label in CAFileLogHandler(capture: logs) }
        }
    }

    var libraryPath: String { TestPaths.products.appendingPathComponent("libCAFile.so").path }

    func configJSON(_ config: [String: String]) throws -> String {
        String(decoding: try JSONSerialization.data(withJSONObject: config, options: [.sortedKeys, .withoutEscapingSlashes]),
               as: UTF8.self)
    }

    func loadCA(_ config: [String: String], logs: CAFileLogCapture = CAFileLogCapture()) async throws -> CAPluginInstance {
        let ca = try await makeRegistry(logs).loadCA(
            backend: "internal", configKey: "ca.backend", directory: TestPaths.products.path,
            configJSON: try configJSON(config), configPath: "ca.internal")
        XCTAssertEqual(ca.name, "CAFile")
        return ca
    }

    /// The PluginLoadError `create()` fails with; checks the parts every such error has.
    func loadError(_ config: [String: String], file: StaticString = #filePath, line: UInt = #line) async throws -> PluginLoadError {
        let registry = makeRegistry(CAFileLogCapture())
        let json = try configJSON(config)
        do {
            _ = try await registry.loadCA(backend: "internal", configKey: "ca.backend", directory: TestPaths.products.path,
                                          configJSON: json, configPath: "ca.internal")
        } catch {
            XCTAssertEqual(error.configKey, "ca.backend", file: file, line: line)
            XCTAssertEqual(error.path, libraryPath, file: file, line: line)
            XCTAssertTrue(error.cause.hasPrefix("create() failed: "), error.cause, file: file, line: line)
            XCTAssertTrue(error.description.hasPrefix("ca.backend: cannot load plugin \(libraryPath): create() failed: "),
                          error.description, file: file, line: line)
            XCTAssertEqual(registry.entries().last?.state, .failed(error.description), file: file, line: line)
            return error
        }
        XCTFail("create() succeeded; expected a refusal", file: file, line: line)
        throw CAFileTestFailure("create() succeeded; expected a refusal")
    }

    func sign(_ ca: CAPluginInstance, _ request: CASignRequest) async throws -> Issued {
        let outcome = try await ca.sign(request, timeout: .seconds(30))
        guard case .issued(let chain, let serial, let notBefore, let notAfter) = outcome else {
            throw CAFileTestFailure("expected an issued certificate, got \(outcome)")
        }
        return Issued(chain: chain, serial: serial, notBefore: notBefore, notAfter: notAfter, blocks: pemBlocks(chain))
    }

    func signError(_ ca: CAPluginInstance, _ request: CASignRequest) async throws -> PluginError {
        do {
            let outcome = try await ca.sign(request, timeout: .seconds(30))
            throw CAFileTestFailure("sign succeeded (\(outcome)); expected a PluginError")
        } catch let error as PluginError {
            return error
        }
    }

    func selfCheckError(_ ca: CAPluginInstance) async throws -> PluginError {
        do {
            try await ca.selfCheck(timeout: .seconds(10))
        } catch {
            return error
        }
        throw CAFileTestFailure("selfCheck passed; expected a PluginError")
    }

    /// A fresh directory removed when the test ends.
    func scratchDirectory() throws -> URL {
        let url = try TestPaths.temporaryDirectory("acmeeh-cafile")
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url
    }

    /// A copy of `key` with `mode`, in a scratch directory.
    func copyKey(_ key: String, mode: Int) throws -> String {
        let copy = try scratchDirectory().appendingPathComponent("issuer-key.pem").path
        try FileManager.default.copyItem(atPath: key, toPath: copy)
        try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: copy)
        return copy
    }
}

// MARK: - checking with openssl

/// One X.509v3 extension as `openssl x509 -ext NAME` prints it.
private struct X509Extension: Equatable {
    var critical: Bool
    /// The printed value, lines trimmed and joined with "\n".
    var value: String
}

struct CAFileTestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Runs openssl; a non-zero exit throws with its stderr. Returns stdout without the final newline.
@discardableResult
private func openssl(_ arguments: [String]) throws -> String {
    let result = try Command.tool("openssl", arguments)
    guard result.status == 0 else {
        throw CAFileTestFailure("openssl \(arguments.joined(separator: " ")) exited with \(result.status): \(result.stderr)")
    }
    return result.stdout.hasSuffix("\n") ? String(result.stdout.dropLast()) : result.stdout
}

/// Writes `text` to a new file in the scratch directory and returns its path.
private func tempFile(_ text: String) throws -> String {
    let path = CAFilePKI.scratch.appendingPathComponent("\(UUID().uuidString).pem").path
    try text.write(toFile: path, atomically: true, encoding: .utf8)
    return path
}

/// `openssl x509 -noout ARGS` on one PEM certificate.
private func x509(_ pem: String, _ arguments: [String]) throws -> String {
    try openssl(["x509", "-in", try tempFile(pem), "-noout"] + arguments)
}

private func x509Extension(_ pem: String, _ name: String) throws -> X509Extension? {
    try x509Extension(file: try tempFile(pem), name)
}

/// The extension `name` of the certificate in `file`, or nil when it has none.
private func x509Extension(file: String, _ name: String) throws -> X509Extension? {
    let output = try openssl(["x509", "-in", file, "-noout", "-ext", name])
    let lines = output.split(separator: "\n", omittingEmptySubsequences: true)
    guard let header = lines.first else { return nil }
    return X509Extension(
        critical: header.trimmingCharacters(in: .whitespaces).hasSuffix(": critical"),
        value: lines.dropFirst().map { $0.trimmingCharacters(in: .whitespaces) }.joined(separator: "\n"))
}

/// notBefore and notAfter in unix seconds, as openssl reads them.
private func validity(_ pem: String) throws -> (notBefore: Int64, notAfter: Int64) {
    let output = try x509(pem, ["-startdate", "-enddate", "-dateopt", "iso_8601"])
    let formatter = DateFormatter()
    formatter.locale = Locale(identifier: "en_US_POSIX")
    formatter.timeZone = TimeZone(identifier: "UTC")
    formatter.dateFormat = "yyyy-MM-dd HH:mm:ss'Z'"
    var dates: [String: Int64] = [:]
    for line in output.split(separator: "\n") {
        let parts = line.split(separator: "=", maxSplits: 1).map(String.init)
        guard parts.count == 2, let date = formatter.date(from: parts[1]) else {
            throw CAFileTestFailure("cannot read the date in \"\(line)\"")
        }
        dates[parts[0]] = Int64(date.timeIntervalSince1970)
    }
    guard let notBefore = dates["notBefore"], let notAfter = dates["notAfter"] else {
        throw CAFileTestFailure("openssl printed no validity: \(output)")
    }
    return (notBefore, notAfter)
}

/// DER of one PEM certificate.
private func der(_ pem: String) throws -> [UInt8] {
    let path = CAFilePKI.scratch.appendingPathComponent("\(UUID().uuidString).der").path
    try openssl(["x509", "-in", try tempFile(pem), "-outform", "DER", "-out", path])
    return Array(try Data(contentsOf: URL(fileURLWithPath: path)))
}

/// The PEM blocks of `text` in order, each with its BEGIN/END lines and a final newline.
private func pemBlocks(_ text: String) -> [String] {
    var blocks: [String] = []
    var current: [Substring]? = nil
    for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
        if line.hasPrefix("-----BEGIN ") { current = [] }
        current?.append(line)
        if line.hasPrefix("-----END "), let block = current {
            blocks.append(block.joined(separator: "\n") + "\n")
            current = nil
        }
    }
    return blocks
}

/// Bits in the positive integer written in hex.
private func significantBits(hex: String) -> Int {
    let digits = hex.drop { $0 == "0" }
    guard let first = digits.first, let value = Int(String(first), radix: 16) else { return 0 }
    return (digits.count - 1) * 4 + (Int.bitWidth - value.leadingZeroBitCount)
}

/// `openssl verify` of the leaf against `root`, with the rest of the served chain as untrusted intermediates.
private func assertVerifies(_ issued: CAFileTests.Issued, root: String, purpose: String? = nil,
                    file: StaticString = #filePath, line: UInt = #line) throws {
    var arguments = ["verify", "-CAfile", root]
    let intermediates = issued.blocks.dropFirst().dropLast()
    if !intermediates.isEmpty { arguments += ["-untrusted", try tempFile(intermediates.joined())] }
    if let purpose { arguments += ["-purpose", purpose] }
    let leaf = try tempFile(issued.leaf)
    let result = try Command.tool("openssl", arguments + [leaf])
    XCTAssertEqual(result.status, 0, "openssl verify: \(result.stdout) \(result.stderr)", file: file, line: line)
    XCTAssertEqual(result.stdout, "\(leaf): OK\n", file: file, line: line)
}

// MARK: - the PKI

/// Issuer certificates and keys made once per test process with the openssl CLI:
/// an RSA 2048 root, an EC P-256 root, an EC P-384 intermediate under the RSA root,
/// and one RSA and one EC P-256 key for CSRs.
struct CAFilePKI: Sendable {
    let directory: URL
    let rsaRootCert: String, rsaRootKey: String
    let ecRootCert: String, ecRootKey: String
    let intermediateCert: String, intermediateKey: String
    let rsaLeafKey: String, ecLeafKey: String
    let config: String

    /// Where the PKI and the files the checks write live.
    static let scratch: URL = FileManager.default.temporaryDirectory
        .appendingPathComponent("acmeeh-cafile-pki-\(ProcessInfo.processInfo.processIdentifier)")

    private static let lock = NSLock()
    nonisolated(unsafe) private static var made: CAFilePKI?

    /// The process's PKI, made again when its directory is gone (CAFileTests removes it when
    /// its class finishes, and suites that sort after it use it too).
    static func shared() throws -> CAFilePKI {
        try lock.withLock {
            if let made, FileManager.default.fileExists(atPath: made.rsaRootCert) { return made }
            let pki = try make()
            made = pki
            return pki
        }
    }

    private static func make() throws -> CAFilePKI {
        let directory = scratch
        try? FileManager.default.removeItem(at: directory)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

        // No dependency on the system openssl.cnf: our own sections only.
        let config = path("openssl.cnf")
        try """
            [req]
            distinguished_name = dn
            prompt = no
            [dn]
            [root]
            basicConstraints = critical,CA:TRUE
            keyUsage = critical,keyCertSign,cRLSign
            subjectKeyIdentifier = hash
            authorityKeyIdentifier = keyid:always
            [intermediate]
            basicConstraints = critical,CA:TRUE,pathlen:0
            keyUsage = critical,keyCertSign,cRLSign
            subjectKeyIdentifier = hash
            authorityKeyIdentifier = keyid:always

            """.write(toFile: config, atomically: true, encoding: .utf8)

        func key(_ name: String, _ options: [String]) throws -> String {
            let file = path(name)
            try openssl(["genpkey", "-out", file] + options)
            try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: file)
            return file
        }
        let rsa = ["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"]
        func ec(_ curve: String) -> [String] { ["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:\(curve)"] }

        let rsaRootKey = try key("rsa-root-key.pem", rsa)
        let rsaRootCert = path("rsa-root.pem")
        try openssl(["req", "-config", config, "-x509", "-new", "-key", rsaRootKey, "-subj", "/CN=Test RSA Root",
                     "-days", "3650", "-extensions", "root", "-out", rsaRootCert])

        let ecRootKey = try key("ec-root-key.pem", ec("P-256"))
        let ecRootCert = path("ec-root.pem")
        try openssl(["req", "-config", config, "-x509", "-new", "-key", ecRootKey, "-subj", "/CN=Test EC P-256 Root",
                     "-days", "3650", "-extensions", "root", "-out", ecRootCert])

        let intermediateKey = try key("intermediate-key.pem", ec("P-384"))
        let intermediateCSR = path("intermediate.csr")
        let intermediateCert = path("intermediate.pem")
        try openssl(["req", "-config", config, "-new", "-key", intermediateKey, "-subj", "/CN=Test EC P-384 Intermediate",
                     "-out", intermediateCSR])
        try openssl(["x509", "-req", "-in", intermediateCSR, "-CA", rsaRootCert, "-CAkey", rsaRootKey, "-set_serial", "2",
                     "-days", "3650", "-extfile", config, "-extensions", "intermediate", "-out", intermediateCert])

        return CAFilePKI(
            directory: directory,
            rsaRootCert: rsaRootCert, rsaRootKey: rsaRootKey,
            ecRootCert: ecRootCert, ecRootKey: ecRootKey,
            intermediateCert: intermediateCert, intermediateKey: intermediateKey,
            rsaLeafKey: try key("rsa-leaf-key.pem", rsa), ecLeafKey: try key("ec-leaf-key.pem", ec("P-256")),
            config: config)
    }

    /// A DER CSR signed with `key` (its type decides RSA or EC) asking for `sans`
    /// ("DNS:...", "IP:...", "email:..."); "/" is an empty subject.
    func csr(key: String, subject: String = "/CN=csr.example.test", sans: [String]) throws -> [UInt8] {
        let out = directory.appendingPathComponent("\(UUID().uuidString).csr.der").path
        var arguments = ["req", "-config", config, "-new", "-key", key, "-subj", subject, "-outform", "DER", "-out", out]
        if !sans.isEmpty { arguments += ["-addext", "subjectAltName=" + sans.joined(separator: ",")] }
        try openssl(arguments)
        return Array(try Data(contentsOf: URL(fileURLWithPath: out)))
    }
}

// MARK: - log capture

final class CAFileLogCapture: Sendable {
    private let storage = Mutex<[(level: Logger.Level, message: String)]>([])
    func append(_ level: Logger.Level, _ message: String) { storage.withLock { $0.append((level, message)) } }
    func lines() -> [(level: Logger.Level, message: String)] { storage.withLock { $0 } }
}

struct CAFileLogHandler: LogHandler {
    let capture: CAFileLogCapture
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        capture.append(event.level, event.message.description)
    }
}
