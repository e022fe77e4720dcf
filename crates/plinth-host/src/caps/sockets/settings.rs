//! `[sockets]` of the host configuration: the limits of raw TCP (`wasi:sockets`).

use serde::Deserialize;

/// `[sockets]`: limits of `wasi:sockets` TCP, per plugin and per call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SocketSettings {
    /// TCP sockets one plugin may hold open at once, over all its calls and instances
    /// (default 8). One more is refused with `socket-denied` (the guest sees
    /// `new-socket-limit`).
    pub max_open: u32,
    /// Bytes one call may send and receive over its sockets together (default 64 MiB).
    /// Past it the streams fail and the call's log gets `quota-exceeded`.
    pub max_bytes_per_call: u64,
}

/// The per-call byte budget by default: 64 MiB.
pub const DEFAULT_MAX_SOCKET_BYTES: u64 = 64 * 1024 * 1024;

impl Default for SocketSettings {
    fn default() -> Self {
        Self {
            max_open: 8,
            max_bytes_per_call: DEFAULT_MAX_SOCKET_BYTES,
        }
    }
}

impl SocketSettings {
    /// Sets [`Self::max_open`].
    pub fn with_max_open(mut self, sockets: u32) -> Self {
        self.max_open = sockets;
        self
    }

    /// Sets [`Self::max_bytes_per_call`].
    pub fn with_max_bytes_per_call(mut self, bytes: u64) -> Self {
        self.max_bytes_per_call = bytes;
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_overrides() {
        let s: SocketSettings = toml::from_str("").unwrap();
        assert_eq!(s, SocketSettings::default());
        let s: SocketSettings = toml::from_str("max_open = 2\nmax_bytes_per_call = 1024").unwrap();
        assert_eq!(
            s,
            SocketSettings::default()
                .with_max_open(2)
                .with_max_bytes_per_call(1024)
        );
        assert!(toml::from_str::<SocketSettings>("udp = true").is_err());
    }
}
