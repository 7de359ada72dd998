import Foundation
@testable import Host
import XCTest

/// The fast JSON writer produces exactly what JSONSerialization (sorted keys, unescaped
/// slashes) produces, and declines values it does not know.
final class JSONWriterTests: XCTestCase {
    private func reference(_ object: [String: Any]) throws -> [UInt8] {
        Array(try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]))
    }

    func testMatchesJSONSerialization() throws {
        let objects: [[String: Any]] = [
            [:],
            ["status": "valid", "expires": "2026-01-01T00:00:00Z", "wildcard": true, "n": 3, "neg": -42,
             "identifiers": [["type": "dns", "value": "a.example"], ["type": "ip", "value": "::1"]],
             "authorizations": ["http://h/authz/1", "http://h/authz/2"], "empty": [String](), "z": [String: Any]()],
            ["detail": "quote \" backslash \\ slash / newline \n tab \t cr \r ctl \u{01}\u{1f} bs \u{08} ff \u{0C}",
             "unicode": "bücher.example — ✓ 😀", "subproblems": [["identifier": ["type": "dns", "value": "x"]]],
             "int64": Int64(1) << 40, "int32": Int32(-7), "b": false],
        ]
        for object in objects {
            XCTAssertEqual(JSONWriter.write(object).map { String(decoding: $0, as: UTF8.self) },
                           String(decoding: try reference(object), as: UTF8.self))
        }
    }

    func testDeclinesOtherValuesAndJSONResponseFallsBack() throws {
        let object: [String: Any] = ["ratio": 0.5, "n": NSNumber(value: 7)]
        XCTAssertNil(JSONWriter.write(object))
        XCTAssertEqual(JSONResponse.bytes(object), try reference(object))
    }
}
