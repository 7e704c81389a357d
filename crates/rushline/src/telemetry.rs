//! Logs to stderr, and traces to an OTLP/HTTP collector when `telemetry.otlp_endpoint` is set.
//!
//! The spans of the purchase path (the gate claim, the group commit) are at DEBUG: with the
//! default log level and no collector no layer wants them, so they cost nothing.

use std::io::IsTerminal;

use anyhow::Context;
use opentelemetry::trace::TracerProvider;
use opentelemetry_otlp::{Protocol, WithExportConfig};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::{Sampler, SdkTracerProvider};
use tracing::{Level, Metadata};
use tracing_subscriber::filter::filter_fn;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

use crate::config::{LogConfig, LogFormat, ServiceUrl, TelemetryConfig};

/// Exports the spans still buffered when dropped; held by a command until it ends.
pub struct Telemetry {
    traces: Option<SdkTracerProvider>,
}

impl Drop for Telemetry {
    fn drop(&mut self) {
        if let Some(traces) = self.traces.take()
            && let Err(e) = traces.shutdown()
        {
            eprintln!("rushline: the last traces were not exported: {e}");
        }
    }
}

/// Human-readable logs in a terminal, JSON lines otherwise (or as configured); and traces, when
/// a collector is configured.
pub fn init(log: &LogConfig, telemetry: &TelemetryConfig) -> anyhow::Result<Telemetry> {
    let filter = EnvFilter::try_from_default_env()
        .or_else(|_| EnvFilter::try_new(&log.level))
        .unwrap_or_else(|_| EnvFilter::new("info"));
    let json = match log.format {
        LogFormat::Json => true,
        LogFormat::Pretty => false,
        LogFormat::Auto => !std::io::stderr().is_terminal(),
    };
    let logs = if json {
        tracing_subscriber::fmt::layer()
            .json()
            .with_writer(std::io::stderr)
            .boxed()
    } else {
        tracing_subscriber::fmt::layer()
            .with_writer(std::io::stderr)
            .boxed()
    };
    let traces = telemetry
        .otlp_endpoint
        .as_ref()
        .map(|endpoint| tracer_provider(endpoint, telemetry))
        .transpose()?;
    let logged = tracing_subscriber::registry().with(logs.with_filter(filter));
    // Without a collector, no layer at all rather than an absent one: the log filter's verdicts
    // stay cached per call site.
    match &traces {
        Some(provider) => logged
            .with(
                tracing_opentelemetry::layer()
                    .with_tracer(provider.tracer("rushline"))
                    .with_filter(filter_fn(traced)),
            )
            .init(),
        None => logged.init(),
    }
    Ok(Telemetry { traces })
}

/// Batches spans on a thread of their own and posts them to `<endpoint>/v1/traces`; a request
/// that carries a W3C `traceparent` continues its caller's trace.
fn tracer_provider(
    endpoint: &ServiceUrl,
    config: &TelemetryConfig,
) -> anyhow::Result<SdkTracerProvider> {
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_protocol(Protocol::HttpBinary)
        .with_endpoint(format!(
            "{}/v1/traces",
            endpoint.expose().trim_end_matches('/')
        ))
        .build()
        .context("telemetry.otlp_endpoint: could not build the OTLP exporter")?;
    opentelemetry::global::set_text_map_propagator(TraceContextPropagator::new());
    Ok(SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_sampler(Sampler::ParentBased(Box::new(Sampler::TraceIdRatioBased(
            config.sample_ratio,
        ))))
        .with_resource(
            Resource::builder()
                .with_service_name(config.service_name.clone())
                .build(),
        )
        .build())
}

/// What traces hold: rushline's own spans, and its events from INFO up as span events.
fn traced(metadata: &Metadata<'_>) -> bool {
    metadata.target().starts_with("rushline")
        && (metadata.is_span() || *metadata.level() <= Level::INFO)
}
