//! CSV loading: numeric feature columns and one label column chosen by name.
//!
//! The header row is required. Every feature column must hold finite numbers, every row must
//! have as many fields as the header, and the number of feature columns must equal `F`, the
//! width of the model's input: a mismatch is an error naming the file and both counts, never a
//! silently truncated or padded sample.

use super::{Classes, InMemory, Target, Values};
use crate::{Error, Result};
use dfdx::prelude::*;
use std::fs::File;
use std::io::BufReader;
use std::marker::PhantomData;
use std::path::Path;

/// A label kind that can be read from one CSV field.
pub trait CsvTarget: Target {
    /// Parses one (trimmed) field; the error says what is wrong with it.
    fn parse_field(field: &str) -> std::result::Result<Self::Item, String>;
}

impl<const N: usize> CsvTarget for Classes<N> {
    fn parse_field(field: &str) -> std::result::Result<usize, String> {
        // "2.0" is accepted too: pandas writes integer labels that way after a missing value.
        let class = match field.parse::<usize>() {
            Ok(c) => c,
            Err(_) => match field.parse::<f64>() {
                Ok(f) if f.fract() == 0.0 && (0.0..1e15).contains(&f) => f as usize,
                _ => {
                    return Err(format!(
                        "`{field}` is not a class index (a whole number in 0..{N})"
                    ))
                }
            },
        };
        if class < N {
            Ok(class)
        } else {
            Err(format!(
                "label {class} is out of range: the model has {N} classes (0..={})",
                N - 1
            ))
        }
    }
}

impl CsvTarget for Values<1> {
    fn parse_field(field: &str) -> std::result::Result<[f32; 1], String> {
        parse_number(field).map(|v| [v])
    }
}

/// Parses a finite `f32`, saying what is wrong otherwise.
fn parse_number(field: &str) -> std::result::Result<f32, String> {
    match field.parse::<f32>() {
        Ok(v) if v.is_finite() => Ok(v),
        Ok(v) => Err(format!("`{field}` is {v}; values must be finite")),
        Err(_) if field.is_empty() => Err("empty field (a missing value)".into()),
        Err(_) => Err(format!("`{field}` is not a number")),
    }
}

/// Loads a CSV file of `F` numeric feature columns and one label column into an [`InMemory`]
/// data set of `Rank1<F>` samples.
///
/// `T` is [`Classes<N>`] (the label column holds class indices `0..N`) or [`Values<1>`] (a real
/// target, for regression or 0/1 binary labels with a sigmoid output). Fields are trimmed; the
/// feature columns keep their order in the file, with the label column taken out wherever it is.
///
/// # Example
/// ```
/// # use typenet::prelude::*;
/// # fn main() -> typenet::Result<()> {
/// let path = std::env::temp_dir()
///     .join(format!("typenet-csv-doc-{}.csv", std::process::id()));
/// std::fs::write(&path, "x1,label,x2\n0.5,1,2\n1.5,0,-1\n").unwrap();
/// let data = CsvDataset::<2, Classes<2>>::load(&path, "label")?;
/// assert_eq!(data.features(), &[0.5, 2.0, 1.5, -1.0]);
/// assert_eq!(data.targets(), &[1, 0]);
/// // the model takes 3 features but the file has 2: refused
/// let err = CsvDataset::<3, Classes<2>>::load(&path, "label").unwrap_err();
/// assert!(err.to_string().contains("expected 3 feature columns, found 2"));
/// # Ok(()) }
/// ```
///
/// **Keras equivalent**: `pandas.read_csv(path)` then `df.pop(label)`.
#[derive(Debug, Clone, Copy, Default)]
pub struct CsvDataset<const F: usize, T: CsvTarget> {
    target: PhantomData<T>,
}

impl<const F: usize, T: CsvTarget> CsvDataset<F, T> {
    /// Reads `path`, with labels from the column named `label`.
    ///
    /// # Errors
    /// [`Error::Io`] if the file cannot be read; [`Error::Csv`] naming the file (and the line,
    /// column number and column name where there is one) for an empty file, a file without data
    /// rows, a missing or repeated label column, a feature-column count other than `F`, a row
    /// with more or fewer fields than the header, a field that is not a finite number, or a label
    /// that is not valid for `T` (a class outside `0..N`).
    pub fn load(path: impl AsRef<Path>, label: &str) -> Result<InMemory<Rank1<F>, T>> {
        let path = path.as_ref();
        let file = File::open(path).map_err(|e| Error::io(path, e))?;
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(true)
            .flexible(true)
            .trim(csv::Trim::All)
            .from_reader(BufReader::new(file));
        let header = reader.headers().map_err(|e| from_csv(path, e))?.clone();
        if header.iter().all(str::is_empty) {
            return Err(csv_err(
                path,
                "",
                "the file is empty: a header row naming the columns is required",
            ));
        }
        let names: Vec<&str> = header.iter().collect();
        let label_col = match names.iter().filter(|&&n| n == label).count() {
            1 => names.iter().position(|&n| n == label).unwrap_or(0),
            0 => {
                return Err(csv_err(
                    path,
                    "line 1: ",
                    format!(
                        "no column is named `{label}`; the columns are {}",
                        names.join(", ")
                    ),
                ))
            }
            k => {
                return Err(csv_err(
                    path,
                    "line 1: ",
                    format!("{k} columns are named `{label}`"),
                ))
            }
        };
        let found = names.len() - 1;
        if found != F {
            return Err(csv_err(
                path,
                "",
                format!(
                    "expected {F} feature columns, found {found}: the model's input is Rank1<{F}> and the \
                     header has {} columns, one of them the label `{label}`",
                    names.len()
                ),
            ));
        }
        let (mut features, mut targets) = (Vec::new(), Vec::new());
        for record in reader.records() {
            let record = record.map_err(|e| from_csv(path, e))?;
            let line = record.position().map_or(0, |p| p.line());
            if record.len() != names.len() {
                return Err(csv_err(
                    path,
                    &format!("line {line}: "),
                    format!(
                        "ragged row: {} fields, but the header has {}",
                        record.len(),
                        names.len()
                    ),
                ));
            }
            for (col, field) in record.iter().enumerate() {
                let at = || format!("line {line}, column {} ({}): ", col + 1, names[col]);
                if col == label_col {
                    targets.push(T::parse_field(field).map_err(|why| csv_err(path, &at(), why))?);
                } else {
                    features.push(parse_number(field).map_err(|why| csv_err(path, &at(), why))?);
                }
            }
        }
        if targets.is_empty() {
            return Err(csv_err(path, "", "no data rows after the header"));
        }
        InMemory::new(features, targets).map_err(|e| csv_err(path, "", e.to_string()))
    }
}

fn csv_err(path: &Path, location: &str, reason: impl Into<String>) -> Error {
    Error::Csv {
        path: path.into(),
        location: location.into(),
        reason: reason.into(),
    }
}

/// A `csv` crate error as [`Error::Csv`] (or [`Error::Io`]), with its line when it has one.
fn from_csv(path: &Path, e: csv::Error) -> Error {
    let location = e
        .position()
        .map_or(String::new(), |p| format!("line {}: ", p.line()));
    match e.into_kind() {
        csv::ErrorKind::Io(io) => Error::io(path, io),
        csv::ErrorKind::Utf8 { err, .. } => {
            csv_err(path, &location, format!("invalid UTF-8 ({err})"))
        }
        other => csv_err(path, &location, format!("{other:?}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_regression_targets_from_any_column() {
        let path =
            std::env::temp_dir().join(format!("typenet-csv-unit-{}.csv", std::process::id()));
        std::fs::write(&path, "y,a,b\n 1.5 , 2, 3\n-2,4e-1,5\n").unwrap();
        let d = CsvDataset::<2, Values<1>>::load(&path, "y").unwrap();
        assert_eq!(d.features(), &[2.0, 3.0, 0.4, 5.0]);
        assert_eq!(d.targets(), &[[1.5], [-2.0]]);
    }

    #[test]
    fn class_fields_accept_whole_floats_only() {
        assert_eq!(Classes::<3>::parse_field("2.0"), Ok(2));
        assert!(Classes::<3>::parse_field("1.5").is_err());
        assert!(Classes::<3>::parse_field("3")
            .unwrap_err()
            .contains("out of range"));
    }

    #[test]
    fn a_field_that_is_not_a_number_is_a_csv_error_at_its_line_and_column() {
        let path =
            std::env::temp_dir().join(format!("typenet-csv-bad-field-{}.csv", std::process::id()));
        std::fs::write(&path, "y,a,b\n1,2,3\n0,x,5\n").unwrap();
        let err = CsvDataset::<2, Classes<2>>::load(&path, "y").unwrap_err();
        std::fs::remove_file(&path).unwrap();
        match err {
            Error::Csv {
                path: p,
                location,
                reason,
            } => {
                assert_eq!(p, path);
                assert_eq!(location, "line 3, column 2 (a): ");
                assert_eq!(reason, "`x` is not a number");
            }
            other => panic!("{other:?}"),
        }
    }
}
