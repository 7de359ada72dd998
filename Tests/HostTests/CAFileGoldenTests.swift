import Foundation
import XCTest

@testable import Host

/// The leaves CAFile issues now, compared field by field with the ones it issued before it
/// stopped decoding CSRs (it used to parse and verify the CSR, decode its key and re-encode
/// it with X509_set_pubkey, and build every extension from configuration text per
/// certificate; now it copies the CSR's SubjectPublicKeyInfo bytes and reuses extensions
/// built once per instance and profile).
///
/// How the comparison stays honest: Fixtures/CAFileGolden holds fixed issuers (RSA 2048 and
/// EC P-384, with their keys), fixed CSRs (RSA and EC P-256 keys; DNS, IP and e-mail SANs;
/// a DNS name too long for a CN; an IP-only CSR) and, for each row of cases.tsv (issuer,
/// hash, CSR, profile JSON, serial, notBefore, notAfter), the leaf that the previous CAFile
/// (commit cccca8c) issued through its ABI for exactly those inputs, recorded before the
/// change. With the serial and validity handed in, a leaf's TBSCertificate depends on
/// nothing else, so it must come out identical, field by field: version, serial, signature
/// algorithm, issuer, validity, subject, SubjectPublicKeyInfo, and each extension (OID,
/// criticality, value) in order. RSA PKCS#1 v1.5 signatures are deterministic, so under the
/// RSA issuer the whole DER certificate must be identical too; ECDSA signatures are not, so
/// under the EC issuer the signature is checked with `openssl verify` instead. The certified
/// SubjectPublicKeyInfo must also be the CSR's own bytes.
///
/// One intended difference: csr-rsa.der's subject commonName (ignored.example.test) is not
/// among its subjectAltNames. The previous CAFile dropped it; since RFC 8555 §7.4 lets a
/// CSR carry an identifier in its commonName only (the host checks it is one of the
/// order's), CAFile now appends it to the leaf's subjectAltName. For those cases the
/// expected SAN is the old one with that dNSName appended, every other field must be
/// identical, and the signature is checked with `openssl verify`.
extension CAFileTests {
    /// The CSRs whose commonName is a DNS name missing from their subjectAltNames.
    static let goldenCommonNamesCarried = ["csr-rsa.der": "ignored.example.test"]

    /// The old SAN extnValue (OCTET STRING holding GeneralNames) with one dNSName appended.
    static func subjectAltName(_ old: [UInt8], appending name: String) throws -> [UInt8] {
        var octets = DERReader(old)
        var names = DERReader(try octets.read(tag: 0x04, "extnValue").content)
        let list = try names.read(tag: 0x30, "GeneralNames").content
        return DER.tlv(0x04, DER.tlv(0x30, list + DER.tlv(0x82, Array(name.utf8))))
    }

    func testLeavesMatchThoseOfThePreviousIssuancePathFieldByField() async throws {
        let golden = TestPaths.repository.appendingPathComponent("Tests/HostTests/Fixtures/CAFileGolden")
        let rows = try String(contentsOf: golden.appendingPathComponent("cases.tsv"), encoding: .utf8)
            .split(separator: "\n").filter { !$0.hasPrefix("#") }.map { $0.split(separator: "\t").map(String.init) }
        XCTAssertEqual(rows.count, 8)
        var loaded: [String: CAPluginInstance] = [:]
        for row in rows {
            guard row.count == 8 else { return XCTFail("cases.tsv row \(row) has \(row.count) fields, not 8") }
            let (name, issuer, hash, csrFile, profileJSON, serial) = (row[0], row[1], row[2], row[3], row[4], row[5])
            let notBefore = try XCTUnwrap(Int64(row[6])), notAfter = try XCTUnwrap(Int64(row[7]))

            let instance = issuer + "/" + hash
            if loaded[instance] == nil {
                // Git keeps no 0600 mode: the key goes to a private copy, as CAFile demands.
                let key = try copyKey(golden.appendingPathComponent("\(issuer)-issuer-key.pem").path, mode: 0o600)
                loaded[instance] = try await loadCA([
                    "root_cert_path": golden.appendingPathComponent("\(issuer)-issuer.pem").path,
                    "root_key_path": key, "hash_algorithm": hash,
                ])
            }
            let csr = Array(try Data(contentsOf: golden.appendingPathComponent(csrFile)))
            let issued = try await sign(try XCTUnwrap(loaded[instance]), CASignRequest(
                csrDER: csr, profile: "golden", profileJSON: profileJSON,
                notBefore: notBefore, notAfter: notAfter, validityDays: 0, serialHex: serial))
            XCTAssertEqual(issued.serial, serial, name)
            XCTAssertEqual(issued.notBefore, notBefore, name)
            XCTAssertEqual(issued.notAfter, notAfter, name)

            let old = try GoldenLeaf(der: try derOfPEM(String(contentsOf: golden.appendingPathComponent("\(name).pem"), encoding: .utf8)))
            let new = try GoldenLeaf(der: try derOfPEM(issued.leaf))
            let carried = Self.goldenCommonNamesCarried[csrFile]
            for (field, oldValue) in old.fields {
                var expected = oldValue
                if let carried, field == "extension 551d11 value" {
                    expected = try Self.subjectAltName(oldValue, appending: carried)
                }
                XCTAssertEqual(hex(new.fields.first { $0.name == field }?.value ?? []), hex(expected), "\(name): \(field)")
            }
            XCTAssertEqual(new.fields.map(\.name), old.fields.map(\.name), "\(name): the fields and extensions, in order")
            if carried == nil { XCTAssertEqual(hex(new.tbs), hex(old.tbs), "\(name): TBSCertificate") }
            XCTAssertEqual(hex(try XCTUnwrap(new.fields.first { $0.name == "subjectPublicKeyInfo" }).value),
                           hex(try csrSubjectPublicKeyInfo(csr)), "\(name): the CSR's SubjectPublicKeyInfo, byte for byte")
            if issuer == "rsa", carried == nil {
                XCTAssertEqual(hex(new.der), hex(old.der), "\(name): the whole certificate (RSA PKCS#1 v1.5 signatures are deterministic)")
            } else {
                let leafFile = try scratchDirectory().appendingPathComponent("leaf.pem").path
                try issued.leaf.write(toFile: leafFile, atomically: true, encoding: .utf8)
                // The fixed validity predates the fixture issuer's: the signature is what is checked here.
                let verify = try Command.tool("openssl", ["verify", "-no_check_time", "-CAfile",
                                                          golden.appendingPathComponent("\(issuer)-issuer.pem").path, leafFile])
                XCTAssertEqual(verify.stdout, "\(leafFile): OK\n", "\(name): \(verify.stderr)")
            }
        }
    }
}

/// A certificate's TBSCertificate split into its fields (RFC 5280 §4.1), each extension a
/// field of its own named by its OID with its criticality and value.
private struct GoldenLeaf {
    let der: [UInt8]
    let tbs: [UInt8]
    /// (name, DER) in certificate order.
    let fields: [(name: String, value: [UInt8])]

    init(der: [UInt8]) throws {
        self.der = der
        var outer = DERReader(der)
        var certificate = DERReader(try outer.read(tag: 0x30, "Certificate").content)
        let tbs = try certificate.read(tag: 0x30, "TBSCertificate")
        self.tbs = tbs.whole
        var reader = DERReader(tbs.content)
        var fields: [(String, [UInt8])] = []
        fields.append(("version", try reader.read(tag: 0xA0, "version").whole))
        for (tag, name) in [(UInt8(0x02), "serialNumber"), (0x30, "signature"), (0x30, "issuer"), (0x30, "validity"),
                            (0x30, "subject"), (0x30, "subjectPublicKeyInfo")] {
            fields.append((name, try reader.read(tag: tag, name).whole))
        }
        var extensionsField = DERReader(try reader.read(tag: 0xA3, "extensions").content)
        var extensions = DERReader(try extensionsField.read(tag: 0x30, "Extensions").content)
        while !extensions.atEnd {
            let whole = try extensions.read(tag: 0x30, "Extension")
            var parts = DERReader(whole.content)
            let oid = try parts.read(tag: 0x06, "extnID").content.map { String(format: "%02x", $0) }.joined()
            let critical = parts.peekTag == 0x01 ? try parts.read(tag: 0x01, "critical").whole : []
            let value = try parts.read(tag: 0x04, "extnValue").whole
            fields.append(("extension \(oid) critical", critical))
            fields.append(("extension \(oid) value", value))
        }
        XCTAssertTrue(reader.atEnd, "nothing after the extensions")
        fields.append(("signatureAlgorithm", try certificate.read(tag: 0x30, "signatureAlgorithm").whole))
        self.fields = fields
    }
}

/// subjectPKInfo of a DER PKCS#10 CSR (RFC 2986 §4.1).
private func csrSubjectPublicKeyInfo(_ csr: [UInt8]) throws -> [UInt8] {
    var outer = DERReader(csr)
    var request = DERReader(try outer.read(tag: 0x30, "CertificationRequest").content)
    var info = DERReader(try request.read(tag: 0x30, "certificationRequestInfo").content)
    _ = try info.read(tag: 0x02, "version")
    _ = try info.read(tag: 0x30, "subject")
    return try info.read(tag: 0x30, "subjectPKInfo").whole
}

private func derOfPEM(_ pem: String) throws -> [UInt8] {
    let base64 = pem.split(separator: "\n").filter { !$0.hasPrefix("-----") }.joined()
    return Array(try XCTUnwrap(Data(base64Encoded: base64)))
}

private func hex(_ bytes: [UInt8]) -> String { bytes.map { String(format: "%02x", $0) }.joined() }
