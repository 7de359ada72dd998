import Foundation
@testable import Host
import XCTest

/// Which notification each domain event calls for, to whom, and when a failed delivery is
/// tried again (no database: the end-to-end runs are NotificationTests).
final class NotificationRulesTests: XCTestCase {
    func testOnlyMailtoContactsAreRecipients() {
        XCTAssertEqual(NotificationRecorder.mailAddresses(["mailto:a@example.test", "tel:+1555", "MAILTO:b%2Bx@example.test", "mailto:"]),
                       ["a@example.test", "b+x@example.test"])
    }

    func testEventsMapToTheirTypes() throws {
        let account = UUID(), order = UUID(), certificate = UUID()
        let identifier = Identifier(type: "dns", value: "a.example.test")
        let cases: [(DomainEvent, NotificationType?)] = [
            (.accountRegistered(accountID: account, contacts: [], jwkThumbprint: "t", termsOfServiceAgreed: true), .registrationSucceeded),
            (.certificateIssued(certificateID: certificate, orderID: order, accountID: account, serial: "0a", domains: ["a.example.test"],
                                notAfter: Date(), pemChain: ""), .deliverySucceeded),
            (.certificateRevoked(certificateID: certificate, accountID: account, serial: "0a", reason: "keyCompromise"), .revocationSucceeded),
            (.accountDeactivated(accountID: account), .accountDeactivated),
            (.accountKeyRolledOver(accountID: account, oldThumbprint: "o", newThumbprint: "n"), .keyRolloverSucceeded),
            (.authorizationDeactivated(authorizationID: UUID(), accountID: account, identifier: identifier), .authorizationDeactivated),
            (.orderUnfulfilled(.init(kind: .rejected, orderID: nil, accountID: account, identifiers: [identifier], error: "no")), .orderRejected),
            (.orderUnfulfilled(.init(kind: .quotaExceeded, orderID: nil, accountID: account, identifiers: [], error: "q")), .orderQuotaExceeded),
            (.orderUnfulfilled(.init(kind: .csrRefused, orderID: order, accountID: account, identifiers: [], error: "c")), .csrValidationFailed),
            (.orderUnfulfilled(.init(kind: .signingFailed, orderID: order, accountID: account, identifiers: [], error: "s")), .deliveryFailed),
            (.orderUnfulfilled(.init(kind: .staleRecovered, orderID: order, accountID: account, identifiers: [], error: "i")), .orderStaleRecovered),
            (.revocationRefusedByCA(certificateID: certificate, accountID: account, serial: "0a", error: "unknown serial"), .revocationFailed),
            (.accountUpdated(accountID: account, contacts: []), nil),
            (.certificateDelivered(certificateID: certificate, accountID: account, serial: "0a"), nil),
        ]
        for (event, type) in cases {
            let mapped = NotificationRecorder.notification(of: event)
            XCTAssertEqual(mapped?.0, type, event.name)
            if let mapped { XCTAssertEqual(mapped.1, account, event.name) }
        }
        let issued = try XCTUnwrap(NotificationRecorder.notification(of: cases[1].0))
        XCTAssertEqual(issued.2["serial_number"] as? String, "0a")
        XCTAssertEqual(issued.2["domains"] as? [String], ["a.example.test"])
        let rejected = try XCTUnwrap(NotificationRecorder.notification(of: cases[6].0))
        XCTAssertEqual(rejected.2["identifiers"] as? [String], ["dns:a.example.test"])
    }

    func testRetryDelaysGrowByTheMultiplierUpToTheCap() {
        var config = NotificationsConfig()
        config.retryDelaySeconds = 60
        config.retryBackoffMultiplier = 2
        config.retryMaxDelaySeconds = 300
        XCTAssertEqual((1...5).map { NotificationDelivery.retryDelaySeconds(afterAttempts: $0, config: config) }, [60, 120, 240, 300, 300])
        config.retryBackoffMultiplier = 1.5
        config.retryDelaySeconds = 1
        XCTAssertEqual(NotificationDelivery.retryDelaySeconds(afterAttempts: 3, config: config), 3, "2.25 s, rounded up")
    }
}
