//! A bag's tag files as one stored object: a POSIX ustar archive under one base directory,
//! written the same way every time (files in the bag's order, mode 0444, owner 0, the volume's
//! own date as modification time), so that the same volume packs to the same bytes and its
//! SHA-256 is its identity. Reading is bounded before anything is allocated.

use std::collections::BTreeMap;
use std::io::Read;

/// Limits of a package read from a stored or handed-over file.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Most entries.
    pub entries: usize,
    /// Most bytes of one file.
    pub file_bytes: u64,
    /// Most bytes of all files.
    pub total_bytes: u64,
}

/// The limits of a volume's package: a volume of 10,000 items has tag files of a few MB.
pub const PACKAGE_LIMITS: Limits = Limits {
    entries: 32,
    file_bytes: 64 << 20,
    total_bytes: 256 << 20,
};

/// What is wrong with a package.
#[derive(Debug, thiserror::Error)]
pub enum PackageError {
    /// The base directory's name is not `[A-Za-z0-9._-]{1,90}`.
    #[error("bad base directory `{0}`")]
    Base(String),
    /// An entry that is not a regular file directly in the base directory (or the base itself).
    #[error("unexpected entry `{0}`")]
    Entry(String),
    /// Over a limit.
    #[error("the package is larger than allowed ({0})")]
    TooLarge(&'static str),
    /// The same file twice.
    #[error("`{0}` twice")]
    Duplicate(String),
    /// Not a tar archive, or cut short.
    #[error("not a readable package: {0}")]
    Io(#[from] std::io::Error),
}

fn check_base(base: &str) -> Result<(), PackageError> {
    let ok = (1..=90).contains(&base.len())
        && base
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
        && !base.starts_with('.');
    if ok {
        Ok(())
    } else {
        Err(PackageError::Base(base.chars().take(90).collect()))
    }
}

/// Packs `files` (name, bytes; names as the bag has them, without directories) under `base/`,
/// with `mtime` (seconds since the epoch) on every entry.
///
/// # Errors
/// A bad base or file name; writing to memory does not fail otherwise.
pub fn pack(base: &str, mtime: u64, files: &[(String, Vec<u8>)]) -> Result<Vec<u8>, PackageError> {
    check_base(base)?;
    let mut out = tar::Builder::new(Vec::new());
    let mut dir = tar::Header::new_ustar();
    dir.set_path(format!("{base}/"))?;
    dir.set_entry_type(tar::EntryType::Directory);
    dir.set_size(0);
    dir.set_mode(0o555);
    dir.set_mtime(mtime);
    dir.set_uid(0);
    dir.set_gid(0);
    dir.set_cksum();
    out.append(&dir, std::io::empty())?;
    for (name, bytes) in files {
        if name.is_empty()
            || name.contains('/')
            || name.starts_with('.')
            || name.len() > 90
            || !name.is_ascii()
        {
            return Err(PackageError::Entry(name.clone()));
        }
        let mut h = tar::Header::new_ustar();
        h.set_path(format!("{base}/{name}"))?;
        h.set_entry_type(tar::EntryType::Regular);
        h.set_size(bytes.len() as u64);
        h.set_mode(0o444);
        h.set_mtime(mtime);
        h.set_uid(0);
        h.set_gid(0);
        h.set_cksum();
        out.append(&h, bytes.as_slice())?;
    }
    Ok(out.into_inner()?)
}

/// Reads a package: its base directory's name and its files (name → bytes), within `limits`.
///
/// # Errors
/// Anything but regular files directly under one base directory; over a limit; not a tar.
pub fn unpack(
    bytes: &[u8],
    limits: Limits,
) -> Result<(String, BTreeMap<String, Vec<u8>>), PackageError> {
    let mut archive = tar::Archive::new(bytes);
    let mut base: Option<String> = None;
    let mut files = BTreeMap::new();
    let (mut count, mut total) = (0usize, 0u64);
    for entry in archive.entries()? {
        let mut entry = entry?;
        count += 1;
        if count > limits.entries + 1 {
            return Err(PackageError::TooLarge("entries"));
        }
        let path = String::from_utf8(entry.path_bytes().into_owned())
            .map_err(|_| PackageError::Entry("(not UTF-8)".into()))?;
        let kind = entry.header().entry_type();
        let (dir, name) = match path.trim_end_matches('/').split_once('/') {
            Some((d, n)) => (d.to_owned(), Some(n.to_owned())),
            None => (path.trim_end_matches('/').to_owned(), None),
        };
        check_base(&dir).map_err(|_| PackageError::Entry(path.chars().take(90).collect()))?;
        if base.get_or_insert_with(|| dir.clone()) != &dir {
            return Err(PackageError::Entry(path.chars().take(90).collect()));
        }
        match (kind, name) {
            (tar::EntryType::Directory, None) => {}
            (tar::EntryType::Regular, Some(name))
                if !name.contains('/') && !name.is_empty() && !name.starts_with('.') =>
            {
                let size = entry.header().size()?;
                if size > limits.file_bytes {
                    return Err(PackageError::TooLarge("file"));
                }
                total += size;
                if total > limits.total_bytes {
                    return Err(PackageError::TooLarge("total"));
                }
                // Read no more than the header says, and no more than the input holds: a
                // header claiming gigabytes allocates nothing it does not read.
                let mut body = Vec::new();
                (&mut entry).take(size).read_to_end(&mut body)?;
                if body.len() as u64 != size {
                    return Err(PackageError::Io(std::io::ErrorKind::UnexpectedEof.into()));
                }
                if files.insert(name.clone(), body).is_some() {
                    return Err(PackageError::Duplicate(name));
                }
            }
            _ => return Err(PackageError::Entry(path.chars().take(90).collect())),
        }
    }
    let base = base.ok_or(PackageError::Entry("(empty)".into()))?;
    Ok((base, files))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files() -> Vec<(String, Vec<u8>)> {
        vec![
            ("bagit.txt".into(), b"BagIt-Version: 1.0\n".to_vec()),
            ("bag-info.txt".into(), "Title: 案卷\n".as_bytes().to_vec()),
        ]
    }

    #[test]
    fn packing_twice_gives_the_same_bytes_and_reads_back() {
        let a = pack("v-0001", 1_780_000_000, &files()).unwrap();
        assert_eq!(a, pack("v-0001", 1_780_000_000, &files()).unwrap());
        let (base, read) = unpack(&a, PACKAGE_LIMITS).unwrap();
        assert_eq!(base, "v-0001");
        assert_eq!(read.into_iter().collect::<Vec<_>>().len(), 2);
    }

    #[test]
    fn hostile_packages_are_refused_within_their_limits() {
        // A header claiming more than the input holds.
        let mut a = pack("v", 0, &files()).unwrap();
        a.truncate(1024 + 10);
        assert!(unpack(&a, PACKAGE_LIMITS).is_err());
        // Too many entries.
        let many: Vec<(String, Vec<u8>)> = (0..40).map(|i| (format!("f{i}"), vec![])).collect();
        let a = pack("v", 0, &many).unwrap();
        assert!(matches!(
            unpack(&a, PACKAGE_LIMITS),
            Err(PackageError::TooLarge(_))
        ));
        // A file over the limit.
        let big = vec![("big".to_owned(), vec![0u8; 4096])];
        let a = pack("v", 0, &big).unwrap();
        let small = Limits {
            file_bytes: 1024,
            ..PACKAGE_LIMITS
        };
        assert!(matches!(unpack(&a, small), Err(PackageError::TooLarge(_))));
        // Names that climb out or hide.
        for name in ["../x", "a/b", ".hidden", ""] {
            assert!(
                pack("v", 0, &[(name.to_owned(), vec![])]).is_err(),
                "{name}"
            );
        }
        assert!(pack("../v", 0, &files()).is_err());
        assert!(unpack(b"not a tar at all, just words", PACKAGE_LIMITS).is_err());
    }

    #[test]
    fn entries_outside_one_base_are_refused() {
        let mut out = tar::Builder::new(Vec::new());
        for path in ["a/x", "b/y"] {
            let mut h = tar::Header::new_ustar();
            h.set_path(path).unwrap();
            h.set_size(1);
            h.set_cksum();
            out.append(&h, &b"z"[..]).unwrap();
        }
        let bytes = out.into_inner().unwrap();
        assert!(matches!(
            unpack(&bytes, PACKAGE_LIMITS),
            Err(PackageError::Entry(_))
        ));
    }
}
