//! Shared chart helpers (plotters): a TrueType font for labels, found once per process, and
//! the error a failed drawing becomes. Used by training curves
//! ([`History::plot_png`](crate::train::History::plot_png)) and heat maps
//! ([`heatmap_png`](crate::interpret::heatmap_png)).

use crate::{Error, Result};
use plotters::prelude::*;
use std::path::Path;
use std::sync::OnceLock;

/// Fonts tried for chart labels, in order (after `$TYPENET_FONT`).
const FONT_CANDIDATES: &[&str] = &[
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/TTF/DejaVuSans.ttf",
    "/usr/share/fonts/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
];

/// Registers a system TrueType font with plotters once per process.
pub(crate) fn ensure_font() -> Result<()> {
    static FONT: OnceLock<std::result::Result<(), String>> = OnceLock::new();
    FONT.get_or_init(|| {
        let env = std::env::var("TYPENET_FONT").ok();
        let candidates = env
            .iter()
            .map(String::as_str)
            .chain(FONT_CANDIDATES.iter().copied());
        for path in candidates {
            if let Ok(bytes) = std::fs::read(path) {
                // plotters keeps fonts for the life of the process: leak the bytes once.
                let bytes: &'static [u8] = Box::leak(bytes.into_boxed_slice());
                if plotters::style::register_font("sans-serif", FontStyle::Normal, bytes).is_ok() {
                    return Ok(());
                }
            }
        }
        Err(format!("$TYPENET_FONT and {}", FONT_CANDIDATES.join(", ")))
    })
    .clone()
    .map_err(|tried| Error::FontMissing { tried })
}

/// A drawing error on `path`, as an I/O error naming the file.
pub(crate) fn plot_err(path: &Path, e: impl std::fmt::Display) -> Error {
    Error::io(
        path,
        std::io::Error::other(format!("cannot draw chart: {e}")),
    )
}
