import Foundation
import XCTest

/// The folders of `Sources/Host` form layers with no cycle: each folder uses only the
/// types of the folders below it (docs/architecture.md draws them). Read from the
/// sources: a type declared at the top level of a file in folder A and named in a file
/// of folder B makes B depend on A.
final class FolderLayeringTests: XCTestCase {
    /// Each folder and the folders it may use.
    static let allowed: [String: Set<String>] = [
        "Encoding": [],
        "Model": ["Encoding"],
        "Config": ["Model", "Encoding"],
        "Ops": ["Config", "Model"],
        "Store": ["Config", "Model", "Encoding"],
        "Plugins": ["Ops", "Config", "Model", "Encoding"],
        "Core": ["Store", "Plugins", "Config", "Model", "Encoding"],
        "Metrics": ["Core", "Store", "Plugins", "Ops", "Config", "Model"],
        "Workers": ["Metrics", "Core", "Store", "Config", "Model"],
        "ACME": ["Metrics", "Core", "Store", "Ops", "Config", "Model", "Encoding"],
        "Admin": ["ACME", "Metrics", "Core", "Store", "Ops", "Config", "Model", "Encoding"],
        "CLI": ["Admin", "ACME", "Workers", "Metrics", "Core", "Store", "Plugins", "Ops", "Config", "Model", "Encoding"],
    ]

    func testEachFolderUsesOnlyTheLayersBelowIt() throws {
        let root = TestPaths.repository.appendingPathComponent("Sources/Host")
        var sources: [(folder: String, file: String, text: String)] = []
        let enumerator = try XCTUnwrap(FileManager.default.enumerator(at: root, includingPropertiesForKeys: nil))
        for case let url as URL in enumerator where url.pathExtension == "swift" {
            let relative = url.path.dropFirst(root.path.count + 1)
            guard let folder = relative.split(separator: "/").first, relative.contains("/") else { continue }
            sources.append((String(folder), url.lastPathComponent, try String(contentsOf: url, encoding: .utf8)))
        }
        XCTAssertEqual(Set(sources.map(\.folder)), Set(Self.allowed.keys), "a folder was added or removed: update the layers")

        let declaration = try NSRegularExpression(pattern: #"^(?:final )?(?:struct|enum|class|protocol|typealias|actor) +([A-Z]\w*)"#,
                                                  options: [.anchorsMatchLines])
        var home: [String: String] = [:]
        for source in sources {
            for name in Self.matches(declaration, in: source.text) where home[name] == nil { home[name] = source.folder }
        }
        XCTAssertEqual(home["CoreServices"], "Core")
        XCTAssertEqual(home["Problem"], "Model")

        let identifier = try NSRegularExpression(pattern: #"\b([A-Z]\w*)\b"#)
        var violations: [String] = []
        for source in sources {
            for name in Set(Self.matches(identifier, in: Self.code(source.text))) {
                guard let folder = home[name], folder != source.folder else { continue }
                if !(Self.allowed[source.folder] ?? []).contains(folder) {
                    violations.append("\(source.folder)/\(source.file) uses \(name) of \(folder)")
                }
            }
        }
        XCTAssertEqual(violations.sorted(), [])
    }

    /// The allowed graph itself has no cycle.
    func testTheLayersHaveNoCycle() {
        var visiting: Set<String> = [], done: Set<String> = []
        func visit(_ folder: String) -> Bool {
            if done.contains(folder) { return true }
            if visiting.contains(folder) { return false }
            visiting.insert(folder)
            defer { visiting.remove(folder); done.insert(folder) }
            return (Self.allowed[folder] ?? []).allSatisfy(visit)
        }
        for folder in Self.allowed.keys { XCTAssertTrue(visit(folder), "cycle through \(folder)") }
    }

    /// Source text without comments and string literals (multi-line ones first).
    static func code(_ text: String) -> String {
        text.replacingOccurrences(of: #"(?s)\"\"\".*?\"\"\""#, with: "\"\"", options: .regularExpression)
            .replacingOccurrences(of: #"//[^\n]*"#, with: "", options: .regularExpression)
            .replacingOccurrences(of: #""(?:[^"\\\n]|\\.)*""#, with: "\"\"", options: .regularExpression)
    }

    static func matches(_ expression: NSRegularExpression, in text: String) -> [String] {
        let range = NSRange(text.startIndex..., in: text)
        return expression.matches(in: text, range: range).compactMap { match in
            Range(match.range(at: 1), in: text).map { String(text[$0]) }
        }
    }
}
