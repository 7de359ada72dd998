import Foundation
@testable import Host
import XCTest

/// The DER reading that issuance records certificates with agrees with OpenSSL's parse on
/// serial, validity (UTCTime and GeneralizedTime), DER and public key, and refuses what is
/// not a certificate.
final class IssuedLeafTests: XCTestCase {
    private func certificate(_ keyArguments: [String], days: Int, serial: String) throws -> String {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("issued-leaf-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let key = directory.appendingPathComponent("key.pem").path, cert = directory.appendingPathComponent("cert.pem").path
        let made = try Command.tool("openssl", ["req", "-x509", "-newkey"] + keyArguments + [
            "-nodes", "-keyout", key, "-out", cert, "-subj", "/CN=leaf.test", "-days", String(days),
            "-set_serial", serial, "-addext", "subjectAltName=DNS:leaf.test"])
        XCTAssertEqual(made.status, 0, made.stderr)
        return try String(contentsOfFile: cert, encoding: .utf8)
    }

    func testAgreesWithOpenSSL() throws {
        let cases = [(["ec", "-pkeyopt", "ec_paramgen_curve:P-256"], 90, "0x00ff01"),
                     (["rsa:2048"], 40_000, "0x7fffffffffffffffffffffffffffffff")]  // past 2050: GeneralizedTime
        for (key, days, serial) in cases {
            let pem = try certificate(key, days: days, serial: serial)
            let fast = try IssuedLeaf(pemChain: pem + pem)
            let reference = try CertificateChain(pem: pem).leaf
            XCTAssertEqual(fast.der, reference.der)
            XCTAssertEqual(fast.serialHex, reference.serialHex)
            XCTAssertEqual(fast.notBefore, reference.notBefore)
            XCTAssertEqual(fast.notAfter, reference.notAfter)
            XCTAssertEqual(fast.publicKeyFingerprint, reference.publicKeyFingerprint)
            XCTAssertEqual(fast.fingerprint, reference.fingerprint)
        }
    }

    func testRefusesWhatIsNotACertificate() {
        let bad = ["", "no pem here", "-----BEGIN CERTIFICATE-----\n!!!\n-----END CERTIFICATE-----\n",
                   "-----BEGIN CERTIFICATE-----\nMAMCAQE=\n-----END CERTIFICATE-----\n"]
        for text in bad {
            XCTAssertThrowsError(try IssuedLeaf(pemChain: text), text)
        }
        XCTAssertThrowsError(try IssuedLeaf(der: [0x30, 0x05, 0x30, 0x03]), "a truncated TLV")
    }
}
