import Foundation
@testable import Host
import XCTest

/// The SCT as a CT log answers it (RFC 6962 §4.1 JSON) and as the SCT list extension
/// carries it (§3.3 TLS encoding); malformed answers are refused, never embedded.
final class SignedCertificateTimestampTests: XCTestCase {
    let logID = [UInt8](repeating: 0xAB, count: 32)

    func answer(_ overrides: [String: Any] = [:]) -> [UInt8] {
        var object: [String: Any] = [
            "sct_version": 0, "id": Data(logID).base64EncodedString(), "timestamp": 1_800_000_000_123,
            "extensions": "", "signature": Data([4, 3, 0, 3, 0x30, 0x01, 0x00]).base64EncodedString(),
        ]
        for (key, value) in overrides { object[key] = value }
        return Array(try! JSONSerialization.data(withJSONObject: object))
    }

    func testEncodingAndList() throws {
        let sct = try SignedCertificateTimestamp(json: answer())
        XCTAssertEqual(sct.timestamp, 1_800_000_000_123)
        XCTAssertEqual(sct.hashAlgorithm, 4)
        XCTAssertEqual(sct.signatureAlgorithm, 3)
        XCTAssertEqual(sct.signature, [0x30, 0x01, 0x00])
        let encoded = sct.encoded
        // version, log ID, timestamp, empty extensions, then the DigitallySigned struct as received.
        XCTAssertEqual(encoded.count, 1 + 32 + 8 + 2 + 4 + 3)
        XCTAssertEqual(Array(encoded[33..<41]), withUnsafeBytes(of: UInt64(1_800_000_000_123).bigEndian, Array.init))
        XCTAssertEqual(Array(encoded.suffix(7)), [4, 3, 0, 3, 0x30, 0x01, 0x00])
        let list = SignedCertificateTimestamp.list([sct, sct])
        XCTAssertEqual(list.count, 2 + 2 * (2 + encoded.count))
        XCTAssertEqual(Int(list[0]) << 8 | Int(list[1]), list.count - 2)
        XCTAssertEqual(Int(list[2]) << 8 | Int(list[3]), encoded.count)
    }

    func testSignedDataOfAPrecertEntry() throws {
        let sct = try SignedCertificateTimestamp(json: answer())
        let entry = CTEntry.precert(issuerKeyHash: [UInt8](repeating: 7, count: 32), tbsCertificate: [0x30, 0x00])
        let data = sct.signedData(for: entry)
        // version 0, certificate_timestamp 0, timestamp, entry type 1, key hash, uint24 length, TBS, no extensions.
        XCTAssertEqual(Array(data.prefix(2)), [0, 0])
        XCTAssertEqual(Array(data[10..<12]), [0, 1])
        XCTAssertEqual(Array(data[44..<47]), [0, 0, 2])
        XCTAssertEqual(Array(data.suffix(4)), [0x30, 0x00, 0, 0])
        XCTAssertEqual(data.count, 2 + 8 + 2 + 32 + 3 + 2 + 2)
    }

    func testMalformedAnswersAreRefused() {
        let cases: [(String, [UInt8])] = [
            ("not JSON", Array("<html>".utf8)),
            ("version 1", answer(["sct_version": 1])),
            ("short log ID", answer(["id": Data([1, 2, 3]).base64EncodedString()])),
            ("negative timestamp", answer(["timestamp": -1])),
            ("no timestamp", answer(["timestamp": NSNull()])),
            ("extensions not base64", answer(["extensions": "%%%"])),
            ("signature length lies", answer(["signature": Data([4, 3, 0, 9, 1]).base64EncodedString()])),
            ("signature too short", answer(["signature": Data([4, 3]).base64EncodedString()])),
        ]
        for (name, json) in cases {
            XCTAssertThrowsError(try SignedCertificateTimestamp(json: json), name)
        }
    }
}
