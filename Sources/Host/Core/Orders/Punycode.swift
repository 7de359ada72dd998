import Foundation

/// RFC 3492 Punycode and the A-label check acmeeh needs (RFC 8555 §7.1.4: identifiers
/// arrive as A-labels, and a server MUST verify that an `xn--` label is properly encoded).
/// (Lowercasing is done by the caller; no full IDNA2008 code point tables.)
enum Punycode {
    private static let base = 36, tMin = 1, tMax = 26, skew = 38, damp = 700
    private static let initialBias = 72, initialN = 128

    /// RFC 3492 §6.3 encoding of one label; nil on overflow.
    static func encode(_ label: String) -> String? {
        let input = label.unicodeScalars.map { Int($0.value) }
        var output = input.filter { $0 < 0x80 }.map { Character(Unicode.Scalar(UInt8($0))) }
        let basicCount = output.count
        var handled = basicCount
        if basicCount > 0 { output.append("-") }
        var n = initialN, delta = 0, bias = initialBias
        while handled < input.count {
            guard let m = input.filter({ $0 >= n }).min() else { break }
            let (product, overflow) = (m - n).multipliedReportingOverflow(by: handled + 1)
            guard !overflow else { return nil }
            delta += product
            n = m
            for c in input {
                if c < n { delta += 1 }
                if c == n {
                    var q = delta
                    var k = base
                    while true {
                        let t = k <= bias ? tMin : (k >= bias + tMax ? tMax : k - bias)
                        if q < t { break }
                        output.append(digit(t + (q - t) % (base - t)))
                        q = (q - t) / (base - t)
                        k += base
                    }
                    output.append(digit(q))
                    bias = adapt(delta, handled + 1, handled == basicCount)
                    delta = 0
                    handled += 1
                }
            }
            delta += 1
            n += 1
        }
        return String(output)
    }

    /// RFC 3492 §6.2 decoding of one label (without `xn--`); nil when it is not valid Punycode.
    static func decode(_ label: String) -> String? {
        let input = Array(label.utf8)
        let maxInt = Int(Int32.max)
        var output: [Unicode.Scalar] = []
        var position = 0
        if let hyphen = input.lastIndex(of: UInt8(ascii: "-")) {
            guard input[..<hyphen].allSatisfy({ $0 < 0x80 }) else { return nil }
            output = input[..<hyphen].map { Unicode.Scalar($0) }
            position = hyphen + 1
        }
        var n = initialN, i = 0, bias = initialBias
        while position < input.count {
            let oldI = i
            var w = 1
            var k = base
            while true {
                guard position < input.count, let d = value(of: input[position]) else { return nil }
                position += 1
                guard d <= (maxInt - i) / w else { return nil }
                i += d * w
                let t = k <= bias ? tMin : (k >= bias + tMax ? tMax : k - bias)
                if d < t { break }
                guard w <= maxInt / (base - t) else { return nil }
                w *= base - t
                k += base
            }
            let count = output.count + 1
            bias = adapt(i - oldI, count, oldI == 0)
            guard i / count <= maxInt - n else { return nil }
            n += i / count
            i %= count
            // A basic code point may not be encoded as a delta (RFC 3492 §6.2).
            guard n >= 0x80, let scalar = Unicode.Scalar(UInt32(n)) else { return nil }
            output.insert(scalar, at: i)
            i += 1
        }
        return String(String.UnicodeScalarView(output))
    }

    /// Whether `label` (lowercase ASCII) is a label a server may accept: LDH as it stands,
    /// or, when it starts with `xn--`, a proper A-label (RFC 5890 §2.3.2.1): Punycode that
    /// decodes to a lowercase, NFC label with a non-ASCII character, whose non-ASCII
    /// characters are letters, marks or digits (the bulk of RFC 5892's PVALID; not its
    /// exception tables), and that encodes back to exactly `label`.
    /// RFC 8555 §7.1.4: servers MUST verify `xn--` labels.
    static func isProperALabel(_ label: some StringProtocol) -> Bool {
        guard label.hasPrefix("xn--") else { return true }
        let encoded = String(label.dropFirst(4))
        guard let unicode = decode(encoded), !unicode.unicodeScalars.allSatisfy(\.isASCII),
              unicode.unicodeScalars.allSatisfy({ $0.isASCII || pvalidCategories.contains($0.properties.generalCategory) }),
              unicode == unicode.lowercased(), unicode == unicode.precomposedStringWithCanonicalMapping,
              encode(unicode) == encoded else { return false }
        return true
    }

    private static let pvalidCategories: Set<Unicode.GeneralCategory> = [
        .lowercaseLetter, .otherLetter, .modifierLetter, .nonspacingMark, .spacingMark, .decimalNumber,
    ]

    private static func value(of byte: UInt8) -> Int? {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"): Int(byte - UInt8(ascii: "a"))
        case UInt8(ascii: "A")...UInt8(ascii: "Z"): Int(byte - UInt8(ascii: "A"))
        case UInt8(ascii: "0")...UInt8(ascii: "9"): Int(byte - UInt8(ascii: "0")) + 26
        default: nil
        }
    }

    private static func digit(_ d: Int) -> Character {
        Character(Unicode.Scalar(UInt8(d < 26 ? d + 97 : d + 22)))
    }

    private static func adapt(_ delta: Int, _ count: Int, _ first: Bool) -> Int {
        var delta = first ? delta / damp : delta / 2
        delta += delta / count
        var k = 0
        while delta > ((base - tMin) * tMax) / 2 {
            delta /= base - tMin
            k += base
        }
        return k + (base - tMin + 1) * delta / (delta + skew)
    }
}
