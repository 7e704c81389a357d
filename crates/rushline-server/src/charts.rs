//! Charts for the seller console, drawn as SVG with plotters: axes with their units, a title,
//! and each point's value written beside it, so the figures are readable without hovering.

use chrono::{DateTime, NaiveDate, Utc};
use plotters::prelude::*;
use rushline_app::AppError;

const SIZE: (u32, u32) = (900, 420);
/// Beyond this many points their values are not written beside them: they would overlap.
const LABELLED: usize = 40;

fn failed(e: impl std::fmt::Display) -> AppError {
    AppError::internal(format!("drawing a chart failed: {e}"))
}

/// Gross and net per business day, in KRW.
pub(crate) fn sales(title: &str, days: &[(NaiveDate, i64, i64)]) -> Result<String, AppError> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
        root.fill(&WHITE).map_err(failed)?;
        let top = days.iter().map(|d| d.1.max(d.2)).max().unwrap_or(0).max(1);
        let last = i64::try_from(days.len()).unwrap_or(i64::MAX).max(1) - 1;
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 20))
            .margin(16)
            .x_label_area_size(40)
            .y_label_area_size(90)
            .build_cartesian_2d(0..last.max(1), 0..top + top / 8 + 1)
            .map_err(failed)?;
        chart
            .configure_mesh()
            .x_desc("business day")
            .y_desc("KRW")
            .x_labels(days.len().clamp(2, 12))
            .x_label_formatter(&|i| {
                usize::try_from(*i)
                    .ok()
                    .and_then(|i| days.get(i))
                    .map(|d| d.0.format("%m-%d").to_string())
                    .unwrap_or_default()
            })
            .draw()
            .map_err(failed)?;
        for (name, color, value) in [
            (
                "gross",
                BLUE,
                (|d: &(NaiveDate, i64, i64)| d.1) as fn(&_) -> i64,
            ),
            ("net", RED, |d| d.2),
        ] {
            let points: Vec<(i64, i64)> = (0..).zip(days.iter().map(value)).collect();
            chart
                .draw_series(LineSeries::new(points.clone(), color.stroke_width(2)))
                .map_err(failed)?
                .label(name)
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], color));
            draw_points(&mut chart, &points, color)?;
        }
        chart
            .configure_series_labels()
            .background_style(WHITE)
            .border_style(BLACK)
            .draw()
            .map_err(failed)?;
        root.present().map_err(failed)?;
    }
    Ok(svg)
}

/// Units granted over seconds since the drop opened.
pub(crate) fn sellout(
    title: &str,
    opens_at: DateTime<Utc>,
    quantity: i64,
    series: &[(DateTime<Utc>, i64)],
) -> Result<String, AppError> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
        root.fill(&WHITE).map_err(failed)?;
        #[expect(clippy::cast_precision_loss, reason = "seconds of a sale, to draw")]
        let points: Vec<(f64, i64)> = series
            .iter()
            .map(|(at, units)| {
                let micros = (*at - opens_at).num_microseconds().unwrap_or(0);
                (micros as f64 / 1e6, *units)
            })
            .collect();
        let right = points.iter().map(|p| p.0).fold(1.0_f64, f64::max);
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 20))
            .margin(16)
            .x_label_area_size(40)
            .y_label_area_size(90)
            .build_cartesian_2d(0.0..right * 1.05, 0..quantity.max(1) + quantity / 10 + 1)
            .map_err(failed)?;
        chart
            .configure_mesh()
            .x_desc("seconds since opening")
            .y_desc("units granted")
            .draw()
            .map_err(failed)?;
        chart
            .draw_series(LineSeries::new(points.clone(), BLUE.stroke_width(2)))
            .map_err(failed)?;
        chart
            .draw_series(LineSeries::new(
                vec![(0.0, quantity), (right * 1.05, quantity)],
                BLACK.mix(0.4),
            ))
            .map_err(failed)?;
        draw_points(&mut chart, &points, BLUE)?;
        root.present().map_err(failed)?;
    }
    Ok(svg)
}

/// Each point as a dot with its value beside it, when there are few; else only the last value.
fn draw_points<X, XR, YR>(
    chart: &mut ChartContext<'_, SVGBackend<'_>, Cartesian2d<XR, YR>>,
    points: &[(X, i64)],
    color: RGBColor,
) -> Result<(), AppError>
where
    X: Clone + 'static,
    XR: plotters::coord::ranged1d::Ranged<ValueType = X>,
    YR: plotters::coord::ranged1d::Ranged<ValueType = i64>,
{
    let shown: Vec<&(X, i64)> = if points.len() <= LABELLED {
        points.iter().collect()
    } else {
        points.last().into_iter().collect()
    };
    chart
        .draw_series(shown.into_iter().map(|(x, y)| {
            EmptyElement::at((x.clone(), *y))
                + Circle::new((0, 0), 3, color.filled())
                + Text::new(y.to_string(), (4, -14), ("sans-serif", 12))
        }))
        .map_err(failed)?;
    Ok(())
}
