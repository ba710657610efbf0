//! Images next to their attribution maps, drawn to one PNG (plotters).

use crate::plot::{ensure_font, plot_err};
use crate::{Error, Result};
use plotters::prelude::*;
use std::path::Path;

/// Screen pixels per image pixel.
const SCALE: usize = 8;
/// Gap between cells, in screen pixels.
const PAD: usize = 12;
/// Height of each row's caption.
const TEXT_H: usize = 24;
/// Height of the column titles.
const HEADER_H: usize = 32;

/// One row of a [`heatmap_png`] figure: an image in grey and its attribution maps.
#[derive(Debug, Clone)]
pub struct HeatmapRow<'a> {
    /// Written above the row, e.g. `"Sneaker (predicted Sneaker, 0.98)"`.
    pub caption: String,
    /// The image, row-major, values in `[0, 1]` (0 black, 1 white).
    pub image: &'a [f32],
    /// Attribution maps of the same size as the image (saliency, integrated gradients, …).
    pub maps: Vec<&'a [f32]>,
}

/// Writes a PNG with one row per [`HeatmapRow`]: the image in grey, then each attribution map as
/// a heat map — red where the value raises the class score, blue where it lowers it, white at
/// zero, each map scaled by its own 99th percentile of `|value|` (so one extreme pixel does not
/// wash out the rest).
///
/// `titles` names the columns: the image column first, then one per map.
///
/// # Errors
/// [`Error::Empty`] without rows; [`Error::LengthMismatch`] if a row's image is not
/// `height × width` values, a map is not the image's size, the rows disagree on the number of
/// maps or `titles` does not name every column; an error if no font is found;
/// [`Error::Io`] naming the file when it cannot be written.
///
/// # Example
/// ```no_run
/// # use typenet::prelude::*;
/// # fn main() -> typenet::Result<()> {
/// let image = vec![0.5f32; 28 * 28];
/// let map = vec![0.0f32; 28 * 28];
/// let row = HeatmapRow { caption: "a grey square".into(), image: &image, maps: vec![&map] };
/// heatmap_png("saliency.png", (28, 28), &["image", "saliency"], &[row])?;
/// # Ok(()) }
/// ```
pub fn heatmap_png(
    path: impl AsRef<Path>,
    (height, width): (usize, usize),
    titles: &[&str],
    rows: &[HeatmapRow<'_>],
) -> Result<()> {
    let path = path.as_ref();
    let columns = check(height, width, titles, rows)?;
    ensure_font()?;
    let (cell_w, cell_h) = (width * SCALE, height * SCALE);
    let size = (
        PAD + columns * (cell_w + PAD),
        HEADER_H + rows.len() * (TEXT_H + cell_h + PAD),
    );
    let root = BitMapBackend::new(path, (size.0 as u32, size.1 as u32)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| plot_err(path, e))?;
    let text = |s: &str, x: usize, y: usize, px: u32| {
        Text::new(
            s.to_string(),
            (x as i32, y as i32),
            ("sans-serif", px).into_font(),
        )
    };
    for (c, title) in titles.iter().enumerate() {
        root.draw(&text(title, PAD + c * (cell_w + PAD), 6, 20))
            .map_err(|e| plot_err(path, e))?;
    }
    for (r, row) in rows.iter().enumerate() {
        let top = HEADER_H + r * (TEXT_H + cell_h + PAD);
        root.draw(&text(&row.caption, PAD, top + 4, 16))
            .map_err(|e| plot_err(path, e))?;
        let cells = std::iter::once(row.image.iter().map(|&v| grey(v)).collect::<Vec<_>>())
            .chain(row.maps.iter().map(|m| diverging(m)));
        for (c, colours) in cells.enumerate() {
            let (x0, y0) = (PAD + c * (cell_w + PAD), top + TEXT_H);
            for (i, colour) in colours.into_iter().enumerate() {
                let (px, py) = (x0 + (i % width) * SCALE, y0 + (i / width) * SCALE);
                let corners = [
                    (px as i32, py as i32),
                    ((px + SCALE) as i32, (py + SCALE) as i32),
                ];
                root.draw(&Rectangle::new(corners, colour.filled()))
                    .map_err(|e| plot_err(path, e))?;
            }
        }
    }
    root.present().map_err(|e| plot_err(path, e))
}

/// Validates the figure's sizes and returns its column count.
fn check(height: usize, width: usize, titles: &[&str], rows: &[HeatmapRow<'_>]) -> Result<usize> {
    let n = height * width;
    let Some(first) = rows.first() else {
        return Err(Error::Empty {
            what: "list of rows",
            operation: "draw a heat map",
        });
    };
    let columns = 1 + first.maps.len();
    if titles.len() != columns {
        return Err(Error::LengthMismatch {
            what: format!(
                "heat map titles, one per column (the image and {} maps)",
                first.maps.len()
            ),
            expected: columns,
            found: titles.len(),
        });
    }
    for (r, row) in rows.iter().enumerate() {
        if row.image.len() != n {
            return Err(Error::LengthMismatch {
                what: format!("heat map row {r}: image values ({height} × {width})"),
                expected: n,
                found: row.image.len(),
            });
        }
        if row.maps.len() + 1 != columns {
            return Err(Error::LengthMismatch {
                what: format!("heat map row {r}: maps (as many as row 0)"),
                expected: columns - 1,
                found: row.maps.len(),
            });
        }
        if let Some((m, map)) = row.maps.iter().enumerate().find(|(_, m)| m.len() != n) {
            return Err(Error::LengthMismatch {
                what: format!("heat map row {r}, map {m}: values (as many as the image)"),
                expected: n,
                found: map.len(),
            });
        }
    }
    Ok(columns)
}

/// `v` in `[0, 1]` as a grey level (0 black).
fn grey(v: f32) -> RGBColor {
    let g = (v.clamp(0.0, 1.0) * 255.0).round() as u8;
    RGBColor(g, g, g)
}

/// Each value as red (positive) or blue (negative) on white, scaled by the 99th percentile of
/// `|value|`.
fn diverging(map: &[f32]) -> Vec<RGBColor> {
    let mut magnitudes: Vec<f32> = map
        .iter()
        .map(|v| v.abs())
        .filter(|v| v.is_finite())
        .collect();
    magnitudes.sort_by(f32::total_cmp);
    let scale = magnitudes
        .get((magnitudes.len() * 99 / 100).min(magnitudes.len().saturating_sub(1)))
        .copied()
        .filter(|&s| s > 0.0)
        .unwrap_or(1.0);
    map.iter()
        .map(|&v| {
            let t = (v / scale).clamp(-1.0, 1.0);
            let fade = (255.0 * (1.0 - t.abs())).round() as u8;
            if t >= 0.0 {
                RGBColor(255, fade, fade)
            } else {
                RGBColor(fade, fade, 255)
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colours_are_symmetric_and_white_at_zero() {
        let c = diverging(&[1.0, -1.0, 0.0, 0.5]);
        assert_eq!(c[0], RGBColor(255, 0, 0));
        assert_eq!(c[1], RGBColor(0, 0, 255));
        assert_eq!(c[2], RGBColor(255, 255, 255));
        assert_eq!(grey(1.0), RGBColor(255, 255, 255));
    }

    #[test]
    fn size_mismatches_are_errors() {
        let (img, small) = (vec![0.0; 4], vec![0.0; 3]);
        let row = |maps| HeatmapRow {
            caption: String::new(),
            image: &img,
            maps,
        };
        assert!(check(2, 2, &["x", "m"], &[row(vec![&img])]).is_ok());
        assert!(check(2, 2, &["x"], &[row(vec![&img])]).is_err());
        assert!(check(2, 2, &["x", "m"], &[row(vec![&small])]).is_err());
        assert!(check(3, 2, &["x", "m"], &[row(vec![&img])]).is_err());
        assert!(check(2, 2, &["x"], &[]).is_err());
    }

    #[test]
    fn writes_a_png() -> Result<()> {
        let dir = std::env::temp_dir().join(format!("typenet-heatmap-{}", std::process::id()));
        std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
        let path = dir.join("h.png");
        let img: Vec<f32> = (0..16).map(|i| i as f32 / 15.0).collect();
        let map: Vec<f32> = (0..16).map(|i| i as f32 - 8.0).collect();
        let row = HeatmapRow {
            caption: "ramp".into(),
            image: &img,
            maps: vec![&map],
        };
        heatmap_png(&path, (4, 4), &["image", "map"], &[row])?;
        let bytes = std::fs::read(&path).map_err(|e| Error::io(&path, e))?;
        assert_eq!(&bytes[1..4], b"PNG");
        std::fs::remove_dir_all(&dir).map_err(|e| Error::io(&dir, e))
    }
}
