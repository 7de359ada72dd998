import Foundation
@testable import Host
import XCTest

/// Admin bearer tokens (`AdminToken`): what is signed verifies to the same claims; a changed
/// payload or MAC, a token of another secret, garbage and an old token are refused.
final class AdminTokenTests: XCTestCase {
    let secret = "unit-test-token-secret-0123456789"
    let now = Date(timeIntervalSince1970: 1_750_000_000.123)

    func user(role: AdminUser.Role = .admin) -> AdminUser {
        AdminUser(id: UUID(), username: "ops.one", email: "ops@example.test", passwordHash: "$2b$11$x", role: role,
                  enabled: true, passwordChangedAt: now, lastLoginAt: nil, createdAt: now, updatedAt: now)
    }

    func testRoundTrip() throws {
        let user = user(role: .auditor)
        let token = AdminToken(user: user, now: now)
        let text = token.signed(secret: secret)
        let verified = try AdminToken.verify(text, secret: secret, lifetimeSeconds: 3600, now: now.addingTimeInterval(10))
        XCTAssertEqual(verified, token)
        XCTAssertEqual(verified.userID, user.id)
        XCTAssertEqual(verified.username, "ops.one")
        XCTAssertEqual(verified.role, .auditor)
        XCTAssertEqual(verified.issuedAtMillis, 1_750_000_000_123)
        XCTAssertNotEqual(AdminToken(user: user, now: now).signed(secret: secret), text, "two tokens of one instant differ")
    }

    func testTamperedPayloadIsRefused() throws {
        let text = AdminToken(user: user(role: .auditor), now: now).signed(secret: secret)
        let parts = text.split(separator: ".").map(String.init)
        // The same claims with the role raised, re-encoded, under the old MAC.
        var claims = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(try XCTUnwrap(Base64URL.decode(parts[0]))))
                                   as? [String: Any])
        claims["role"] = "admin"
        let forged = Base64URL.encode(Array(try JSONSerialization.data(withJSONObject: claims))) + "." + parts[1]
        XCTAssertThrowsError(try AdminToken.verify(forged, secret: secret, lifetimeSeconds: 3600, now: now)) {
            XCTAssertEqual($0 as? AdminToken.Refusal, .badSignature)
        }
    }

    func testTamperedMACIsRefused() throws {
        let text = AdminToken(user: user(), now: now).signed(secret: secret)
        let parts = text.split(separator: ".").map(String.init)
        var mac = try XCTUnwrap(Base64URL.decode(parts[1]))
        for index in [0, mac.count / 2, mac.count - 1] {
            var flipped = mac
            flipped[index] ^= 0x01
            let forged = parts[0] + "." + Base64URL.encode(flipped)
            XCTAssertThrowsError(try AdminToken.verify(forged, secret: secret, lifetimeSeconds: 3600, now: now)) {
                XCTAssertEqual($0 as? AdminToken.Refusal, .badSignature, "byte \(index)")
            }
        }
        mac.removeLast()
        XCTAssertThrowsError(try AdminToken.verify(parts[0] + "." + Base64URL.encode(mac), secret: secret,
                                                   lifetimeSeconds: 3600, now: now)) {
            XCTAssertEqual($0 as? AdminToken.Refusal, .badSignature, "a shortened MAC")
        }
        XCTAssertThrowsError(try AdminToken.verify(text, secret: secret + "x", lifetimeSeconds: 3600, now: now)) {
            XCTAssertEqual($0 as? AdminToken.Refusal, .badSignature, "another secret")
        }
    }

    func testGarbageIsMalformed() {
        let text = AdminToken(user: user(), now: now).signed(secret: secret)
        for garbage in ["", "abc", "a.b.c", text + ".x", "!!!.???", String(repeating: "a", count: 3000) + ".b"] {
            XCTAssertThrowsError(try AdminToken.verify(garbage, secret: secret, lifetimeSeconds: 3600, now: now)) {
                XCTAssertEqual($0 as? AdminToken.Refusal, .malformed, garbage)
            }
        }
        // A verified MAC over something that is not the claims object.
        let payload = Base64URL.encode(Array("[1,2]".utf8))
        let mac = Digest.hmac(.sha256, key: Array(secret.utf8), data: Array(payload.utf8))
        XCTAssertThrowsError(try AdminToken.verify(payload + "." + Base64URL.encode(mac), secret: secret,
                                                   lifetimeSeconds: 3600, now: now)) {
            XCTAssertEqual($0 as? AdminToken.Refusal, .malformed)
        }
    }

    func testExpiry() throws {
        let text = AdminToken(user: user(), now: now).signed(secret: secret)
        XCTAssertNoThrow(try AdminToken.verify(text, secret: secret, lifetimeSeconds: 60, now: now.addingTimeInterval(59.9)))
        for age in [60.0, 61, 86_400] {
            XCTAssertThrowsError(try AdminToken.verify(text, secret: secret, lifetimeSeconds: 60, now: now.addingTimeInterval(age))) {
                XCTAssertEqual($0 as? AdminToken.Refusal, .expired, "age \(age)")
            }
        }
        // Issued more than a minute in the future (a clock far off, or a forged iat): refused.
        XCTAssertThrowsError(try AdminToken.verify(text, secret: secret, lifetimeSeconds: 60, now: now.addingTimeInterval(-120))) {
            XCTAssertEqual($0 as? AdminToken.Refusal, .expired)
        }
        XCTAssertNoThrow(try AdminToken.verify(text, secret: secret, lifetimeSeconds: 60, now: now.addingTimeInterval(-30)),
                         "small clock differences between instances are tolerated")
    }
}

/// The login lockout's arithmetic (`AdminLoginThrottle.remainingLockout`): 5 failures within
/// 300 s lock for 900 s from the fifth; fewer, or spread wider, do not.
final class AdminLoginThrottleTests: XCTestCase {
    let now = Date(timeIntervalSince1970: 1_750_000_000)

    /// Failures `secondsAgo` before `now`, newest first (as the Store returns them).
    func failures(_ secondsAgo: [Double]) -> [Date] {
        secondsAgo.sorted().map { now.addingTimeInterval(-$0) }
    }

    func testFourFailuresDoNotLock() {
        XCTAssertNil(AdminLoginThrottle.remainingLockout(failuresNewestFirst: failures([0, 1, 2, 3]), now: now))
        XCTAssertNil(AdminLoginThrottle.remainingLockout(failuresNewestFirst: [], now: now))
    }

    func testFiveWithinTheWindowLockForFifteenMinutes() throws {
        let locked = try XCTUnwrap(AdminLoginThrottle.remainingLockout(failuresNewestFirst: failures([0, 1, 2, 3, 4]), now: now))
        XCTAssertEqual(locked, 900)
        // The fifth came 10 s ago, the first 299 s before it: 890 s left.
        let later = try XCTUnwrap(AdminLoginThrottle.remainingLockout(failuresNewestFirst: failures([10, 100, 200, 300, 309]),
                                                                      now: now))
        XCTAssertEqual(later, 890)
    }

    func testFiveSpreadOverMoreThanTheWindowDoNotLock() {
        XCTAssertNil(AdminLoginThrottle.remainingLockout(failuresNewestFirst: failures([0, 100, 200, 300, 301]), now: now))
        XCTAssertNil(AdminLoginThrottle.remainingLockout(failuresNewestFirst: failures([0, 80, 160, 240, 320, 400]), now: now))
    }

    func testLockExpires() throws {
        // Five quick failures, the newest 899 s ago: one second left; 900 s ago: over.
        XCTAssertEqual(AdminLoginThrottle.remainingLockout(failuresNewestFirst: failures([899, 900, 901, 902, 903]), now: now), 1)
        XCTAssertNil(AdminLoginThrottle.remainingLockout(failuresNewestFirst: failures([900, 901, 902, 903, 904]), now: now))
        // An older burst that expired does not lock, a newer one on top of it does.
        XCTAssertNil(AdminLoginThrottle.remainingLockout(failuresNewestFirst: failures([1000, 1001, 1002, 1003, 1004, 5]),
                                                         now: now))
        let renewed = try XCTUnwrap(AdminLoginThrottle.remainingLockout(
            failuresNewestFirst: failures([1, 2, 3, 4, 5, 1000, 1001, 1002]), now: now))
        XCTAssertEqual(renewed, 899)
    }
}

/// The admin list cursor's text (`AdminCursor`): what is encoded decodes to the same
/// position; anything else is refused.
final class AdminCursorTests: XCTestCase {
    func testRoundTrip() throws {
        for micros: Int64 in [0, 1, 1_750_000_000_123_456, -5] {
            let cursor = PageCursor(createdAtMicros: micros, id: UUID())
            let text = AdminCursor.encode(cursor)
            XCTAssertFalse(text.contains("="), "base64url without padding")
            XCTAssertEqual(AdminCursor.decode(text), cursor)
        }
    }

    func testGarbageIsRefused() {
        let id = UUID().uuidString.lowercased()
        let valid = AdminCursor.encode(PageCursor(createdAtMicros: 42, id: UUID()))
        for text in ["", "!!!", "abc", valid + "!", String(repeating: "A", count: 300),
                     Base64URL.encode(Array("42".utf8)), Base64URL.encode(Array("x:\(id)".utf8)),
                     Base64URL.encode(Array("42:not-a-uuid".utf8)), Base64URL.encode(Array("42:\(id):7".utf8)),
                     Base64URL.encode(Array("1.5:\(id)".utf8))] {
            XCTAssertNil(AdminCursor.decode(text), text)
        }
    }
}

/// The admin API's timestamps (`AdminDates`): shown exact to the microsecond, read back the same.
final class AdminDatesTests: XCTestCase {
    func testMicrosecondsOutAndBackIn() throws {
        let date = Date(timeIntervalSince1970: 1_796_588_627.522093)
        XCTAssertEqual(AdminDates.format(date), "2026-12-06T20:23:47.522093Z")
        XCTAssertEqual(AdminDates.format(Date(timeIntervalSince1970: 1_796_588_627)), "2026-12-06T20:23:47.000000Z")
        XCTAssertEqual(AdminDates.format(Date(timeIntervalSince1970: -0.25)), "1969-12-31T23:59:59.750000Z")
        for micros: Int64 in [0, 1, 999_999, 1_796_588_627_000_001, 1_796_588_627_522_093] {
            let date = Date(timeIntervalSince1970: Double(micros) / 1_000_000)
            let parsed = try XCTUnwrap(AdminDates.parse(AdminDates.format(date)))
            XCTAssertEqual(Int64((parsed.timeIntervalSince1970 * 1_000_000).rounded()), micros, AdminDates.format(date))
        }
        // What a filter binds is the very microsecond shown (CI once lost 21:35:39.143305 to .143304).
        for step: Int64 in 0..<5000 {
            let micros = 1_796_592_939_143_305 + step * 7_919
            let shown = AdminDates.format(Date(timeIntervalSince1970: Double(micros) / 1_000_000))
            let bound = PostgresTimestamp.format(try XCTUnwrap(AdminDates.parse(shown)))
            let fraction = String(micros % 1_000_000)
            XCTAssertTrue(bound.contains("." + String(repeating: "0", count: 6 - fraction.count) + fraction), "\(shown) bound as \(bound)")
        }
        XCTAssertEqual(AdminDates.parse("2026-12-06T21:35:39.5+02:00"), Date(timeIntervalSince1970: 1_796_585_739.5))
        XCTAssertNil(AdminDates.parse("2026-12-06T21:35:39.Z"))
        XCTAssertEqual(AdminDates.parse("2026-12-06"), Date(timeIntervalSince1970: 1_796_515_200))
        XCTAssertNil(AdminDates.parse("yesterday"))
    }
}
