import Foundation
import XCTest

@testable import Host

/// `ca_sign_crl` of the internal CA (ABI 1.1), through the host's loader; every CRL is
/// checked with `openssl crl`: the signature against the issuer, then what it lists.
extension CAFileTests {
    func testSignsAV2CRLThatOpenSSLVerifiesAndReadsBack() async throws {
        let pki = try CAFilePKI.shared()
        let ca = try await loadCA(["root_cert_path": pki.rsaRootCert, "root_key_path": pki.rsaRootKey])
        XCTAssertTrue(ca.canSignCRL)
        let twentyOctets = [UInt8](repeating: 0x7f, count: 20)
        let der = try await ca.signCRL(CASignCRLRequest(
            entries: [
                CRLEntry(serial: [0x1a, 0x2b, 0x3c], revokedAt: 1_799_990_000, reason: 1),
                CRLEntry(serial: [0x00, 0x05], revokedAt: 1_799_000_000),
                CRLEntry(serial: twentyOctets, revokedAt: 1_799_990_000, reason: 4),
            ],
            thisUpdate: 1_800_000_000, nextUpdate: 1_800_604_800, crlNumber: [0x01, 0x00], hashAlgorithm: "sha384"),
            timeout: .seconds(30))
        let file = try crlFile(der)

        try assertCRLVerifies(file, root: pki.rsaRootCert)
        let text = try crlText(file)
        XCTAssertTrue(text.contains("Version 2 (0x1)"), text)
        XCTAssertTrue(text.contains("Signature Algorithm: sha384WithRSAEncryption"), text)
        XCTAssertTrue(text.contains("Issuer: CN = Test RSA Root"), text)
        XCTAssertTrue(text.contains("Last Update: Jan 15 08:00:00 2027 GMT"), text)
        XCTAssertTrue(text.contains("Next Update: Jan 22 08:00:00 2027 GMT"), text)
        XCTAssertEqual(try extensionValue(text, "X509v3 CRL Number"), "256")
        let rootSKI = try XCTUnwrap(try rootSubjectKeyIdentifier(pki.rsaRootCert))
        XCTAssertEqual(try extensionValue(text, "X509v3 Authority Key Identifier")?.replacingOccurrences(of: "keyid:", with: ""), rootSKI)

        // The entries in the order given; a reasonCode only where one was given.
        let entries = revokedEntries(text)
        XCTAssertEqual(entries.map(\.serial), ["1A2B3C", "05", String(repeating: "7F", count: 20)], text)
        XCTAssertEqual(entries.map(\.date), ["Jan 15 05:13:20 2027 GMT", "Jan  3 18:13:20 2027 GMT", "Jan 15 05:13:20 2027 GMT"])
        XCTAssertEqual(entries.map(\.reason), ["Key Compromise", nil, "Superseded"])
    }

    func testEmptyCRLUnderAnECIssuerWithTheInstanceHash() async throws {
        let pki = try CAFilePKI.shared()
        let ca = try await loadCA(["root_cert_path": pki.ecRootCert, "root_key_path": pki.ecRootKey, "hash_algorithm": "sha384"])
        let der = try await ca.signCRL(CASignCRLRequest(
            entries: [], thisUpdate: 1_800_000_000, nextUpdate: 1_800_086_400, crlNumber: [0x2a]), timeout: .seconds(30))
        let file = try crlFile(der)
        try assertCRLVerifies(file, root: pki.ecRootCert)
        let text = try crlText(file)
        XCTAssertTrue(text.contains("No Revoked Certificates."), text)
        XCTAssertTrue(text.contains("Signature Algorithm: ecdsa-with-SHA384"), text)
        XCTAssertEqual(try extensionValue(text, "X509v3 CRL Number"), "42")
    }

    func testCRLRequestsNoCRLCanCarryAreRefused() async throws {
        let pki = try CAFilePKI.shared()
        let ca = try await loadCA(["root_cert_path": pki.rsaRootCert, "root_key_path": pki.rsaRootKey])
        let good = CASignCRLRequest(entries: [CRLEntry(serial: [1], revokedAt: 1_800_000_000)],
                                    thisUpdate: 1_800_000_000, nextUpdate: 1_800_086_400, crlNumber: [1])
        var badHash = good
        badHash.hashAlgorithm = "md5"
        var badReason = good
        badReason.entries[0].reason = 7
        var longSerial = good
        longSerial.entries[0].serial = [UInt8](repeating: 1, count: 22)
        var noNumber = good
        noNumber.crlNumber = []
        var backwards = good
        backwards.nextUpdate = good.thisUpdate
        for (request, detail) in [
            (badHash, "hash_algorithm \"md5\" is not sha256, sha384 or sha512"),
            (badReason, "CRL reason code 7 is not an RFC 5280 CRLReason"),
            (longSerial, "CRL entry 0: the serial must be 1 to 21 bytes"),
            (noNumber, "the CRL number must be 1 to 20 bytes"),
            (backwards, "nextUpdate must be after thisUpdate"),
        ] {
            do {
                _ = try await ca.signCRL(request, timeout: .seconds(30))
                XCTFail("signed a CRL for \(detail)")
            } catch {
                XCTAssertEqual(error.code, .invalidInput, detail)
                XCTAssertFalse(error.retryable)
                XCTAssertEqual(error.detail, detail)
            }
        }
    }

    // MARK: - openssl crl

    private func crlFile(_ der: [UInt8]) throws -> String {
        let path = CAFilePKI.scratch.appendingPathComponent("\(UUID().uuidString).crl").path
        try Data(der).write(to: URL(fileURLWithPath: path))
        return path
    }

    /// `openssl crl -CAfile ROOT`: the CRL's signature verifies with the issuer's key.
    private func assertCRLVerifies(_ file: String, root: String, line: UInt = #line) throws {
        let result = try Command.tool("openssl", ["crl", "-inform", "DER", "-in", file, "-CAfile", root, "-noout"])
        XCTAssertEqual(result.status, 0, result.stdout + result.stderr, line: line)
        XCTAssertTrue((result.stdout + result.stderr).contains("verify OK"), result.stdout + result.stderr, line: line)
    }

    private func crlText(_ file: String) throws -> String {
        let result = try Command.tool("openssl", ["crl", "-inform", "DER", "-in", file, "-text", "-noout"])
        guard result.status == 0 else { throw CAFileTestFailure("openssl crl -text: \(result.stderr)") }
        return result.stdout
    }

    /// The line after the extension's name in `openssl crl -text`, trimmed.
    private func extensionValue(_ text: String, _ name: String) throws -> String? {
        let lines = text.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
        guard let index = lines.firstIndex(where: { $0.hasPrefix(name) }), index + 1 < lines.count else { return nil }
        return lines[index + 1]
    }

    private func rootSubjectKeyIdentifier(_ root: String) throws -> String? {
        let result = try Command.tool("openssl", ["x509", "-in", root, "-noout", "-ext", "subjectKeyIdentifier"])
        return result.stdout.split(separator: "\n").dropFirst().first.map { $0.trimmingCharacters(in: .whitespaces) }
    }

    /// Each "Serial Number:" block of the revoked list: serial, revocation date, reason.
    private func revokedEntries(_ text: String) -> [(serial: String, date: String, reason: String?)] {
        var entries: [(serial: String, date: String, reason: String?)] = []
        let lines = text.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
        for (index, line) in lines.enumerated() where line.hasPrefix("Serial Number: ") {
            let serial = String(line.dropFirst("Serial Number: ".count))
            let date = lines[index + 1].hasPrefix("Revocation Date: ") ? String(lines[index + 1].dropFirst("Revocation Date: ".count)) : ""
            var reason: String? = nil
            if index + 4 < lines.count, lines[index + 2].hasPrefix("CRL entry extensions"), lines[index + 3].hasPrefix("X509v3 CRL Reason Code") {
                reason = lines[index + 4]
            }
            entries.append((serial, date, reason))
        }
        return entries
    }
}
