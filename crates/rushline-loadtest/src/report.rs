//! `--report`: the summary as one self-contained HTML page — inline CSS and SVG, nothing fetched
//! — with the latency histogram and the throughput per second.

use std::fmt::Write;

use crate::summary::{CheckOutcome, Summary};

const WIDTH: f64 = 760.0;
const HEIGHT: f64 = 220.0;
const MARGIN: f64 = 40.0;

impl Summary {
    /// The baseline and the purchase rate's share of it, as a table row; none without one.
    fn baseline_row(&self) -> String {
        let Some(b) = &self.baseline else {
            return String::new();
        };
        format!(
            "<tr><td>baseline (GET /healthz)</td><td>{:.0}/s over {:.1} s, p50 {:.2} ms · p99 {:.2} ms; \
             purchases/s = {:.1} % of it</td></tr>",
            b.requests_per_second,
            b.seconds,
            b.latency_ms.p50,
            b.latency_ms.p99,
            self.purchases_share_of_baseline.unwrap_or(0.0) * 100.0
        )
    }

    pub fn html(&self) -> String {
        let mut page = String::new();
        let _ = write!(
            page,
            "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
             <title>rushline loadtest: {buyers} buyers, {stock} units</title>\
             <style>{STYLE}</style></head><body>\
             <h1>rushline loadtest — flash sale</h1>\
             <p>{buyers} buyers, {stock} units, limit {limit} per buyer, {connections} connections, \
             opening at {opens_at} against {urls}{room}.</p>",
            buyers = self.buyers,
            stock = self.stock,
            limit = self.per_user_limit,
            connections = self.connections,
            opens_at = self
                .opens_at
                .to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            urls = escape(&self.urls.join(", ")),
            room = self
                .admit_per_minute
                .map(|r| format!(", behind a waiting room admitting {r} per minute"))
                .unwrap_or_default(),
        );

        let verdict = if self.passed() { "passed" } else { "FAILED" };
        let _ = write!(page, "<h2>Invariants: {verdict}</h2><table>");
        for check in &self.checks {
            let (class, mark) = match check.outcome {
                CheckOutcome::Passed => ("ok", "passed"),
                CheckOutcome::Failed => ("fail", "FAILED"),
            };
            let _ = write!(
                page,
                "<tr class=\"{class}\"><td>{mark}</td><td>{}</td><td>{}</td></tr>",
                escape(check.name),
                escape(&check.detail)
            );
        }
        page.push_str("</table>");

        let l = self.latency_ms;
        let _ = write!(
            page,
            "<h2>Numbers</h2><table>\
             <tr><td>purchase requests</td><td>{requests} in {elapsed:.2} s = {rps:.0}/s</td></tr>\
             <tr><td>purchases (201)</td><td>{purchases} = {pps:.0}/s</td></tr>\
             <tr><td>latency</td><td>p50 {p50:.2} ms · p90 {p90:.2} ms · p99 {p99:.2} ms · max {max:.2} ms</td></tr>\
             {baseline}\
             <tr><td>statuses</td><td>{statuses}</td></tr>\
             <tr><td>error codes</td><td>{codes}</td></tr>\
             <tr><td>setup</td><td>{accounts} accounts imported in {import:.1} s, buyers logged in in {login:.1} s</td></tr>\
             </table>",
            requests = self.requests,
            elapsed = self.elapsed_seconds,
            rps = self.requests_per_second,
            purchases = self.purchases,
            pps = self.purchases_per_second,
            p50 = l.p50,
            p90 = l.p90,
            p99 = l.p99,
            max = l.max,
            statuses = escape(&pairs(self.statuses.iter())),
            codes = escape(&pairs(self.error_codes.iter())),
            baseline = self.baseline_row(),
            accounts = self.setup.accounts,
            import = self.setup.import_seconds,
            login = self.setup.login_seconds,
        );

        page.push_str("<h2>Latency of purchases</h2>");
        page.push_str(&self.latency_svg());
        page.push_str("<h2>Throughput per second from the opening</h2>");
        page.push_str(&self.throughput_svg());
        page.push_str(
            "<p class=\"legend\"><span class=\"req\">■</span> purchase answers \
             <span class=\"created\">■</span> 201s</p></body></html>\n",
        );
        page
    }

    fn latency_svg(&self) -> String {
        let buckets = &self.latency_buckets;
        let most = buckets.iter().map(|b| b.count).max().unwrap_or(0).max(1);
        let slot = (WIDTH - 2.0 * MARGIN) / buckets.len() as f64;
        let plot = HEIGHT - 2.0 * MARGIN;
        let mut svg = svg_open();
        for (i, bucket) in buckets.iter().enumerate() {
            let h = plot * bucket.count as f64 / most as f64;
            let x = MARGIN + i as f64 * slot;
            let label = match bucket.to_ms {
                Some(to) => format!("<{to}"),
                None => format!("≥{}", bucket.from_ms),
            };
            let _ = write!(
                svg,
                "<rect class=\"req\" x=\"{x:.1}\" y=\"{y:.1}\" width=\"{w:.1}\" height=\"{h:.1}\">\
                 <title>{label} ms: {count}</title></rect>\
                 <text x=\"{tx:.1}\" y=\"{ly:.1}\" text-anchor=\"middle\">{label}</text>",
                label = escape(&label),
                y = MARGIN + plot - h,
                w = slot * 0.85,
                count = bucket.count,
                tx = x + slot * 0.425,
                ly = HEIGHT - MARGIN + 14.0,
            );
            if bucket.count > 0 {
                let _ = write!(
                    svg,
                    "<text x=\"{tx:.1}\" y=\"{cy:.1}\" text-anchor=\"middle\">{count}</text>",
                    tx = x + slot * 0.425,
                    cy = MARGIN + plot - h - 4.0,
                    count = bucket.count,
                );
            }
        }
        let _ = write!(
            svg,
            "<text x=\"{x}\" y=\"{y}\" text-anchor=\"end\">ms</text></svg>",
            x = WIDTH - 4.0,
            y = HEIGHT - MARGIN + 14.0
        );
        svg
    }

    fn throughput_svg(&self) -> String {
        let seconds = &self.per_second;
        let most = seconds.iter().map(|s| s.requests).max().unwrap_or(0).max(1);
        let slot = (WIDTH - 2.0 * MARGIN) / seconds.len().max(1) as f64;
        let plot = HEIGHT - 2.0 * MARGIN;
        let mut svg = svg_open();
        let _ = write!(
            svg,
            "<text x=\"{x}\" y=\"{y}\" text-anchor=\"end\">{most}/s</text>",
            x = MARGIN - 4.0,
            y = MARGIN + 4.0
        );
        for (i, s) in seconds.iter().enumerate() {
            let x = MARGIN + i as f64 * slot;
            let h = plot * s.requests as f64 / most as f64;
            let c = plot * s.purchases as f64 / most as f64;
            let _ = write!(
                svg,
                "<rect class=\"req\" x=\"{x:.1}\" y=\"{y:.1}\" width=\"{w:.1}\" height=\"{h:.1}\">\
                 <title>second {second}: {requests} answers, {purchases} created</title></rect>\
                 <rect class=\"created\" x=\"{x:.1}\" y=\"{cy:.1}\" width=\"{w:.1}\" height=\"{c:.1}\"/>",
                y = MARGIN + plot - h,
                cy = MARGIN + plot - c,
                w = (slot * 0.85).max(1.0),
                second = s.second,
                requests = s.requests,
                purchases = s.purchases,
            );
        }
        let step = (seconds.len() / 10).max(1);
        for i in (0..seconds.len()).step_by(step) {
            let _ = write!(
                svg,
                "<text x=\"{x:.1}\" y=\"{y:.1}\">{i}s</text>",
                x = MARGIN + i as f64 * slot,
                y = HEIGHT - MARGIN + 14.0
            );
        }
        svg.push_str("</svg>");
        svg
    }
}

fn svg_open() -> String {
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{WIDTH}\" height=\"{HEIGHT}\" \
         viewBox=\"0 0 {WIDTH} {HEIGHT}\"><line x1=\"{MARGIN}\" y1=\"{base}\" x2=\"{right}\" \
         y2=\"{base}\" stroke=\"#999\"/>",
        base = HEIGHT - MARGIN,
        right = WIDTH - MARGIN,
    )
}

fn pairs<'a>(map: impl Iterator<Item = (&'a String, &'a u64)>) -> String {
    let pairs: Vec<String> = map.map(|(k, v)| format!("{k} × {v}")).collect();
    if pairs.is_empty() {
        "none".to_owned()
    } else {
        pairs.join(", ")
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

const STYLE: &str = "body{font:14px system-ui,sans-serif;margin:2em;max-width:820px}\
table{border-collapse:collapse}td{padding:2px 10px;border-bottom:1px solid #eee}\
tr.ok td:first-child{color:#197a2e}tr.fail td:first-child{color:#b3261e;font-weight:bold}\
svg text{font-size:11px;fill:#444}\
rect.req,.legend .req{fill:#8fb3de;color:#8fb3de}rect.created,.legend .created{fill:#e07b39;color:#e07b39}";

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::baseline::Baseline;
    use crate::summary::{Check, Latency, LatencyBucket, Outcomes, PerSecond, SetupTimes};

    fn summary() -> Summary {
        Summary {
            urls: vec!["http://127.0.0.1:8080/?a=<b>".to_owned()],
            buyers: 3,
            stock: 1,
            per_user_limit: 1,
            connections: 2,
            duration_seconds: None,
            admit_per_minute: Some(600),
            drop_id: uuid::Uuid::nil(),
            opens_at: chrono::DateTime::UNIX_EPOCH,
            setup: SetupTimes {
                accounts: 4,
                import_seconds: 0.1,
                login_seconds: 0.2,
            },
            baseline: Some(Baseline {
                seconds: 1.0,
                requests: 40,
                requests_per_second: 40.0,
                latency_ms: Latency {
                    p50: 0.5,
                    p90: 0.6,
                    p99: 0.7,
                    max: 0.8,
                    mean: 0.55,
                },
            }),
            purchases_share_of_baseline: Some(0.25),
            elapsed_seconds: 1.5,
            requests: 3,
            requests_per_second: 2.0,
            purchases: 1,
            purchases_per_second: 10.0,
            last_purchase_after_seconds: Some(0.1),
            latency_ms: Latency {
                p50: 1.0,
                p90: 2.0,
                p99: 3.0,
                max: 4.0,
                mean: 1.5,
            },
            statuses: BTreeMap::from([("201".to_owned(), 1), ("409".to_owned(), 2)]),
            error_codes: BTreeMap::from([("sold_out".to_owned(), 2)]),
            queue: None,
            outcomes: Outcomes::default(),
            granted_units: 1,
            checks: vec![Check {
                name: "granted units equal the stock",
                outcome: CheckOutcome::Failed,
                detail: "0 < 1 & more".to_owned(),
            }],
            per_second: vec![
                PerSecond {
                    second: 0,
                    requests: 2,
                    purchases: 1,
                },
                PerSecond {
                    second: 1,
                    requests: 1,
                    purchases: 0,
                },
            ],
            latency_buckets: vec![
                LatencyBucket {
                    from_ms: 0.0,
                    to_ms: Some(0.25),
                    count: 1,
                },
                LatencyBucket {
                    from_ms: 0.25,
                    to_ms: None,
                    count: 2,
                },
            ],
        }
    }

    #[test]
    fn the_page_escapes_every_text_and_draws_both_charts() {
        let page = summary().html();
        assert!(page.contains("Invariants: FAILED"));
        assert!(page.contains("40/s over 1.0 s"), "{page}");
        assert!(page.contains("purchases/s = 25.0 % of it"), "{page}");
        assert!(page.contains("0 &lt; 1 &amp; more"));
        assert!(page.contains("?a=&lt;b&gt;"));
        assert!(page.contains(">&lt;0.25</text>"), "{page}");
        assert_eq!(page.matches("<svg").count(), 2);
        // Every `<` opens a tag: no text left unescaped.
        for (at, _) in page.match_indices('<') {
            let next = page[at + 1..].chars().next().unwrap();
            assert!(
                next.is_ascii_alphabetic() || next == '/' || next == '!',
                "{}",
                &page[at..at + 20]
            );
        }
    }

    #[test]
    fn text_is_escaped() {
        assert_eq!(
            escape(r#"<a href="x">&</a>"#),
            "&lt;a href=&quot;x&quot;&gt;&amp;&lt;/a&gt;"
        );
    }
}
