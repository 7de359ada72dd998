/// Why a flow did not end with a good certificate, as the report counts it: `kind` is an
/// ACME problem type (RFC 8555 §6.7), `transport:…`, `http:STATUS` (an error without a
/// problem document), `protocol:…` (an answer the tool cannot use), `check:…` (the
/// certificate is wrong), or `stalled` (the run's time ran out before the flow finished).
struct FlowError: Error, CustomStringConvertible {
    let kind: String
    let detail: String
    let step: Step

    var description: String { "\(step.rawValue): \(kind): \(detail)" }

    static func stalled(_ step: Step) -> FlowError {
        FlowError(kind: "stalled", detail: "the run's time ran out", step: step)
    }
}

/// The steps of one issuance flow, each timed on its own.
enum Step: String, CaseIterable {
    case newAccount, newOrder
    /// Fetching each authorization, answering its http-01 challenge and waiting for validation.
    case authorization
    /// Finalize with the CSR and poll the order until it is valid.
    case finalize
    /// Downloading the chain and checking it.
    case certificate
}
