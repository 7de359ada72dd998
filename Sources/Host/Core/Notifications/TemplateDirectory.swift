import Foundation

/// The override files of `smtp.templates_path`: each regular file must be named
/// `<type>_subject.txt`, `<type>_body.txt` or `<type>_body.html` and replaces that one
/// built-in template. Hidden files and subdirectories are left alone.
enum TemplateDirectory {
    struct Override: Sendable {
        let type: NotificationType
        let part: NotificationTemplates.Part
        let path: String
        let text: String
    }

    /// The template each name stands for.
    static let names: [String: (type: NotificationType, part: NotificationTemplates.Part)] = {
        var names: [String: (type: NotificationType, part: NotificationTemplates.Part)] = [:]
        for type in NotificationType.allCases {
            for part in NotificationTemplates.Part.allCases {
                names[NotificationTemplates.fileName(type, part)] = (type, part)
            }
        }
        return names
    }()

    /// The valid names, as an error message states them.
    static var pattern: String {
        let parts = NotificationTemplates.Part.allCases.map { "<type>\($0.rawValue)" }.joined(separator: ", ")
        let types = NotificationType.allCases.map(\.rawValue).joined(separator: ", ")
        return "\(parts), where <type> is one of \(types)"
    }

    /// Reads the overrides of `directory`, sorted by file name.
    static func overrides(in directory: String) throws(TemplateError) -> [Override] {
        var status = stat()
        guard stat(directory, &status) == 0 else {
            throw TemplateError(file: directory, "cannot read the template directory (smtp.templates_path): \(String(cString: strerror(errno)))")
        }
        guard (status.st_mode & S_IFMT) == S_IFDIR else {
            throw TemplateError(file: directory, "smtp.templates_path is not a directory")
        }
        let entries: [String]
        do {
            entries = try FileManager.default.contentsOfDirectory(atPath: directory)
        } catch {
            throw TemplateError(file: directory, "cannot read the template directory (smtp.templates_path): \(error.localizedDescription)")
        }
        var overrides: [Override] = []
        for name in entries.sorted() where !name.hasPrefix(".") {
            let path = (directory as NSString).appendingPathComponent(name)
            guard isRegularFile(path) else { continue }
            guard let template = names[name] else {
                throw TemplateError(file: path, "not a notification template name; a template file is named \(pattern)")
            }
            guard let data = FileManager.default.contents(atPath: path) else {
                throw TemplateError(file: path, "cannot read the template")
            }
            guard let text = String(data: data, encoding: .utf8) else {
                throw TemplateError(file: path, "the template is not UTF-8 text")
            }
            overrides.append(Override(type: template.type, part: template.part, path: path, text: text))
        }
        return overrides
    }

    /// Whether `path` is a regular file, after following symbolic links.
    private static func isRegularFile(_ path: String) -> Bool {
        var status = stat()
        return stat(path, &status) == 0 && (status.st_mode & S_IFMT) == S_IFREG
    }
}
