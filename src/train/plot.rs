//! Training curves as a PNG (plotters): loss and each metric per epoch, training and validation.

use super::History;
use crate::plot::{ensure_font, plot_err};
use crate::{Error, Result};
use plotters::prelude::*;
use std::path::Path;

impl History {
    /// Draws one panel per quantity (`loss`, then each metric), with the training curve and,
    /// when recorded, the `val_` curve, and writes a PNG to `path`.
    ///
    /// # Errors
    /// [`Error::Empty`] when the history is empty, [`Error::FontMissing`] when no font is found; [`Error::Io`] naming the
    /// file when it cannot be written.
    pub fn plot_png(&self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        let Some(first) = self.epochs.first() else {
            return Err(Error::Empty {
                what: "history",
                operation: "plot",
            });
        };
        ensure_font()?;
        let names: Vec<&String> = first
            .values
            .keys()
            .filter(|k| !k.starts_with("val_"))
            .collect();
        let panel_h = 300u32;
        let root =
            BitMapBackend::new(path, (800, panel_h * names.len() as u32)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| plot_err(path, e))?;
        let panels = root.split_evenly((names.len(), 1));
        let epochs = self.epochs.len();
        for (area, name) in panels.iter().zip(names) {
            let train = self.series(name).unwrap_or_default();
            let val = self.series(&format!("val_{name}"));
            let all = train
                .iter()
                .chain(val.iter().flatten())
                .copied()
                .filter(|v| v.is_finite());
            let (lo, hi) = all.fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), v| {
                (l.min(v), h.max(v))
            });
            let pad = ((hi - lo) * 0.1).max(1e-6);
            let mut chart = ChartBuilder::on(area)
                .caption(name, ("sans-serif", 22))
                .margin(10)
                .x_label_area_size(35)
                .y_label_area_size(60)
                .build_cartesian_2d(1f64..(epochs.max(2)) as f64, (lo - pad)..(hi + pad))
                .map_err(|e| plot_err(path, e))?;
            chart
                .configure_mesh()
                .x_desc("epoch")
                .x_labels(epochs.clamp(2, 10))
                .x_label_formatter(&|x| format!("{x:.0}"))
                .draw()
                .map_err(|e| plot_err(path, e))?;
            let points = |s: &[f64]| {
                s.iter()
                    .enumerate()
                    .map(|(i, &v)| ((i + 1) as f64, v))
                    .collect::<Vec<_>>()
            };
            chart
                .draw_series(LineSeries::new(points(&train), BLUE.stroke_width(2)))
                .map_err(|e| plot_err(path, e))?
                .label("train")
                .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], BLUE));
            if let Some(val) = &val {
                chart
                    .draw_series(LineSeries::new(points(val), RED.stroke_width(2)))
                    .map_err(|e| plot_err(path, e))?
                    .label("validation")
                    .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], RED));
            }
            chart
                .configure_series_labels()
                .background_style(WHITE.mix(0.8))
                .border_style(BLACK)
                .draw()
                .map_err(|e| plot_err(path, e))?;
        }
        root.present().map_err(|e| plot_err(path, e))
    }
}
