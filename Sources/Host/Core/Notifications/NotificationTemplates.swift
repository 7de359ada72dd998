import Foundation
import Mustache

/// The Mustache templates of every notification type: a subject, a text body and an HTML
/// body each, built in (`DefaultTemplates`) and overridden file by file from
/// `smtp.templates_path` (docs/notifications.md). Parsed once at startup, so a broken
/// override stops the server with its file and line instead of failing each mail.
struct NotificationTemplates: Sendable {
    /// The three templates of a type, and the suffix of each one's file name.
    enum Part: String, CaseIterable, Sendable {
        case subject = "_subject.txt"
        case text = "_body.txt"
        case html = "_body.html"

        /// Text parts render variables as they are; HTML escapes them.
        var isHTML: Bool { self == .html }
    }

    private let templates: [NotificationType: [Part: MustacheTemplate]]

    /// The file name of one template: `<type>_subject.txt`, `<type>_body.txt` or `<type>_body.html`.
    static func fileName(_ type: NotificationType, _ part: Part) -> String {
        type.rawValue + part.rawValue
    }

    /// Parses the built-in templates and every override in `directory` (nil = none); a template that does not
    /// parse throws TemplateError naming the file and line; an unknown file name in the directory is an error too.
    /// Hidden files and subdirectories of `directory` are ignored.
    static func load(directory: String?) throws(TemplateError) -> NotificationTemplates {
        var sources: [NotificationType: [Part: (file: String, text: String)]] = [:]
        for type in NotificationType.allCases {
            for part in Part.allCases {
                sources[type, default: [:]][part] = ("built-in \(fileName(type, part))", DefaultTemplates.source(type, part))
            }
        }
        if let directory {
            for override in try TemplateDirectory.overrides(in: directory) {
                sources[override.type, default: [:]][override.part] = (override.path, override.text)
            }
        }
        var templates: [NotificationType: [Part: MustacheTemplate]] = [:]
        for type in NotificationType.allCases {
            for part in Part.allCases {
                guard let source = sources[type]?[part] else { continue }
                templates[type, default: [:]][part] = try TemplateCompiler.compile(source.text, html: part.isHTML, file: source.file)
            }
        }
        return NotificationTemplates(templates: templates)
    }

    /// Renders the three templates of `type`. Variables missing from `context`, nil or empty
    /// render empty (and count as false in sections); the subject is trimmed and its line
    /// breaks collapse into single spaces, so it is always one header line.
    func render(_ type: NotificationType, _ context: [String: Any]) -> RenderedNotification {
        let context = Self.present(context)
        func output(_ part: Part) -> String { templates[type]?[part]?.render(context) ?? "" }
        return RenderedNotification(subject: Self.headerLine(output(.subject)), text: output(.text), html: output(.html))
    }

    /// `text` on one line: each line trimmed, blank ones dropped, the rest joined by a space.
    static func headerLine(_ text: String) -> String {
        text.split(whereSeparator: \.isNewline)
            .map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty }
            .joined(separator: " ")
    }

    /// `context` without the values that stand for nothing (nil, ""), so that a section such as
    /// `{{#eab_kid}}…{{/eab_kid}}` shows only when the value is there.
    private static func present(_ context: [String: Any]) -> [String: Any] {
        context.filter { _, value in
            if let text = value as? String { return !text.isEmpty }
            let mirror = Mirror(reflecting: value)
            return !(mirror.displayStyle == .optional && mirror.children.isEmpty)
        }
    }
}
