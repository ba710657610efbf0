//! NumPy `.npz` export of a model's tensors (dfdx's `numpy` format), and an import that checks
//! the whole archive before it touches the model.
//!
//! The import reads the zip archive itself (stored and deflate members, as `np.savez` and
//! `np.savez_compressed` write them, zip64 records included) and each member's `.npy` header
//! (versions 1–3, C or Fortran order, either byte order), so that a malformed archive is a
//! named error, never a panic.

use super::spec::compare;
use super::tensors::{self, Values};
use super::{write_file, LoadOptions, TensorSpec};
use crate::{Error, Result};
use dfdx::nn::tensor_collection::TensorCollection;
use dfdx::nn::SaveToNpz;
use dfdx::prelude::*;
use std::collections::HashMap;
use std::io::Read;
use std::path::Path;

/// Writes `model`'s tensors to a NumPy `.npz` archive at `path` (one `.npy` per tensor, named as
/// in safetensors files, e.g. `0.weight.npy`), atomically.
///
/// # Errors
/// [`Error::Io`] naming the file if it cannot be written.
///
/// # Example
/// ```
/// # use typenet::prelude::*;
/// # fn main() -> typenet::Result<()> {
/// let dev = Cpu::default();
/// let model = dev.build_module::<Linear<3, 2>, f32>();
/// let path = std::env::temp_dir()
///     .join(format!("typenet-doc-linear-{}.npz", std::process::id()));
/// typenet::checkpoint::export_npz(&model, &path)?;
/// let mut back = dev.build_module::<Linear<3, 2>, f32>();
/// typenet::checkpoint::import_npz(&mut back, &path)?;
/// assert_eq!(back.weight.array(), model.weight.array());
/// # Ok(()) }
/// ```
///
/// **NumPy equivalent**: `np.load(path)["0.weight"]` reads a tensor back.
pub fn export_npz<M, D>(model: &M, path: impl AsRef<Path>) -> Result<()>
where
    D: Device<f32>,
    M: SaveToNpz<f32, D>,
{
    let path = path.as_ref();
    write_file(path, |tmp| {
        model
            .save(tmp)
            .map_err(|e| Error::io(tmp, std::io::Error::other(e.to_string())))
    })
}

/// Reads a NumPy `.npz` archive into `model`: one array per tensor, named as [`export_npz`]
/// names them (`0.weight`, stored as `0.weight.npy`), written by [`export_npz`], `np.savez` or
/// `np.savez_compressed`.
///
/// Everything is checked before the model is touched: the archive's structure, each member's
/// `.npy` header, that the arrays are exactly the model's tensors (names, dtypes — `float32`
/// for an `f32` model, `float64` for dfdx's scalars — and shapes), each member's length and
/// checksum, and that every value is finite (see [`import_npz_with`] to accept NaN and
/// infinities). On any error the model is unchanged.
///
/// # Errors
/// [`Error::CheckpointMismatch`] listing every array that is missing, extra, or of another
/// dtype or shape; [`Error::Npz`] naming the archive (and the member) when it is malformed or
/// uses a feature this reader lacks (encryption, a compression other than deflate);
/// [`Error::NonFiniteTensor`] naming the tensor; [`Error::Io`] if the file cannot be read.
///
/// # Example
/// ```
/// # use typenet::prelude::*;
/// # fn main() -> typenet::Result<()> {
/// let dev = Cpu::default();
/// let path = std::env::temp_dir()
///     .join(format!("typenet-doc-npz-refused-{}.npz", std::process::id()));
/// typenet::checkpoint::export_npz(&dev.build_module::<Linear<3, 2>, f32>(), &path)?;
/// let mut wider = dev.build_module::<Linear<3, 4>, f32>();
/// let before = wider.weight.array();
/// let err = typenet::checkpoint::import_npz(&mut wider, &path).unwrap_err();
/// assert!(err.to_string().contains("weight: expected F32 [4, 3], found F32 [2, 3]"));
/// assert_eq!(wider.weight.array(), before);
/// # Ok(()) }
/// ```
///
/// **NumPy equivalent**: `np.savez_compressed(path, **{"0.weight": w, ...})` writes an archive
/// this reads.
pub fn import_npz<E, M, D>(model: &mut M, path: impl AsRef<Path>) -> Result<()>
where
    E: Dtype,
    D: Device<E>,
    M: TensorCollection<E, D>,
{
    import_npz_with(model, path, &LoadOptions::default())
}

/// [`import_npz`] with [`LoadOptions`]: `allow_non_finite` loads arrays holding NaN or
/// infinite values, `prefix` part of a larger model's archive (an archive records no
/// architecture, so `allow_architecture_change` changes nothing here).
///
/// # Errors
/// As [`import_npz`].
pub fn import_npz_with<E, M, D>(
    model: &mut M,
    path: impl AsRef<Path>,
    options: &LoadOptions,
) -> Result<()>
where
    E: Dtype,
    D: Device<E>,
    M: TensorCollection<E, D>,
{
    let path = path.as_ref();
    let expected = tensors::specs(&*model)?;
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    let values = read_npz(path, &bytes, &expected, std::any::type_name::<M>(), options)?;
    tensors::assign(model, &values).map_err(Error::device)
}

/// The longest `.npy` header read (NumPy itself refuses headers over 10,000 bytes by default).
const HEADER_CAP: usize = 1 << 16;

/// Parses and checks the archive `bytes` (read from `path`) against `expected`, and returns
/// every tensor's values.
pub(crate) fn read_npz(
    path: &Path,
    bytes: &[u8],
    expected: &[TensorSpec],
    owner: &str,
    options: &LoadOptions,
) -> Result<HashMap<String, Values>> {
    let err = |member: &str, reason: String| Error::Npz {
        path: path.to_path_buf(),
        member: member.to_string(),
        reason,
    };
    let members = zip_members(bytes).map_err(|reason| err("", reason))?;
    // every member's header first: what the archive holds
    let mut found = Vec::with_capacity(members.len());
    let mut headers = HashMap::with_capacity(members.len());
    for m in &members {
        let Some(name) = m.name.strip_suffix(".npy") else {
            return Err(err(
                &m.name,
                "not a .npy array (an .npz holds only NAME.npy members)".into(),
            ));
        };
        // with a prefix, the archive's other arrays belong to the rest of the saved model
        let Some(name) = name.strip_prefix(options.prefix.as_str()) else {
            continue;
        };
        if headers.contains_key(name) {
            return Err(err(&m.name, "appears twice in the archive".into()));
        }
        let head = m
            .decompress(bytes, HEADER_CAP.min(m.size))
            .map_err(|reason| err(&m.name, reason))?;
        let header = npy_header(&head).map_err(|reason| err(&m.name, reason))?;
        found.push(TensorSpec {
            name: name.to_string(),
            dtype: header.dtype(),
            shape: header.shape.clone(),
        });
        headers.insert(name.to_string(), (m, header));
    }
    let mut mismatches = compare(expected, &found);
    if !options.prefix.is_empty() {
        mismatches.retain(|m| m.expected.is_some());
    }
    if !mismatches.is_empty() {
        return Err(Error::CheckpointMismatch {
            path: path.to_path_buf(),
            target: owner.to_string(),
            saved_from: None,
            mismatches,
        });
    }
    // names, dtypes and shapes agree: read the data
    let mut values = HashMap::with_capacity(expected.len());
    for spec in expected {
        let (m, header) = &headers[&spec.name];
        let width = if spec.dtype == "F64" { 8 } else { 4 };
        let data_len = spec.numel() * width;
        let total = header.data_offset + data_len;
        if m.size != total {
            return Err(err(
                &m.name,
                format!(
                    "holds {} bytes after its header; shape {:?} of {} needs {data_len}",
                    m.size.saturating_sub(header.data_offset),
                    spec.shape,
                    header.descr
                ),
            ));
        }
        let whole = m
            .decompress(bytes, total)
            .map_err(|reason| err(&m.name, reason))?;
        let mut crc = flate2::Crc::new();
        crc.update(&whole);
        if crc.sum() != m.crc32 {
            return Err(err(
                &m.name,
                format!(
                    "checksum mismatch (CRC-32 {:08x}, the archive says {:08x}): the data is corrupt",
                    crc.sum(),
                    m.crc32
                ),
            ));
        }
        let data = &whole[header.data_offset..];
        let v = header.values(data);
        if !options.allow_non_finite {
            v.check_finite(path, &spec.name)?;
        }
        values.insert(spec.name.clone(), v);
    }
    Ok(values)
}

/// One member of a zip archive, located and described by the central directory.
#[derive(Debug)]
struct Member {
    name: String,
    /// 0 stored, 8 deflate.
    method: u16,
    crc32: u32,
    /// Compressed bytes, starting at `start`.
    compressed: usize,
    start: usize,
    /// Uncompressed bytes.
    size: usize,
}

impl Member {
    /// The first `n` (at most the member's size) uncompressed bytes.
    fn decompress(&self, archive: &[u8], n: usize) -> std::result::Result<Vec<u8>, String> {
        let raw = &archive[self.start..self.start + self.compressed];
        let n = n.min(self.size);
        match self.method {
            0 => Ok(raw[..n.min(raw.len())].to_vec()),
            _ => {
                let mut out = Vec::with_capacity(n.min(raw.len().saturating_mul(1032)));
                flate2::read::DeflateDecoder::new(raw)
                    .take(n as u64)
                    .read_to_end(&mut out)
                    .map_err(|e| format!("corrupt deflate data: {e}"))?;
                if out.len() < n {
                    return Err(format!(
                        "deflate data ends after {} bytes; the archive says {}",
                        out.len(),
                        self.size
                    ));
                }
                Ok(out)
            }
        }
    }
}

/// Little-endian readers over a byte slice that fail instead of panicking.
fn le(bytes: &[u8], at: usize, n: usize) -> std::result::Result<u64, String> {
    let end = at
        .checked_add(n)
        .filter(|&e| e <= bytes.len())
        .ok_or_else(|| {
            format!(
                "truncated: a {n}-byte field at offset {at} lies past the end ({} bytes)",
                bytes.len()
            )
        })?;
    Ok(bytes[at..end]
        .iter()
        .rev()
        .fold(0u64, |acc, &b| (acc << 8) | u64::from(b)))
}

fn to_usize(v: u64, what: &str) -> std::result::Result<usize, String> {
    usize::try_from(v).map_err(|_| format!("{what} {v} is too large"))
}

/// The members of the zip archive `bytes`, from its central directory, each checked to lie
/// within the file.
fn zip_members(bytes: &[u8]) -> std::result::Result<Vec<Member>, String> {
    const EOCD: u64 = 0x0605_4b50;
    if bytes.len() < 22 {
        return Err(format!(
            "{} bytes: too short for a zip archive (an .npz is one)",
            bytes.len()
        ));
    }
    let lowest = bytes.len().saturating_sub(22 + 0xffff);
    let eocd = (lowest..=bytes.len() - 22)
        .rev()
        .find(|&i| le(bytes, i, 4) == Ok(EOCD))
        .ok_or("not a zip archive (no end-of-central-directory record); an .npz is one")?;
    let mut entries = le(bytes, eocd + 10, 2)?;
    let mut cd_size = le(bytes, eocd + 12, 4)?;
    let mut cd_offset = le(bytes, eocd + 16, 4)?;
    if entries == 0xffff || cd_size == 0xffff_ffff || cd_offset == 0xffff_ffff {
        // zip64: the locator sits just before the end record
        let locator = eocd
            .checked_sub(20)
            .filter(|&l| le(bytes, l, 4) == Ok(0x0706_4b50))
            .ok_or("zip64 sizes without a zip64 end-of-central-directory locator")?;
        let z = to_usize(le(bytes, locator + 8, 8)?, "zip64 record offset")?;
        if le(bytes, z, 4)? != 0x0606_4b50 {
            return Err(format!(
                "no zip64 end-of-central-directory record at offset {z}"
            ));
        }
        entries = le(bytes, z + 32, 8)?;
        cd_size = le(bytes, z + 40, 8)?;
        cd_offset = le(bytes, z + 48, 8)?;
    }
    let cd_offset = to_usize(cd_offset, "central directory offset")?;
    let cd_size = to_usize(cd_size, "central directory size")?;
    let cd_end = cd_offset
        .checked_add(cd_size)
        .filter(|&e| e <= bytes.len())
        .ok_or_else(|| {
            format!(
                "the central directory ({cd_size} bytes at offset {cd_offset}) lies past the end ({} bytes)",
                bytes.len()
            )
        })?;
    // each entry takes at least 46 bytes: a count the directory cannot hold is a lie
    if entries > (cd_size / 46) as u64 {
        return Err(format!(
            "the end record promises {entries} members but the central directory has room for {}",
            cd_size / 46
        ));
    }
    let mut members = Vec::with_capacity(entries as usize);
    let mut at = cd_offset;
    for i in 0..entries {
        if le(bytes, at, 4)? != 0x0201_4b50 || at + 46 > cd_end {
            return Err(format!("central directory entry {i} is malformed"));
        }
        let flags = le(bytes, at + 8, 2)?;
        let method = le(bytes, at + 10, 2)? as u16;
        let crc32 = le(bytes, at + 16, 4)? as u32;
        let mut compressed = le(bytes, at + 20, 4)?;
        let mut size = le(bytes, at + 24, 4)?;
        let name_len = le(bytes, at + 28, 2)? as usize;
        let extra_len = le(bytes, at + 30, 2)? as usize;
        let comment_len = le(bytes, at + 32, 2)? as usize;
        let mut local = le(bytes, at + 42, 4)?;
        let name_end = at + 46 + name_len;
        let next = name_end + extra_len + comment_len;
        if next > cd_end {
            return Err(format!(
                "central directory entry {i} runs past the directory's end"
            ));
        }
        let name = std::str::from_utf8(&bytes[at + 46..name_end])
            .map_err(|_| format!("member {i}'s name is not UTF-8"))?
            .to_string();
        // zip64 extended information: the 64-bit values of the fields set to all ones
        let mut extra = &bytes[name_end..name_end + extra_len];
        while extra.len() >= 4 {
            let id = le(extra, 0, 2)?;
            let len = le(extra, 2, 2)? as usize;
            let body = extra.get(4..4 + len).ok_or_else(|| {
                format!("{name}: an extra field runs past the entry's extra data")
            })?;
            if id == 1 {
                let mut k = 0;
                for field in [&mut size, &mut compressed, &mut local] {
                    if *field == 0xffff_ffff {
                        *field = le(body, k, 8).map_err(|e| format!("{name}: zip64 field: {e}"))?;
                        k += 8;
                    }
                }
            }
            extra = &extra[4 + len..];
        }
        if flags & 1 != 0 {
            return Err(format!("{name}: encrypted members are not supported"));
        }
        if method != 0 && method != 8 {
            return Err(format!(
                "{name}: compression method {method} is not supported (stored and deflate are: np.savez and np.savez_compressed)"
            ));
        }
        let local = to_usize(local, "local header offset")?;
        if le(bytes, local, 4)? != 0x0403_4b50 {
            return Err(format!("{name}: no local header at offset {local}"));
        }
        let start = local
            .checked_add(
                30 + le(bytes, local + 26, 2)? as usize + le(bytes, local + 28, 2)? as usize,
            )
            .ok_or("offset overflow")?;
        let compressed = to_usize(compressed, "compressed size")?;
        let size = to_usize(size, "size")?;
        if start
            .checked_add(compressed)
            .is_none_or(|end| end > bytes.len())
        {
            return Err(format!(
                "{name}: its {compressed} bytes of data at offset {start} run past the end of the file ({} bytes)",
                bytes.len()
            ));
        }
        if method == 0 && compressed != size {
            return Err(format!(
                "{name}: stored uncompressed, yet {compressed} bytes in the archive and {size} bytes of content"
            ));
        }
        members.push(Member {
            name,
            method,
            crc32,
            compressed,
            start,
            size,
        });
        at = next;
    }
    Ok(members)
}

/// A `.npy` header: the array's type, layout and shape, and where its data starts.
#[derive(Debug)]
struct NpyHeader {
    descr: String,
    fortran_order: bool,
    shape: Vec<usize>,
    data_offset: usize,
}

impl NpyHeader {
    /// The safetensors name of the element type (`F32`, `F64`), or NumPy's descriptor for any
    /// other type (shown as found in a mismatch).
    fn dtype(&self) -> String {
        match &self.descr[..] {
            "<f4" | ">f4" | "=f4" => "F32".into(),
            "<f8" | ">f8" | "=f8" => "F64".into(),
            other => format!("numpy '{other}'"),
        }
    }

    /// Decodes `data` (exactly the array's bytes, of dtype `F32` or `F64`) in C order.
    fn values(&self, data: &[u8]) -> Values {
        let big = self.descr.starts_with('>');
        let v = if self.dtype() == "F64" {
            Values::F64(
                data.chunks_exact(8)
                    .map(|c| {
                        let b: [u8; 8] = c.try_into().unwrap_or_default();
                        if big {
                            f64::from_be_bytes(b)
                        } else {
                            f64::from_le_bytes(b)
                        }
                    })
                    .collect(),
            )
        } else {
            Values::F32(
                data.chunks_exact(4)
                    .map(|c| {
                        let b: [u8; 4] = c.try_into().unwrap_or_default();
                        if big {
                            f32::from_be_bytes(b)
                        } else {
                            f32::from_le_bytes(b)
                        }
                    })
                    .collect(),
            )
        };
        if self.fortran_order && self.shape.len() > 1 {
            match v {
                Values::F32(x) => Values::F32(c_order(&x, &self.shape)),
                Values::F64(x) => Values::F64(c_order(&x, &self.shape)),
            }
        } else {
            v
        }
    }
}

/// The elements of a Fortran-order (column-major) array of `shape` in C (row-major) order.
fn c_order<T: Copy>(f: &[T], shape: &[usize]) -> Vec<T> {
    let mut out = Vec::with_capacity(f.len());
    let mut index = vec![0usize; shape.len()];
    for _ in 0..f.len() {
        // offset of `index` in column-major order: the first dimension varies fastest
        let offset = index
            .iter()
            .zip(shape)
            .rev()
            .fold(0, |acc, (&i, &d)| acc * d + i);
        out.push(f[offset]);
        // next C-order index: the last dimension varies fastest
        for (i, &d) in index.iter_mut().zip(shape).rev() {
            *i += 1;
            if *i < d {
                break;
            }
            *i = 0;
        }
    }
    out
}

/// Parses the header at the start of a `.npy` file (`bytes` may be cut after the header).
fn npy_header(bytes: &[u8]) -> std::result::Result<NpyHeader, String> {
    if bytes.len() < 10 || &bytes[..6] != b"\x93NUMPY" {
        return Err("not a .npy array (no \\x93NUMPY magic)".into());
    }
    let (len, start): (usize, usize) = match bytes[6] {
        1 => (le(bytes, 8, 2)? as usize, 10),
        2 | 3 => (to_usize(le(bytes, 8, 4)?, "header length")?, 12),
        v => {
            return Err(format!(
                ".npy format version {v}.{} is not supported",
                bytes[7]
            ))
        }
    };
    let end = start
        .checked_add(len)
        .filter(|&e| e <= bytes.len())
        .ok_or_else(|| {
            format!(
                "the .npy header ({len} bytes) is longer than the member or than {HEADER_CAP} bytes"
            )
        })?;
    let text = std::str::from_utf8(&bytes[start..end])
        .map_err(|_| "the .npy header is not text".to_string())?;
    let mut p = Literal { s: text, at: 0 };
    let (mut descr, mut fortran_order, mut shape) = (None, None, None);
    p.expect('{')?;
    loop {
        if p.eat('}') {
            break;
        }
        let key = p.string()?;
        p.expect(':')?;
        match &key[..] {
            "descr" => descr = Some(p.string()?),
            "fortran_order" => fortran_order = Some(p.boolean()?),
            "shape" => shape = Some(p.tuple()?),
            other => return Err(format!("unexpected key '{other}' in the .npy header")),
        }
        if !p.eat(',') {
            p.expect('}')?;
            break;
        }
    }
    let missing = |k: &str| format!("the .npy header has no '{k}'");
    let shape = shape.ok_or_else(|| missing("shape"))?;
    shape
        .iter()
        .try_fold(1usize, |acc, &d| acc.checked_mul(d))
        .and_then(|n| n.checked_mul(8))
        .ok_or_else(|| format!("shape {shape:?} overflows"))?;
    Ok(NpyHeader {
        descr: descr.ok_or_else(|| missing("descr"))?,
        fortran_order: fortran_order.ok_or_else(|| missing("fortran_order"))?,
        shape,
        data_offset: end,
    })
}

/// A cursor over the Python literal of a `.npy` header: a dict of strings, booleans and a
/// tuple of integers.
struct Literal<'a> {
    s: &'a str,
    at: usize,
}

impl Literal<'_> {
    fn rest(&self) -> &str {
        &self.s[self.at..]
    }

    fn skip_space(&mut self) {
        let rest = self.rest();
        self.at += rest.len() - rest.trim_start().len();
    }

    fn eat(&mut self, c: char) -> bool {
        self.skip_space();
        if self.rest().starts_with(c) {
            self.at += c.len_utf8();
            true
        } else {
            false
        }
    }

    fn expect(&mut self, c: char) -> std::result::Result<(), String> {
        if self.eat(c) {
            Ok(())
        } else {
            Err(format!(
                "malformed .npy header: expected `{c}` at byte {} of {:?}",
                self.at, self.s
            ))
        }
    }

    fn string(&mut self) -> std::result::Result<String, String> {
        self.skip_space();
        let quote = match self.rest().chars().next() {
            Some(q @ ('\'' | '"')) => q,
            _ => {
                return Err(format!(
                    "malformed .npy header: expected a string in {:?}",
                    self.s
                ))
            }
        };
        let body = &self.rest()[1..];
        let close = body
            .find(quote)
            .ok_or_else(|| format!("malformed .npy header: unterminated string in {:?}", self.s))?;
        let out = body[..close].to_string();
        self.at += close + 2;
        Ok(out)
    }

    fn boolean(&mut self) -> std::result::Result<bool, String> {
        self.skip_space();
        for (word, value) in [("True", true), ("False", false)] {
            if self.rest().starts_with(word) {
                self.at += word.len();
                return Ok(value);
            }
        }
        Err(format!(
            "malformed .npy header: fortran_order is not True or False in {:?}",
            self.s
        ))
    }

    fn tuple(&mut self) -> std::result::Result<Vec<usize>, String> {
        self.expect('(')?;
        let mut dims = Vec::new();
        loop {
            if self.eat(')') {
                return Ok(dims);
            }
            self.skip_space();
            let digits = self.rest().len()
                - self
                    .rest()
                    .trim_start_matches(|c: char| c.is_ascii_digit())
                    .len();
            let d = self.rest()[..digits]
                .parse::<usize>()
                .map_err(|_| format!("malformed .npy header: bad shape in {:?}", self.s))?;
            self.at += digits;
            dims.push(d);
            if !self.eat(',') {
                self.expect(')')?;
                return Ok(dims);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fortran_order_is_transposed_to_c_order() {
        // [[1, 2, 3], [4, 5, 6]] stored column by column
        let f = [1, 4, 2, 5, 3, 6];
        assert_eq!(c_order(&f, &[2, 3]), vec![1, 2, 3, 4, 5, 6]);
        // shape (2, 2, 2): element (i, j, k) at i + 2j + 4k in column-major order
        let f: Vec<usize> = (0..8).collect();
        let c = c_order(&f, &[2, 2, 2]);
        let mut want = Vec::new();
        for i in 0..2 {
            for j in 0..2 {
                for k in 0..2 {
                    want.push(i + 2 * j + 4 * k);
                }
            }
        }
        assert_eq!(c, want);
    }

    #[test]
    fn headers_numpy_writes_parse() {
        let h = |text: &str| {
            let mut b = b"\x93NUMPY\x01\x00".to_vec();
            b.extend((text.len() as u16).to_le_bytes());
            b.extend(text.as_bytes());
            npy_header(&b)
        };
        let ok = h("{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }    \n").unwrap();
        assert_eq!((ok.descr.as_str(), ok.fortran_order), ("<f4", false));
        assert_eq!(ok.shape, vec![3, 4]);
        assert_eq!(
            h("{'descr': '<f8', 'fortran_order': True, 'shape': (5,)}")
                .unwrap()
                .shape,
            vec![5]
        );
        assert_eq!(
            h("{'descr': '<f8', 'fortran_order': False, 'shape': ()}")
                .unwrap()
                .shape,
            Vec::<usize>::new()
        );
        for bad in [
            "{'descr': '<f4', 'shape': (3,)}",
            "{'descr': '<f4', 'fortran_order': Maybe, 'shape': (3,)}",
            "{'descr': '<f4', 'fortran_order': False, 'shape': (3, x)}",
            "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), 'extra': 1}",
            "{'descr: '<f4'",
            "{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296, 4294967296)}",
        ] {
            assert!(h(bad).is_err(), "{bad}");
        }
    }
}
