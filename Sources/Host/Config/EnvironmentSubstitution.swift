/// `${VAR}` and `${VAR:-default}` references in configuration scalars.
///
/// A reference may stand anywhere in a value (`postgres://${H}:${P:-5432}/x`). `:-` has
/// the shell's meaning: the default is used when the variable is unset or empty. Text that
/// is not a well-formed reference (`$HOME`, `${1}`, an unclosed `${`) stays as written.
enum EnvironmentSubstitution {
    /// The substituted text and what happened on the way.
    struct Result: Equatable {
        var text: String
        /// True when at least one reference was replaced.
        var substituted: Bool
        /// Variables that were referenced without a default and are not set.
        var missing: [String]
    }

    static func substitute(_ input: String, environment: [String: String]) -> Result {
        guard input.contains("${") else { return Result(text: input, substituted: false, missing: []) }
        let chars = Array(input)
        var output = ""
        var missing: [String] = []
        var substituted = false
        var i = 0
        while i < chars.count {
            if chars[i] == "$", i + 1 < chars.count, chars[i + 1] == "{",
               let (reference, end) = parseReference(chars, from: i + 2) {
                substituted = true
                if let value = environment[reference.name], !(reference.defaultValue != nil && value.isEmpty) {
                    output += value
                } else if let fallback = reference.defaultValue {
                    output += fallback
                } else {
                    missing.append(reference.name)
                }
                i = end
            } else {
                output.append(chars[i])
                i += 1
            }
        }
        return Result(text: output, substituted: substituted, missing: missing)
    }

    private struct Reference {
        var name: String
        var defaultValue: String?
    }

    /// Parses `NAME}` or `NAME:-default}` starting after `${`; returns the index after `}`.
    private static func parseReference(_ chars: [Character], from start: Int) -> (Reference, Int)? {
        var i = start
        var name = ""
        while i < chars.count, isNameCharacter(chars[i], first: name.isEmpty) {
            name.append(chars[i])
            i += 1
        }
        guard !name.isEmpty, i < chars.count else { return nil }
        if chars[i] == "}" {
            return (Reference(name: name, defaultValue: nil), i + 1)
        }
        guard chars[i] == ":", i + 1 < chars.count, chars[i + 1] == "-" else { return nil }
        i += 2
        var fallback = ""
        while i < chars.count, chars[i] != "}" {
            fallback.append(chars[i])
            i += 1
        }
        guard i < chars.count else { return nil }
        return (Reference(name: name, defaultValue: fallback), i + 1)
    }

    private static func isNameCharacter(_ c: Character, first: Bool) -> Bool {
        guard c.isASCII else { return false }
        if c == "_" || c.isLetter { return true }
        return !first && c.isNumber
    }
}
