use std::ops::Deref;
use std::sync::Arc;

use metrics_exporter_prometheus::PrometheusHandle;
use rushline_app::App;

/// Everything a handler may use, shared by all requests of a node: the application and the
/// process's metrics.
#[derive(Clone)]
pub struct AppState {
    app: Arc<App>,
    pub metrics: PrometheusHandle,
}

impl AppState {
    pub fn new(app: Arc<App>, metrics: PrometheusHandle) -> Self {
        Self { app, metrics }
    }
}

impl Deref for AppState {
    type Target = App;

    fn deref(&self) -> &App {
        &self.app
    }
}
