//! The lock of a checkpoint directory: one writing run at a time.

use crate::{Error, Result};
use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The lock file's name inside a locked directory.
pub const LOCK_FILE: &str = "lock";

/// An exclusive lock on a checkpoint directory, held while it lives:
/// [`Fit::backup`](crate::train::Fit::backup) takes one for the whole run, so that a second run on the same
/// directory fails at once instead of overwriting the first one's states.
///
/// The lock is the operating system's advisory lock on `DIR/lock` (`flock` on Unix), which the
/// system releases when the process ends, however it ends: the lock of a killed run is stale
/// and the next run takes it over. The file records who holds it (process id, host, start
/// time) for the message a refused run prints; it stays in the directory after the run.
///
/// # Example
/// ```
/// use typenet::checkpoint::DirLock;
/// # fn main() -> typenet::Result<()> {
/// let dir = std::env::temp_dir().join(format!("typenet-doc-lock-{}", std::process::id()));
/// let held = DirLock::acquire(&dir)?;
/// let err = DirLock::acquire(&dir).unwrap_err();
/// assert!(err.to_string().contains(&format!("pid {}", std::process::id())));
/// drop(held);
/// DirLock::acquire(&dir)?; // free again
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct DirLock {
    dir: PathBuf,
    // the lock lives as long as this handle
    _file: File,
}

impl DirLock {
    /// Locks `dir` (created if absent) for this process, taking over a lock whose holder has
    /// ended.
    ///
    /// # Errors
    /// [`Error::CheckpointLocked`] naming the process (id, host, start time) that holds it;
    /// [`Error::Io`] if the directory or its lock file cannot be created.
    pub fn acquire(dir: impl AsRef<Path>) -> Result<Self> {
        let dir = dir.as_ref();
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        let path = dir.join(LOCK_FILE);
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|e| Error::io(&path, e))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                return Err(Error::CheckpointLocked {
                    dir: dir.to_path_buf(),
                    holder: holder(&mut file),
                })
            }
            Err(TryLockError::Error(e)) => return Err(Error::io(&path, e)),
        }
        // ours now (whatever an ended run left in it is stale): say who holds it
        let started = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs();
        let text = format!(
            "pid {} on host {}, started at {} (Unix time {started})\n",
            std::process::id(),
            host_name(),
            utc(started)
        );
        file.set_len(0)
            .and_then(|()| file.seek(SeekFrom::Start(0)))
            .and_then(|_| file.write_all(text.as_bytes()))
            .and_then(|()| file.sync_all())
            .map_err(|e| Error::io(&path, e))?;
        Ok(DirLock {
            dir: dir.to_path_buf(),
            _file: file,
        })
    }

    /// The locked directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

/// What the lock file says of its holder (which may be writing it at this moment: a few
/// tries).
fn holder(file: &mut File) -> String {
    for _ in 0..20 {
        let mut text = String::new();
        if file.seek(SeekFrom::Start(0)).is_ok()
            && file.read_to_string(&mut text).is_ok()
            && text.ends_with('\n')
        {
            return text.trim().to_string();
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    "a process that has not yet written its details".into()
}

/// This machine's name, or `unknown` where it cannot be read.
fn host_name() -> String {
    ["/proc/sys/kernel/hostname", "/etc/hostname"]
        .iter()
        .find_map(|p| std::fs::read_to_string(p).ok())
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "unknown".into())
}

/// `secs` since the Unix epoch as `YYYY-MM-DD hh:mm:ss UTC`.
fn utc(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    // days to a civil date (Howard Hinnant's algorithm)
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02} UTC",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn utc_dates() {
        assert_eq!(super::utc(0), "1970-01-01 00:00:00 UTC");
        // 2000-02-29 12:34:56 UTC, a leap day
        assert_eq!(super::utc(951_827_696), "2000-02-29 12:34:56 UTC");
    }
}
