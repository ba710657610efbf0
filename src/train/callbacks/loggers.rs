//! Write each epoch's figures to a CSV or JSON-lines file as training runs.

use super::base::{Callback, Context, Control};
use crate::train::EpochLog;
use crate::{Error, Result};
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::PathBuf;

/// Appends one CSV row per epoch (`epoch,seconds,<every logged name>`), flushed each epoch so a
/// crash loses at most the running epoch.
///
/// **Keras equivalent**: `CSVLogger(filename)`.
pub struct CsvLogger {
    /// The file written (created or truncated when training starts).
    pub path: PathBuf,
    columns: Vec<String>,
    out: Option<BufWriter<File>>,
}

impl CsvLogger {
    /// A logger writing to `path`.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        CsvLogger {
            path: path.into(),
            columns: Vec::new(),
            out: None,
        }
    }
}

fn write_line(out: &mut BufWriter<File>, path: &PathBuf, line: &str) -> Result<()> {
    writeln!(out, "{line}")
        .and_then(|_| out.flush())
        .map_err(|e| Error::io(path, e))
}

impl<M> Callback<M> for CsvLogger {
    fn on_train_begin(&mut self, ctx: &mut Context<'_, M>) -> Result<()> {
        let file = File::create(&self.path).map_err(|e| Error::io(&self.path, e))?;
        let mut out = BufWriter::new(file);
        self.columns = ctx.logged.to_vec();
        let header = format!("epoch,seconds,{}", self.columns.join(","));
        write_line(&mut out, &self.path, &header)?;
        self.out = Some(out);
        Ok(())
    }

    fn on_epoch_end(&mut self, log: &EpochLog, _ctx: &mut Context<'_, M>) -> Result<Control> {
        let cells: Vec<String> = self
            .columns
            .iter()
            .map(|c| log.values.get(c).map_or(String::new(), |v| v.to_string()))
            .collect();
        let line = format!("{},{},{}", log.epoch, log.seconds, cells.join(","));
        if let Some(out) = self.out.as_mut() {
            write_line(out, &self.path, &line)?;
        }
        Ok(Control::Continue)
    }
}

/// Appends one JSON object per epoch (the [`EpochLog`]) to a file, one per line.
pub struct JsonLinesLogger {
    /// The file written (created or truncated when training starts).
    pub path: PathBuf,
    out: Option<BufWriter<File>>,
}

impl JsonLinesLogger {
    /// A logger writing to `path`.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        JsonLinesLogger {
            path: path.into(),
            out: None,
        }
    }
}

impl<M> Callback<M> for JsonLinesLogger {
    fn on_train_begin(&mut self, _ctx: &mut Context<'_, M>) -> Result<()> {
        let file = File::create(&self.path).map_err(|e| Error::io(&self.path, e))?;
        self.out = Some(BufWriter::new(file));
        Ok(())
    }

    fn on_epoch_end(&mut self, log: &EpochLog, _ctx: &mut Context<'_, M>) -> Result<Control> {
        let line = serde_json::to_string(log).map_err(|source| Error::Serialization {
            what: "an epoch log".into(),
            source,
        })?;
        if let Some(out) = self.out.as_mut() {
            write_line(out, &self.path, &line)?;
        }
        Ok(Control::Continue)
    }
}
