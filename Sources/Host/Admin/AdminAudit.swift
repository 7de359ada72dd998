import Foundation
import Logging

/// Writes the admin audit trail (`admin.audit_log`): every mutation and every login attempt.
struct AdminAudit: Sendable {
    let database: Database
    let logger: Logger

    /// Records one entry. A failure to record is logged as an error (the change it
    /// describes has already been made).
    func record(_ action: String, userID: UUID?, targetUserID: UUID? = nil, details: [String: Any] = [:], ip: String?) async {
        let json = String(decoding: AdminReply.bytes(details), as: UTF8.self)
        do {
            try await database.withConnection {
                try $0.insertAdminAudit(userID: userID, action: action, targetUserID: targetUserID, detailsJSON: json,
                                        ipAddress: ip)
            }
        } catch {
            logger.error("could not write the admin audit log", metadata: ["action": "\(action)", "error": "\(error)"])
        }
    }
}
