/// A notification rendered for sending: a one-line subject, a plain-text body and an HTML
/// body (the notifier sends both as multipart/alternative).
struct RenderedNotification: Sendable, Equatable {
    var subject: String
    var text: String
    var html: String
}
