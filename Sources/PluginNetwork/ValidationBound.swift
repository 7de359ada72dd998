import PluginAPI
import PluginKit

/// The time one validation may take — `timeout_seconds` or the call's deadline, whichever
/// comes first — and how running out of it reads as an error: the call's deadline gives
/// `ACMEEH_E_DEADLINE`, the validator's own timeout `ACMEEH_E_UNAVAILABLE`; both retryable.
public struct ValidationBound: Sendable {
    public let deadline: Deadline
    public let callDeadlineBinds: Bool
    public let timeoutSeconds: Int

    public init(timeoutSeconds: Int, callDeadline: Deadline) {
        let own = Deadline.fromNow(milliseconds: Int64(timeoutSeconds) * 1000)
        deadline = min(own, callDeadline)
        callDeadlineBinds = callDeadline <= own
        self.timeoutSeconds = timeoutSeconds
    }

    public func timedOut(_ detail: String, problemType: String = ProblemType.connection) -> PluginError {
        if callDeadlineBinds {
            return PluginError(code: ACMEEH_E_DEADLINE, retryable: true, problemType: problemType,
                               detail: "\(detail) (the validation's deadline passed)")
        }
        return PluginError(code: ACMEEH_E_UNAVAILABLE, retryable: true, problemType: problemType,
                           detail: "\(detail) (timeout_seconds \(timeoutSeconds) passed)")
    }
}
