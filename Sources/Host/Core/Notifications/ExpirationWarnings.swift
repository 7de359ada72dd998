import Foundation
import Logging

/// The expiration worker's round (`notifications.expiration_warning_days`): each certificate
/// that crossed a threshold gets one `expiration_warning` for the smallest threshold it is
/// within, recorded together with its notice in `certificate_expiration_notices`, so a
/// restart or a second instance never warns twice. Revoked certificates, certificates of
/// accounts that are not valid and certificates renewed (a newer one of the same account
/// for the same names) are skipped.
struct ExpirationWarnings: Sendable {
    let database: Database
    let recorder: NotificationRecorder
    let logger: Logger

    /// Certificates examined per query; the round continues while a query fills up.
    static let pageSize = 200

    /// Records the warnings due now; returns how many it recorded.
    func round() async throws -> Int {
        let warningDays = recorder.settings().expirationWarningDays
        guard !warningDays.isEmpty, recorder.isEnabled(.expirationWarning) else { return 0 }
        var recorded = 0
        while true {
            let due = try await database.runBatch([.expiringCertificates(warningDays: warningDays, limit: Self.pageSize)])[0]
                .expiringCertificates
            for certificate in due {
                let daysRemaining = max(0, Int((certificate.notAfter.timeIntervalSinceNow / 86_400).rounded(.down)))
                let variables: [String: Any] = [
                    "certificate_id": DomainEvent.text(certificate.certificateID), "serial_number": certificate.serial,
                    "domains": certificate.domains, "not_after": certificate.notAfter.formatted(.iso8601),
                    "days_remaining": daysRemaining, "warning_days": certificate.warningDays,
                ]
                guard let statement = recorder.statement(.expirationWarning, accountID: certificate.accountID,
                                                         contacts: certificate.contacts, variables: variables,
                                                         expiration: (certificate.certificateID, certificate.warningDays))
                else {
                    // No mail contact: the notice alone, so the certificate is not examined again.
                    _ = try await database.runBatch([.insertExpirationNotice(certificateID: certificate.certificateID,
                                                                             warningDays: certificate.warningDays)])
                    continue
                }
                // No row: another instance recorded this threshold first.
                guard try await !database.runBatch([statement])[0].rows.isEmpty else { continue }
                recorded += 1
                logger.info("expiration warning recorded", metadata: [
                    "serial": "\(certificate.serial)", "warning_days": "\(certificate.warningDays)",
                    "days_remaining": "\(daysRemaining)"])
            }
            if due.count < Self.pageSize { break }
        }
        if recorded > 0 { recorder.bell.ring() }
        return recorded
    }
}
