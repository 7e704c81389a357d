use std::ops::Deref;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use metrics_exporter_prometheus::PrometheusHandle;
use rushline_app::App;

use crate::TrustedProxies;

/// Everything a handler may use, shared by all requests of a node: the application, the
/// process's metrics, whose `X-Forwarded-For` to believe, and whether the node is draining.
#[derive(Clone)]
pub struct AppState {
    app: Arc<App>,
    pub metrics: PrometheusHandle,
    pub trusted_proxies: Arc<TrustedProxies>,
    draining: Arc<AtomicBool>,
}

impl AppState {
    pub fn new(app: Arc<App>, metrics: PrometheusHandle) -> Self {
        Self {
            app,
            metrics,
            trusted_proxies: Arc::default(),
            draining: Arc::default(),
        }
    }

    #[must_use]
    pub fn with_trusted_proxies(mut self, proxies: TrustedProxies) -> Self {
        self.trusted_proxies = Arc::new(proxies);
        self
    }

    /// From now on `/readyz` answers 503, so that load balancers send new requests elsewhere
    /// while this node still serves what reaches it.
    pub fn start_draining(&self) {
        self.draining.store(true, Ordering::Relaxed);
    }

    pub fn is_draining(&self) -> bool {
        self.draining.load(Ordering::Relaxed)
    }
}

impl Deref for AppState {
    type Target = App;

    fn deref(&self) -> &App {
        &self.app
    }
}
