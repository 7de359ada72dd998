/// One CAA resource record (RFC 8659 §4.1): flags, property tag and value, as found in DNS.
struct CAARecord: Sendable, Equatable, CustomStringConvertible {
    /// RFC 8659 §4.1: bit 0 (value 128) is the Issuer Critical flag; the others are reserved.
    var flags: UInt8
    /// The property tag, as written (matched case-insensitively, RFC 8659 §4.1).
    var tag: String
    /// The property value, raw octets.
    var value: [UInt8]

    init(flags: UInt8, tag: String, value: [UInt8]) {
        self.flags = flags
        self.tag = tag
        self.value = value
    }

    init(flags: UInt8, tag: String, value: String) {
        self.init(flags: flags, tag: tag, value: Array(value.utf8))
    }

    var critical: Bool { flags & 0x80 != 0 }
    var normalisedTag: String { tag.lowercased() }
    var valueText: String { String(decoding: value, as: UTF8.self) }
    var description: String { "\(flags) \(tag) \"\(valueText)\"" }

    /// Parses the RDATA of a CAA record (RFC 8659 §4.1): flags octet, tag length, tag, value.
    init?(rdata: [UInt8]) {
        guard rdata.count >= 2 else { return nil }
        let length = Int(rdata[1])
        guard length >= 1, rdata.count >= 2 + length else { return nil }
        self.init(flags: rdata[0], tag: String(decoding: rdata[2..<(2 + length)], as: UTF8.self),
                  value: Array(rdata[(2 + length)...]))
    }
}

/// The value of an `issue` or `issuewild` property (RFC 8659 §4.2), parsed:
///
///     issue-value = *WSP [issuer-domain-name *WSP] [";" *WSP [parameters *WSP]]
///     parameter   = tag *WSP "=" *WSP value
///
/// plus the two parameters of RFC 8657 that acmeeh understands.
struct CAAIssueValue: Sendable, Equatable {
    /// Lowercased; nil for an empty issuer (`;` alone: no CA may issue, §4.2).
    var issuer: String?
    /// In order, tags lowercased, values as written.
    var parameters: [(tag: String, value: String)]

    static func == (a: CAAIssueValue, b: CAAIssueValue) -> Bool {
        a.issuer == b.issuer && a.parameters.map(\.tag) == b.parameters.map(\.tag)
            && a.parameters.map(\.value) == b.parameters.map(\.value)
    }

    /// nil when the value does not follow the grammar; RFC 8659 §4.2 treats such a
    /// property as one that authorizes no CA (it still restricts issuance).
    init?(_ text: String) {
        let wsp: Set<Character> = [" ", "\t"]
        func trimmed(_ s: Substring) -> Substring {
            var s = s
            while let first = s.first, wsp.contains(first) { s.removeFirst() }
            while let last = s.last, wsp.contains(last) { s.removeLast() }
            return s
        }
        let parts = text.split(separator: ";", maxSplits: 1, omittingEmptySubsequences: false)
        let name = trimmed(parts[0])
        if name.isEmpty {
            issuer = nil
        } else {
            guard Self.isDomainName(name) else { return nil }
            issuer = name.lowercased()
        }
        parameters = []
        guard parts.count == 2 else { return }
        let rest = trimmed(parts[1])
        if rest.isEmpty { return }
        var segments = rest.split(separator: ";", omittingEmptySubsequences: false)
        // Not in the grammar, but common: one trailing ";" after the last parameter.
        if segments.count > 1, trimmed(segments[segments.count - 1]).isEmpty { segments.removeLast() }
        for segment in segments {
            let pair = segment.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard pair.count == 2 else { return nil }
            let tag = trimmed(pair[0]), value = trimmed(pair[1])
            // value = *(%x21-3A / %x3C-7E): visible ASCII except ";".
            guard Self.isLabel(tag), value.utf8.allSatisfy({ (0x21...0x7E).contains($0) && $0 != 0x3B }) else { return nil }
            parameters.append((tag.lowercased(), String(value)))
        }
    }

    /// Every value of parameter `tag` (RFC 8657 forbids more than one of its own).
    func values(of tag: String) -> [String] { parameters.filter { $0.tag == tag }.map(\.value) }

    /// `label *("." label)`.
    static func isDomainName(_ text: Substring) -> Bool {
        let labels = text.split(separator: ".", omittingEmptySubsequences: false)
        return !labels.isEmpty && labels.allSatisfy(isLabel)
    }

    /// `(ALPHA / DIGIT) *( *("-") (ALPHA / DIGIT))`: letters, digits and inner hyphens.
    static func isLabel(_ text: Substring) -> Bool {
        guard let first = text.utf8.first, let last = text.utf8.last,
              isAlphaNumeric(first), isAlphaNumeric(last) else { return false }
        return text.utf8.allSatisfy { isAlphaNumeric($0) || $0 == UInt8(ascii: "-") }
    }

    private static func isAlphaNumeric(_ byte: UInt8) -> Bool {
        (0x30...0x39).contains(byte) || (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte)
    }
}
