import CCurl
import Synchronization

/// The idle libcurl easy handles of one webhook instance: a delivery takes one (or makes
/// one) and gives it back reset, so the next delivery reuses its open connection and TLS
/// session instead of a new handshake per event. At most `capacity` are kept idle.
final class EasyHandlePool: Sendable {
    private struct Handle: @unchecked Sendable {
        let curl: UnsafeMutableRawPointer
    }

    private let idle = Mutex<[Handle]>([])
    let capacity: Int

    init(capacity: Int) { self.capacity = capacity }

    deinit {
        idle.withLock { handles in
            for handle in handles { curl_easy_cleanup(handle.curl) }
            handles.removeAll()
        }
    }

    /// Runs `body` with a handle (nil: libcurl could not make one), then keeps it for the next.
    func withHandle<T>(_ body: (UnsafeMutableRawPointer?) -> T) -> T {
        let taken = idle.withLock { $0.popLast() }?.curl ?? curl_easy_init()
        let result = body(taken)
        if let taken {
            curl_easy_reset(taken)  // options cleared; the connection cache stays
            let kept = idle.withLock { handles -> Bool in
                guard handles.count < capacity else { return false }
                handles.append(Handle(curl: taken))
                return true
            }
            if !kept { curl_easy_cleanup(taken) }
        }
        return result
    }
}
