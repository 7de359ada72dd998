import Foundation
import Mustache

/// Parses one notification template with swift-mustache, so that text templates (subject,
/// text body) render variables as they are and HTML templates escape them, and a parse error
/// becomes a `TemplateError` at the template's own line.
enum TemplateCompiler {
    /// The CONTENT_TYPE pragma that turns escaping off, on a line of its own: a standalone tag,
    /// so the template renders exactly as written, one line further down.
    private static let textPragma = "{{%CONTENT_TYPE:TEXT}}\n"

    static func compile(_ source: String, html: Bool, file: String) throws(TemplateError) -> MustacheTemplate {
        let shift = html ? 0 : 1
        do {
            return try MustacheTemplate(string: html ? source : textPragma + source)
        } catch let error as MustacheTemplate.ParserError {
            let reported = max(1, error.context.lineNumber - shift)
            if error.error as? MustacheTemplate.Error == .expectedSectionEnd, let open = unclosedSection(source) {
                throw TemplateError(file: file, line: open.line, "section \"\(open.name)\" is never closed (no {{/\(open.name)}})")
            }
            throw TemplateError(file: file, line: reported, message(error.error))
        } catch {
            throw TemplateError(file: file, "\(error)")
        }
    }

    private static func message(_ error: Error) -> String {
        // The other errors are the parser's reading past the end of the template.
        guard let error = error as? MustacheTemplate.Error else { return "the template ends inside an unfinished tag" }
        switch error {
        case .sectionCloseNameIncorrect: return "closing tag does not match the open section"
        case .unfinishedName: return "unfinished tag or invalid name"
        case .expectedSectionEnd: return "a section is never closed"
        case .invalidSetDelimiter: return "malformed set-delimiter tag {{=… …=}}"
        case .transformAppliedToInheritanceSection: return "a block {{$…}} cannot take a transform"
        case .illegalTokenInsideInheritSection, .textInsideInheritSection: return "only blocks {{$…}} may stand inside a parent {{<…}}"
        case .invalidConfigVariableSyntax: return "malformed pragma {{%NAME:VALUE}}"
        case .unrecognisedConfigVariable: return "unknown pragma"
        }
    }

    /// The innermost section still open at the end of `source`, and the line of its opening
    /// tag: swift-mustache reports an unclosed section at the end of the template, where the
    /// author would not look. Follows set-delimiter tags; nil when the tags do not add up.
    static func unclosedSection(_ source: String) -> (name: String, line: Int)? {
        var open: [(name: String, line: Int)] = []
        var start = "{{", end = "}}"
        var line = 1
        var rest = Substring(source)
        while let tagStart = rest.range(of: start) {
            line += rest[..<tagStart.lowerBound].filter(\.isNewline).count
            var body = rest[tagStart.upperBound...]
            let closing = body.first == "{" && end == "}}" ? "}" + end : end
            guard let tagEnd = body.range(of: closing) else { return nil }
            let tag = body[..<tagEnd.lowerBound]
            body = body[tagEnd.upperBound...]
            let name = tag.dropFirst().trimmingCharacters(in: .whitespaces)
            switch tag.first {
            case "#", "^", "$", "<": open.append((name, line))
            case "/": if open.last?.name == name { open.removeLast() } else { return nil }
            case "=":
                let delimiters = tag.dropFirst().dropLast().split(separator: " ", omittingEmptySubsequences: true)
                guard delimiters.count == 2 else { return nil }
                start = String(delimiters[0])
                end = String(delimiters[1])
            default: break
            }
            line += tag.filter(\.isNewline).count
            rest = body
        }
        return open.last
    }
}
