//! Plinth's `wasi:sockets/tcp`, `tcp-create-socket`, `udp-create-socket` and
//! `ip-name-lookup`: each decides what the plugin may do, then hands the call to Wasmtime's
//! own implementation. Methods that only read or tune a socket Plinth let through go
//! straight to Wasmtime.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use wasmtime::component::Resource;
use wasmtime_wasi::p2::bindings::sockets::ip_name_lookup::{
    self, HostResolveAddressStream, ResolveAddressStream,
};
use wasmtime_wasi::p2::bindings::sockets::network::{
    self, ErrorCode, IpAddress, IpAddressFamily, IpSocketAddress, Network,
};
use wasmtime_wasi::p2::bindings::sockets::tcp::{self, HostTcpSocket, ShutdownType};
use wasmtime_wasi::p2::bindings::sockets::{tcp_create_socket, udp_create_socket};
use wasmtime_wasi::p2::{
    DynInputStream, DynOutputStream, DynPollable, SocketError, SocketResult, TcpSocket, UdpSocket,
};
use wasmtime_wasi::sockets::WasiSocketsCtxView;

use super::policy::{self, Refusal};
use super::{SocketsCall, SocketsPlugin, metered};

/// What `wasi:sockets` sees of a call: Wasmtime's sockets context and table, the plugin's
/// gate and limits, and this Store's sockets state.
pub(crate) struct SocketsView<'a> {
    pub(crate) wasi: WasiSocketsCtxView<'a>,
    pub(crate) plugin: &'a SocketsPlugin,
    pub(crate) call: &'a mut SocketsCall,
}

linked_through!(
    /// Links Plinth's `wasi:sockets` interfaces to a [`SocketsView`].
    Sockets => SocketsView
);

impl SocketsView<'_> {
    /// Notes a refusal for the call's report; the guest gets `access-denied`.
    fn deny<T>(&mut self, refusal: Refusal) -> SocketResult<T> {
        self.call.refused(refusal);
        Err(ErrorCode::AccessDenied.into())
    }

    /// Decides a connection to `addr` on the plugin's grants, through its gate (which
    /// audits the decision), and lets Wasmtime's own check pass it.
    fn admit(&mut self, addr: SocketAddr) -> SocketResult<()> {
        let names: Vec<String> = self
            .call
            .resolved
            .get(&addr.ip())
            .map(|names| names.iter().cloned().collect())
            .unwrap_or_default();
        let gate = &self.plugin.gate;
        match policy::decide(gate.grants(), addr, &names) {
            Ok(grant) => {
                gate.record(&grant, true);
                self.call.approved.insert(addr);
                Ok(())
            }
            Err(refusal) => {
                let grant = refusal
                    .grant()
                    .unwrap_or_else(|| policy::address_grant(addr));
                gate.record(&grant, false);
                self.deny(refusal)
            }
        }
    }
}

impl tcp_create_socket::Host for SocketsView<'_> {
    fn create_tcp_socket(
        &mut self,
        address_family: IpAddressFamily,
    ) -> SocketResult<Resource<TcpSocket>> {
        let max = self.plugin.settings.max_open;
        if !self.call.open.try_open(max) {
            self.call.refused(Refusal::TooManyOpen(max));
            return Err(ErrorCode::NewSocketLimit.into());
        }
        match tcp_create_socket::Host::create_tcp_socket(&mut self.wasi, address_family) {
            Ok(socket) => {
                self.call.open.opened(socket.rep());
                Ok(socket)
            }
            Err(e) => {
                self.call.open.give_back();
                Err(e)
            }
        }
    }
}

impl udp_create_socket::Host for SocketsView<'_> {
    async fn create_udp_socket(
        &mut self,
        _address_family: IpAddressFamily,
    ) -> SocketResult<Resource<UdpSocket>> {
        self.deny(Refusal::Unsupported("UDP"))
    }
}

/// The error conversions every `wasi:sockets` interface shares: Wasmtime's.
impl network::Host for SocketsView<'_> {
    fn convert_error_code(&mut self, error: SocketError) -> wasmtime::Result<ErrorCode> {
        network::Host::convert_error_code(&mut self.wasi, error)
    }

    fn network_error_code(
        &mut self,
        err: Resource<wasmtime::Error>,
    ) -> wasmtime::Result<Option<ErrorCode>> {
        network::Host::network_error_code(&mut self.wasi, err)
    }
}

impl network::HostNetwork for SocketsView<'_> {
    fn drop(&mut self, this: Resource<Network>) -> wasmtime::Result<()> {
        network::HostNetwork::drop(&mut self.wasi, this)
    }
}

impl tcp::Host for SocketsView<'_> {}

/// Methods that go to Wasmtime as they are.
macro_rules! forward {
    ($( fn $name:ident(&mut self, this: Resource<TcpSocket> $(, $arg:ident: $ty:ty)*) -> $ret:ty; )*) => {$(
        fn $name(&mut self, this: Resource<TcpSocket> $(, $arg: $ty)*) -> $ret {
            HostTcpSocket::$name(&mut self.wasi, this $(, $arg)*)
        }
    )*};
}

impl HostTcpSocket for SocketsView<'_> {
    async fn start_bind(
        &mut self,
        _this: Resource<TcpSocket>,
        _network: Resource<Network>,
        _local_address: IpSocketAddress,
    ) -> SocketResult<()> {
        self.deny(Refusal::Unsupported("binding a TCP socket"))
    }

    async fn start_listen(&mut self, _this: Resource<TcpSocket>) -> SocketResult<()> {
        self.deny(Refusal::Unsupported("listening on a TCP socket"))
    }

    fn start_connect(
        &mut self,
        this: Resource<TcpSocket>,
        network: Resource<Network>,
        remote_address: IpSocketAddress,
    ) -> SocketResult<()> {
        let addr = SocketAddr::from(remote_address);
        // Port 0 is not a destination: Wasmtime answers `invalid-argument`.
        if addr.port() != 0 {
            self.admit(addr)?;
        }
        HostTcpSocket::start_connect(&mut self.wasi, this, network, addr.into())
    }

    fn finish_connect(
        &mut self,
        this: Resource<TcpSocket>,
    ) -> SocketResult<(Resource<DynInputStream>, Resource<DynOutputStream>)> {
        let (input, output) = HostTcpSocket::finish_connect(&mut self.wasi, this)?;
        metered::meter(self.wasi.table, &input, &output, &self.call.budget)?;
        Ok((input, output))
    }

    fn drop(&mut self, this: Resource<TcpSocket>) -> wasmtime::Result<()> {
        self.call.open.closed(this.rep());
        HostTcpSocket::drop(&mut self.wasi, this)
    }

    forward! {
        fn finish_bind(&mut self, this: Resource<TcpSocket>) -> SocketResult<()>;
        fn finish_listen(&mut self, this: Resource<TcpSocket>) -> SocketResult<()>;
        fn accept(&mut self, this: Resource<TcpSocket>) -> SocketResult<(Resource<TcpSocket>, Resource<DynInputStream>, Resource<DynOutputStream>)>;
        fn local_address(&mut self, this: Resource<TcpSocket>) -> SocketResult<IpSocketAddress>;
        fn remote_address(&mut self, this: Resource<TcpSocket>) -> SocketResult<IpSocketAddress>;
        fn is_listening(&mut self, this: Resource<TcpSocket>) -> wasmtime::Result<bool>;
        fn address_family(&mut self, this: Resource<TcpSocket>) -> wasmtime::Result<IpAddressFamily>;
        fn set_listen_backlog_size(&mut self, this: Resource<TcpSocket>, value: u64) -> SocketResult<()>;
        fn keep_alive_enabled(&mut self, this: Resource<TcpSocket>) -> SocketResult<bool>;
        fn set_keep_alive_enabled(&mut self, this: Resource<TcpSocket>, value: bool) -> SocketResult<()>;
        fn keep_alive_idle_time(&mut self, this: Resource<TcpSocket>) -> SocketResult<u64>;
        fn set_keep_alive_idle_time(&mut self, this: Resource<TcpSocket>, value: u64) -> SocketResult<()>;
        fn keep_alive_interval(&mut self, this: Resource<TcpSocket>) -> SocketResult<u64>;
        fn set_keep_alive_interval(&mut self, this: Resource<TcpSocket>, value: u64) -> SocketResult<()>;
        fn keep_alive_count(&mut self, this: Resource<TcpSocket>) -> SocketResult<u32>;
        fn set_keep_alive_count(&mut self, this: Resource<TcpSocket>, value: u32) -> SocketResult<()>;
        fn hop_limit(&mut self, this: Resource<TcpSocket>) -> SocketResult<u8>;
        fn set_hop_limit(&mut self, this: Resource<TcpSocket>, value: u8) -> SocketResult<()>;
        fn receive_buffer_size(&mut self, this: Resource<TcpSocket>) -> SocketResult<u64>;
        fn set_receive_buffer_size(&mut self, this: Resource<TcpSocket>, value: u64) -> SocketResult<()>;
        fn send_buffer_size(&mut self, this: Resource<TcpSocket>) -> SocketResult<u64>;
        fn set_send_buffer_size(&mut self, this: Resource<TcpSocket>, value: u64) -> SocketResult<()>;
        fn subscribe(&mut self, this: Resource<TcpSocket>) -> wasmtime::Result<Resource<DynPollable>>;
        fn shutdown(&mut self, this: Resource<TcpSocket>, shutdown_type: ShutdownType) -> SocketResult<()>;
    }
}

impl ip_name_lookup::Host for SocketsView<'_> {
    fn resolve_addresses(
        &mut self,
        network: Resource<Network>,
        name: String,
    ) -> SocketResult<Resource<ResolveAddressStream>> {
        // An address literal needs no lookup: Wasmtime answers it without DNS, and the
        // connection is decided on the address.
        let normal = policy::normal_name(&name);
        let literal = ip_literal(&normal).is_some();
        if !literal && !policy::may_resolve(self.plugin.gate.grants(), &normal) {
            return self.deny(Refusal::LookupNotGranted(normal));
        }
        let stream = ip_name_lookup::Host::resolve_addresses(&mut self.wasi, network, name)?;
        if !literal {
            self.call.lookups.insert(stream.rep(), normal);
        }
        Ok(stream)
    }
}

impl HostResolveAddressStream for SocketsView<'_> {
    fn resolve_next_address(
        &mut self,
        this: Resource<ResolveAddressStream>,
    ) -> SocketResult<Option<IpAddress>> {
        let rep = this.rep();
        let next = HostResolveAddressStream::resolve_next_address(&mut self.wasi, this)?;
        if let (Some(addr), Some(name)) = (&next, self.call.lookups.get(&rep)) {
            let addr = ip_addr(addr);
            self.call
                .resolved
                .entry(addr)
                .or_default()
                .insert(name.clone());
        }
        Ok(next)
    }

    fn subscribe(
        &mut self,
        this: Resource<ResolveAddressStream>,
    ) -> wasmtime::Result<Resource<DynPollable>> {
        HostResolveAddressStream::subscribe(&mut self.wasi, this)
    }

    fn drop(&mut self, this: Resource<ResolveAddressStream>) -> wasmtime::Result<()> {
        self.call.lookups.remove(&this.rep());
        HostResolveAddressStream::drop(&mut self.wasi, this)
    }
}

/// `name` as an IP address, if it is one (`127.0.0.1`, `::1`, `[::1]`).
fn ip_literal(name: &str) -> Option<IpAddr> {
    let bare = name
        .strip_prefix('[')
        .and_then(|n| n.strip_suffix(']'))
        .unwrap_or(name);
    bare.parse().ok()
}

fn ip_addr(addr: &IpAddress) -> IpAddr {
    match *addr {
        IpAddress::Ipv4((a, b, c, d)) => IpAddr::V4(Ipv4Addr::new(a, b, c, d)),
        IpAddress::Ipv6((a, b, c, d, e, f, g, h)) => {
            IpAddr::V6(Ipv6Addr::new(a, b, c, d, e, f, g, h))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_and_addresses() {
        assert_eq!(ip_literal("127.0.0.1"), Some("127.0.0.1".parse().unwrap()));
        assert_eq!(ip_literal("[::1]"), Some("::1".parse().unwrap()));
        assert_eq!(ip_literal("::1"), Some("::1".parse().unwrap()));
        assert_eq!(ip_literal("db.example.com"), None);
        let v4 = IpAddress::Ipv4((10, 0, 0, 5));
        assert_eq!(ip_addr(&v4), "10.0.0.5".parse::<IpAddr>().unwrap());
        let v6 = IpAddress::Ipv6((0xfd00, 0, 0, 0, 0, 0, 0, 5));
        assert_eq!(ip_addr(&v6), "fd00::5".parse::<IpAddr>().unwrap());
    }
}
