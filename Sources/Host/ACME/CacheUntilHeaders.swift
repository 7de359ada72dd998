import Foundation
import HTTPTypes

/// The caching headers of an answer valid from `thisUpdate` until `nextUpdate` (a CRL, an
/// OCSP response; RFC 5019 §6): public, `max-age` up to nextUpdate, `Last-Modified` and
/// `Expires` as IMF-fixdates (RFC 9110 §5.6.7), plus `directives`.
enum CacheUntilHeaders {
    static func add(to headers: inout HTTPFields, thisUpdate: Date, nextUpdate: Date, now: Date,
                    directives: String = "no-transform") {
        let maxAge = max(0, Int(nextUpdate.timeIntervalSince(now)))
        headers[.cacheControl] = "public, max-age=\(maxAge), \(directives)"
        headers[.lastModified] = thisUpdate.formatted(httpDate)
        headers[.expires] = nextUpdate.formatted(httpDate)
    }

    static let httpDate = Date.VerbatimFormatStyle(
        format: "\(weekday: .abbreviated), \(day: .twoDigits) \(month: .abbreviated) \(year: .defaultDigits) \(hour: .twoDigits(clock: .twentyFourHour, hourCycle: .zeroBased)):\(minute: .twoDigits):\(second: .twoDigits) GMT",
        locale: Locale(identifier: "en_US_POSIX"), timeZone: TimeZone(identifier: "GMT")!, calendar: Calendar(identifier: .gregorian))
}
