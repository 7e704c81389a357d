//! A TCP proxy that a test can cut and restore, to see how a node behaves when a dependency
//! disappears without stopping the shared server (after crates.io's `ChaosProxy`).

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;

pub struct ChaosProxy {
    pub addr: SocketAddr,
    state: Arc<Mutex<ProxyState>>,
    stop: CancellationToken,
}

struct ProxyState {
    broken: bool,
    /// Cancelled to cut every connection opened since the last break.
    connections: CancellationToken,
}

impl ChaosProxy {
    /// Starts forwarding 127.0.0.1:<free port> to `target`.
    pub async fn start(target: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
        let addr = listener.local_addr().expect("proxy address");
        let state = Arc::new(Mutex::new(ProxyState {
            broken: false,
            connections: CancellationToken::new(),
        }));
        let stop = CancellationToken::new();
        tokio::spawn(accept(listener, target, state.clone(), stop.clone()));
        Self { addr, state, stop }
    }

    /// Closes every open connection and refuses new ones until [`ChaosProxy::restore`].
    pub fn cut(&self) {
        let mut state = self.state.lock().unwrap();
        state.broken = true;
        state.connections.cancel();
        state.connections = CancellationToken::new();
    }

    pub fn restore(&self) {
        self.state.lock().unwrap().broken = false;
    }
}

impl Drop for ChaosProxy {
    fn drop(&mut self) {
        self.stop.cancel();
        self.state.lock().unwrap().connections.cancel();
    }
}

async fn accept(
    listener: TcpListener,
    target: SocketAddr,
    state: Arc<Mutex<ProxyState>>,
    stop: CancellationToken,
) {
    loop {
        let mut client = tokio::select! {
            () = stop.cancelled() => return,
            accepted = listener.accept() => match accepted {
                Ok((client, _)) => client,
                Err(_) => continue,
            },
        };
        let cut = {
            let state = state.lock().unwrap();
            if state.broken {
                continue;
            }
            state.connections.clone()
        };
        tokio::spawn(async move {
            let Ok(mut server) = TcpStream::connect(target).await else {
                return;
            };
            tokio::select! {
                () = cut.cancelled() => {}
                _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
            }
        });
    }
}
