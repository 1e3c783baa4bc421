//! Charts of the statistics as SVG drawn on the server (`plotters`' SVG backend): one figure of a
//! year month by month — bars for a flow or a stock, a line for the fund's balance — with its
//! title, axes and values, readable without script and printable. Text is laid out with the
//! backend's own metrics; the browser draws it in the page's CJK font.

#![allow(
    clippy::float_arithmetic,
    clippy::cast_precision_loss,
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    reason = "drawing coordinates on a page, never money: the figures are decimals until drawn"
)]

use plotters::prelude::*;
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;

use crate::figures::{Month, Statistics};

/// A figure that can be charted: its identifier, its title, and how to read it off a month.
pub struct Metric {
    /// The identifier (`premium_billed`).
    pub id: &'static str,
    /// The title (中文).
    pub zh: &'static str,
    /// The unit shown on the axis.
    pub unit: &'static str,
    /// Drawn as a line (a balance) rather than bars.
    pub line: bool,
    /// The month's value.
    pub of: fn(&Month) -> Decimal,
}

/// Every figure that can be charted.
pub const METRICS: [Metric; 10] = [
    Metric {
        id: "persons_covered",
        zh: "参保人数",
        unit: "人",
        line: false,
        of: |m| m.persons_covered,
    },
    Metric {
        id: "units",
        zh: "参保单位数",
        unit: "家",
        line: false,
        of: |m| m.units,
    },
    Metric {
        id: "premium_billed",
        zh: "应缴保费",
        unit: "元",
        line: false,
        of: |m| m.premium_billed,
    },
    Metric {
        id: "premium_paid",
        zh: "实缴保费",
        unit: "元",
        line: false,
        of: |m| m.premium_paid,
    },
    Metric {
        id: "claims_submitted",
        zh: "待遇申领件数",
        unit: "件",
        line: false,
        of: |m| m.claims_submitted,
    },
    Metric {
        id: "benefits_approved",
        zh: "核定待遇（一次性）",
        unit: "元",
        line: false,
        of: |m| m.benefits_approved,
    },
    Metric {
        id: "benefits_paid",
        zh: "支付待遇",
        unit: "元",
        line: false,
        of: |m| m.benefits_paid,
    },
    Metric {
        id: "beneficiaries",
        zh: "定期待遇人数",
        unit: "人",
        line: false,
        of: |m| m.beneficiaries,
    },
    Metric {
        id: "fund_income",
        zh: "基金收入",
        unit: "元",
        line: false,
        of: |m| m.fund_income,
    },
    Metric {
        id: "fund_balance",
        zh: "基金结余",
        unit: "元",
        line: true,
        of: |m| m.fund_balance,
    },
];

/// The metric called `id`.
#[must_use]
pub fn metric(id: &str) -> Option<&'static Metric> {
    METRICS.iter().find(|m| m.id == id)
}

/// The chart of `metric` over `s`'s months, as an SVG document.
///
/// # Errors
/// The backend's own failure (said in a sentence).
pub fn svg(s: &Statistics, metric: &Metric, place: &str) -> Result<String, String> {
    let values: Vec<f64> = s
        .months
        .iter()
        .map(|m| (metric.of)(m).to_f64().unwrap_or(0.0))
        .collect();
    let n = values.len().max(1);
    let top = values.iter().copied().fold(0.0_f64, f64::max);
    let bottom = values.iter().copied().fold(0.0_f64, f64::min);
    let span = (top - bottom).max(1.0);
    let (lo, hi) = (
        if bottom < 0.0 {
            bottom - span * 0.1
        } else {
            0.0
        },
        top + span * 0.15,
    );
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, (720, 360)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        let title = format!("{place} {} 年 {}（{}）", s.year, metric.zh, metric.unit);
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 20))
            .margin(12)
            .x_label_area_size(32)
            .y_label_area_size(72)
            .build_cartesian_2d(0_f64..n as f64, lo..hi)
            .map_err(|e| e.to_string())?;
        let labels: Vec<String> = s
            .months
            .iter()
            .map(|m| format!("{}月", &m.month[5..]))
            .collect();
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(n)
            .x_label_formatter(&|x| {
                let i = x.floor() as usize;
                labels.get(i).cloned().unwrap_or_default()
            })
            .y_label_formatter(&|y| format!("{y:.0}"))
            .draw()
            .map_err(|e| e.to_string())?;
        let blue = RGBColor(31, 94, 168);
        if metric.line {
            chart
                .draw_series(LineSeries::new(
                    values.iter().enumerate().map(|(i, v)| (i as f64 + 0.5, *v)),
                    blue.stroke_width(2),
                ))
                .map_err(|e| e.to_string())?;
            chart
                .draw_series(
                    values
                        .iter()
                        .enumerate()
                        .map(|(i, v)| Circle::new((i as f64 + 0.5, *v), 3, blue.filled())),
                )
                .map_err(|e| e.to_string())?;
        } else {
            chart
                .draw_series(values.iter().enumerate().map(|(i, v)| {
                    Rectangle::new(
                        [(i as f64 + 0.15, 0.0), (i as f64 + 0.85, *v)],
                        blue.filled(),
                    )
                }))
                .map_err(|e| e.to_string())?;
        }
        chart
            .draw_series(values.iter().enumerate().map(|(i, v)| {
                Text::new(
                    format!("{v:.0}"),
                    (i as f64 + 0.2, *v + span * 0.03),
                    ("sans-serif", 11),
                )
            }))
            .map_err(|e| e.to_string())?;
        root.present().map_err(|e| e.to_string())?;
    }
    Ok(out)
}
