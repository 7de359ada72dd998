/// What a notification reports (docs/notifications.md says when each fires). The raw value
/// is the name of `notifications.disabled_types` and of the template files
/// (`<type>_subject.txt`, `<type>_body.txt`, `<type>_body.html`); the set of raw values is
/// `NotificationsConfig.types`.
enum NotificationType: String, CaseIterable, Sendable {
    case registrationSucceeded = "registration_succeeded"
    case registrationFailed = "registration_failed"
    case deliverySucceeded = "delivery_succeeded"
    case deliveryFailed = "delivery_failed"
    case revocationSucceeded = "revocation_succeeded"
    case revocationFailed = "revocation_failed"
    case expirationWarning = "expiration_warning"
    case orderRejected = "order_rejected"
    case orderQuotaExceeded = "order_quota_exceeded"
    case orderStaleRecovered = "order_stale_recovered"
    case challengeFailed = "challenge_failed"
    case csrValidationFailed = "csr_validation_failed"
    case accountDeactivated = "account_deactivated"
    case accountRevoked = "account_revoked"
    case keyRolloverSucceeded = "key_rollover_succeeded"
    case authorizationDeactivated = "authorization_deactivated"
    case adminUserCreated = "admin_user_created"
    case adminPasswordReset = "admin_password_reset"
}
