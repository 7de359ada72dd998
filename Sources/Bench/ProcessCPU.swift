import Foundation

/// This process's CPU time (getrusage: user and system, all threads), in milliseconds.
struct ProcessCPU {
    let userMs: Double
    let systemMs: Double

    static func now() -> ProcessCPU {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        func ms(_ t: timeval) -> Double { Double(t.tv_sec) * 1000 + Double(t.tv_usec) / 1000 }
        return ProcessCPU(userMs: ms(usage.ru_utime), systemMs: ms(usage.ru_stime))
    }

    static func - (end: ProcessCPU, start: ProcessCPU) -> ProcessCPU {
        ProcessCPU(userMs: end.userMs - start.userMs, systemMs: end.systemMs - start.systemMs)
    }
}
