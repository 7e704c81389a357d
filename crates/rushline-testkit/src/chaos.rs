//! A TCP proxy that a test can cut, stall and restore, to see how a node behaves when a
//! dependency disappears or goes silent without stopping the shared server (after crates.io's
//! `ChaosProxy`).

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
    stalled: bool,
    /// Cancelled to cut every connection opened since the last break.
    connections: CancellationToken,
    /// Cancelled to stop forwarding on every open connection, which stays open.
    forwarding: CancellationToken,
}

impl ChaosProxy {
    /// Starts forwarding 127.0.0.1:<free port> to `target`.
    pub async fn start(target: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
        let addr = listener.local_addr().expect("proxy address");
        let state = Arc::new(Mutex::new(ProxyState {
            broken: false,
            stalled: false,
            connections: CancellationToken::new(),
            forwarding: CancellationToken::new(),
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

    /// Keeps every connection open, and accepts new ones, but forwards nothing either way until
    /// [`ChaosProxy::restore`]: a peer that hangs rather than goes away.
    pub fn stall(&self) {
        let mut state = self.state.lock().unwrap();
        state.stalled = true;
        state.forwarding.cancel();
        state.forwarding = CancellationToken::new();
    }

    /// Forwards again. Connections held silent by a stall are closed, as a network that heals
    /// resets them; the client connects anew.
    pub fn restore(&self) {
        let mut state = self.state.lock().unwrap();
        state.broken = false;
        if state.stalled {
            state.stalled = false;
            state.connections.cancel();
            state.connections = CancellationToken::new();
        }
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
        let (cut, forwarding, stalled) = {
            let state = state.lock().unwrap();
            if state.broken {
                continue;
            }
            (
                state.connections.clone(),
                state.forwarding.clone(),
                state.stalled,
            )
        };
        tokio::spawn(async move {
            if stalled {
                cut.cancelled().await;
                return;
            }
            let Ok(mut server) = TcpStream::connect(target).await else {
                return;
            };
            tokio::select! {
                () = cut.cancelled() => {}
                // Both sockets stay open, silent, until the connection is cut.
                () = forwarding.cancelled() => cut.cancelled().await,
                _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
            }
        });
    }
}
