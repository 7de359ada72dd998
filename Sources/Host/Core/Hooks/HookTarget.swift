/// One loaded `hooks.registered[i]` entry: its notifier plugin instance, the events it
/// receives and the deadline of each delivery attempt.
struct HookTarget: Sendable {
    /// The entry's index in `hooks.registered`.
    var index: Int
    /// `webhook`, `smtp` or `ext:NAME`, as configured.
    var notifier: String
    var events: Set<String>
    var timeout: Duration
    var instance: NotifierPluginInstance

    /// `hooks.registered[0]`: how logs and the dead-letter log name the entry.
    var key: String { "hooks.registered[\(index)]" }
}
