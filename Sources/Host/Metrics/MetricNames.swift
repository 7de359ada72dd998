/// The names of the metrics that more than one file makes (the rest are named where made).
enum MetricNames {
    static let httpRequests = "acmeeh_http_requests_total"
    static let httpRequestDuration = "acmeeh_http_request_duration_seconds"
    static let caSignDuration = "acmeeh_ca_sign_duration_seconds"
    static let caSigningErrors = "acmeeh_ca_signing_errors_total"
    static let validationDuration = "acmeeh_challenge_validation_duration_seconds"
}
