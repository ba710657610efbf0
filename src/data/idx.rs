//! Reader for the IDX file format of MNIST and Fashion-MNIST, raw or gzip-compressed.
//!
//! An IDX file is a 4-byte magic number (`0x00 0x00 <type> <rank>`), `rank` big-endian `u32`
//! dimensions, then the data. Only unsigned bytes (type `0x08`) are supported: that is what the
//! MNIST family uses. Gzip is detected from the first two bytes (`1f 8b`), never from the name.
//!
//! Every header is checked against the file's length **before** the data buffer is allocated, so a
//! corrupt or hostile header cannot make the reader allocate what the file does not hold.

use crate::{Error, Result};
use flate2::read::MultiGzDecoder;
use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

/// The largest expansion ratio of deflate (1032:1); a gzip file can never decompress to more.
const MAX_DEFLATE_RATIO: u64 = 1032;
/// IDX type code for unsigned bytes.
const TYPE_U8: u8 = 0x08;

/// An n-dimensional array of bytes read from an IDX file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdxArray {
    /// Dimensions, outermost first (e.g. `[60000, 28, 28]` for MNIST images).
    pub dims: Vec<usize>,
    /// Row-major data, `dims.iter().product()` bytes.
    pub data: Vec<u8>,
}

/// Reads an IDX file of unsigned bytes, raw or gzip-compressed (detected from its content).
///
/// # Errors
/// [`Error::Io`] if the file cannot be read; [`Error::Idx`] naming the file if its magic number,
/// type, rank or dimensions are invalid, or if the header promises more or fewer bytes than the file
/// holds.
///
/// # Example
/// ```
/// # fn main() -> typenet::Result<()> {
/// let dir = std::env::temp_dir()
///     .join(format!("typenet-idx-doc-{}", std::process::id()));
/// std::fs::create_dir_all(&dir).unwrap();
/// let path = dir.join("labels-idx1-ubyte");
/// // magic 00 00 08 01, one dimension of 3, then 3 labels
/// std::fs::write(&path, [0, 0, 8, 1, 0, 0, 0, 3, 7, 2, 1]).unwrap();
/// let labels = typenet::data::read_idx(&path)?;
/// assert_eq!(labels.dims, vec![3]);
/// assert_eq!(labels.data, vec![7, 2, 1]);
/// # Ok(()) }
/// ```
pub fn read_idx(path: impl AsRef<Path>) -> Result<IdxArray> {
    let path = path.as_ref();
    let mut file = File::open(path).map_err(|e| Error::io(path, e))?;
    let file_len = file.metadata().map_err(|e| Error::io(path, e))?.len();
    let mut magic2 = [0u8; 2];
    let gzip = match file.read_exact(&mut magic2) {
        Ok(()) => magic2 == [0x1f, 0x8b],
        Err(_) => {
            return Err(idx_err(
                path,
                format!("file holds {file_len} bytes, too short for an IDX header"),
            ))
        }
    };
    file.seek(SeekFrom::Start(0))
        .map_err(|e| Error::io(path, e))?;
    if gzip {
        // The gzip trailer's ISIZE is the uncompressed length mod 2^32 (files here are < 4 GiB).
        let isize_field = gzip_isize(&mut file).map_err(|e| Error::io(path, e))?;
        file.seek(SeekFrom::Start(0))
            .map_err(|e| Error::io(path, e))?;
        let limit = file_len.saturating_mul(MAX_DEFLATE_RATIO);
        // every member of a multi-member file (concatenated gzip streams) in turn
        let decoded_len = || -> std::io::Result<u64> {
            let file = File::open(path)?;
            std::io::copy(
                &mut MultiGzDecoder::new(BufReader::new(file)),
                &mut std::io::sink(),
            )
        };
        let reader = MultiGzDecoder::new(BufReader::new(file));
        parse(
            path,
            reader,
            Capacity::Gzip {
                isize_field,
                limit,
                decoded_len: &decoded_len,
            },
        )
    } else {
        parse(path, BufReader::new(file), Capacity::Raw(file_len))
    }
}

/// What is known about the decoded length before the data is read.
enum Capacity<'a> {
    /// An uncompressed file of this many bytes.
    Raw(u64),
    /// A gzip file whose last trailer says `isize_field` (mod 2^32), which cannot exceed
    /// `limit`, and whose exact decoded length `decoded_len` finds by decoding it (without
    /// keeping the data): needed only when the trailer disagrees with the header, as it does for
    /// a file of several gzip members (the trailer counts only the last one).
    Gzip {
        isize_field: u32,
        limit: u64,
        decoded_len: &'a dyn Fn() -> std::io::Result<u64>,
    },
}

fn gzip_isize(file: &mut File) -> std::io::Result<u32> {
    let mut tail = [0u8; 4];
    file.seek(SeekFrom::End(-4))?;
    file.read_exact(&mut tail)?;
    Ok(u32::from_le_bytes(tail))
}

fn idx_err(path: &Path, reason: impl Into<String>) -> Error {
    Error::Idx {
        path: PathBuf::from(path),
        reason: reason.into(),
    }
}

fn parse(path: &Path, mut r: impl Read, cap: Capacity) -> Result<IdxArray> {
    let mut magic = [0u8; 4];
    read_header(path, &mut r, &mut magic, "magic number")?;
    if magic[0] != 0 || magic[1] != 0 {
        return Err(idx_err(
            path,
            format!(
                "bad magic number {:02x} {:02x} {:02x} {:02x}: an IDX file starts with 00 00",
                magic[0], magic[1], magic[2], magic[3]
            ),
        ));
    }
    if magic[2] != TYPE_U8 {
        return Err(idx_err(
            path,
            format!(
                "data type 0x{:02x} is not supported (only 0x08, unsigned bytes)",
                magic[2]
            ),
        ));
    }
    let rank = magic[3] as usize;
    if rank == 0 {
        return Err(idx_err(
            path,
            "rank 0: an IDX file needs at least one dimension",
        ));
    }
    let mut dims = Vec::with_capacity(rank);
    for d in 0..rank {
        let mut b = [0u8; 4];
        read_header(path, &mut r, &mut b, &format!("dimension {d}"))?;
        dims.push(u32::from_be_bytes(b) as usize);
    }
    let header_len = 4 + 4 * rank as u64;
    let described = || {
        dims.iter()
            .map(|d| d.to_string())
            .collect::<Vec<_>>()
            .join("x")
    };
    let payload = dims
        .iter()
        .try_fold(1u64, |acc, &d| acc.checked_mul(d as u64))
        .ok_or_else(|| idx_err(path, format!("dimensions {} overflow", described())))?;
    let expected_total = header_len + payload;
    match cap {
        Capacity::Raw(len) if len != expected_total => {
            return Err(idx_err(
                path,
                format!(
                    "header says {} ({payload} bytes of data) but the file holds {} bytes of data",
                    described(),
                    len.saturating_sub(header_len)
                ),
            ));
        }
        Capacity::Gzip {
            isize_field,
            limit,
            decoded_len,
        } if expected_total > limit || (expected_total & 0xffff_ffff) as u32 != isize_field => {
            let holds = if expected_total > limit {
                u64::from(isize_field)
            } else {
                decoded_len().map_err(|e| idx_err(path, format!("corrupt gzip stream: {e}")))?
            };
            if holds != expected_total {
                return Err(idx_err(
                    path,
                    format!(
                        "header says {} ({payload} bytes of data) but the gzip stream holds {} bytes of data",
                        described(),
                        holds.saturating_sub(header_len)
                    ),
                ));
            }
        }
        _ => {}
    }
    let len =
        usize::try_from(payload).map_err(|_| idx_err(path, "data too large for this platform"))?;
    let mut data = vec![0u8; len];
    let mut filled = 0;
    while filled < len {
        match r.read(&mut data[filled..]) {
            Ok(0) => {
                return Err(idx_err(
                    path,
                    format!("truncated: header says {} ({payload} bytes of data) but only {filled} bytes follow", described()),
                ))
            }
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(idx_err(path, format!("corrupt data after {filled} bytes: {e}"))),
        }
    }
    let mut extra = [0u8; 1];
    match r.read(&mut extra) {
        Ok(0) => Ok(IdxArray { dims, data }),
        Ok(_) => Err(idx_err(
            path,
            format!(
                "header says {} ({payload} bytes of data) but more data follows",
                described()
            ),
        )),
        Err(e) => Err(idx_err(path, format!("corrupt stream after the data: {e}"))),
    }
}

fn read_header(path: &Path, r: &mut impl Read, buf: &mut [u8], what: &str) -> Result<()> {
    r.read_exact(buf).map_err(|e| {
        idx_err(
            path,
            format!("truncated header: cannot read the {what} ({e})"),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_rank_3_array() {
        let dir = std::env::temp_dir().join(format!("typenet-idx-unit-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("x");
        std::fs::write(
            &p,
            [0, 0, 8, 3, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 2, 1, 2, 3, 4],
        )
        .unwrap();
        let a = read_idx(&p).unwrap();
        assert_eq!(a.dims, vec![1, 2, 2]);
        assert_eq!(a.data, vec![1, 2, 3, 4]);
    }
}
