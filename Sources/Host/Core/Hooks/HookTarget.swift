/// One loaded `hooks.registered[i]` entry: its notifier plugin instance, the events it
/// receives and the deadline of each delivery attempt.
struct HookTarget: Sendable {
    /// How logs and the dead-letter log name the target: `hooks.registered[0]`, or
    /// `audit_export.webhook_url`.
    var key: String
    /// `webhook`, `smtp` or `ext:NAME`, as configured.
    var notifier: String
    var events: Set<String>
    var timeout: Duration
    var instance: NotifierPluginInstance
}
