//! BagIt (RFC 8493) as a volume is packed: every payload file by reference to its content
//! address (`fetch.txt`), payload manifests in SHA-256 and SHA-512, tag manifests in both over
//! every other tag file, and `bag-info.txt` with the cover's fields and `Payload-Oxum`.
//!
//! Deterministic: the same bag writes the same bytes (payload sorted by path, tag files in a
//! fixed order, `\n` line endings, no clock). Parsing is bounded and strict: whatever is not in
//! the form this module writes is an error naming the file and line, never a guess.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use sha2::{Digest, Sha256, Sha512};

/// The bag declaration (RFC 8493 §2.1.1).
pub const BAGIT_TXT: &str = "BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n";

/// The tag files every bag of swi has, in the order they are written (tag manifests last).
pub const RESERVED: [&str; 7] = [
    "bagit.txt",
    "bag-info.txt",
    "fetch.txt",
    "manifest-sha256.txt",
    "manifest-sha512.txt",
    "tagmanifest-sha256.txt",
    "tagmanifest-sha512.txt",
];

/// The longest path accepted in a bag (bytes).
pub const MAX_PATH: usize = 240;

/// One payload file, stored elsewhere and named by its content address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PayloadFile {
    /// Its path in the bag (`data/…`).
    pub path: String,
    /// Its length in bytes.
    pub size: u64,
    /// SHA-256, lowercase hex.
    pub sha256: String,
    /// SHA-512, lowercase hex.
    pub sha512: String,
    /// Where it is fetched from (`fetch.txt`).
    pub url: String,
}

/// A bag before it is written: its `bag-info.txt` fields in order (without `Payload-Oxum`,
/// which is counted), its payload, and tag files of its own.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Bag {
    /// Labels and values of `bag-info.txt`, in order.
    pub info: Vec<(String, String)>,
    /// The payload (any order: written sorted by path).
    pub payload: Vec<PayloadFile>,
    /// Other tag files (name, bytes), written sorted by name before the tag manifests.
    pub tags: Vec<(String, Vec<u8>)>,
}

/// What is wrong with a bag or with its writing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BagError {
    /// A path outside `data/`, with `..`, control characters or too long.
    #[error("bad path `{0}`")]
    Path(String),
    /// The same path twice.
    #[error("`{0}` is listed twice")]
    Duplicate(String),
    /// A `bag-info.txt` label or value that cannot be written or read.
    #[error("bag-info.txt: {0}")]
    Info(String),
    /// A line of a tag file that is not in its form.
    #[error("{file} line {line}: {why}")]
    Line {
        /// The tag file.
        file: String,
        /// Its line, from 1.
        line: usize,
        /// What is wrong.
        why: String,
    },
    /// A reserved tag file is missing.
    #[error("no {0}")]
    Missing(String),
    /// A digest that is not lowercase hex of its length.
    #[error("`{0}` is not a digest")]
    Digest(String),
}

/// Checks a path as a bag may hold it: relative, `/`-separated, no empty, `.` or `..` segment,
/// no control character or backslash, at most [`MAX_PATH`] bytes.
///
/// # Errors
/// [`BagError::Path`].
pub fn check_path(path: &str) -> Result<(), BagError> {
    let bad = path.is_empty()
        || path.len() > MAX_PATH
        || path.starts_with('/')
        || path.contains('\\')
        || path.chars().any(char::is_control)
        || path
            .split('/')
            .any(|s| s.is_empty() || s == "." || s == "..");
    if bad {
        Err(BagError::Path(path.chars().take(80).collect()))
    } else {
        Ok(())
    }
}

/// A path as manifests and `fetch.txt` write it (§2.1.3: `%`, CR and LF percent-encoded).
#[must_use]
pub fn encode_path(path: &str) -> String {
    path.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// A path as manifests write it, decoded.
#[must_use]
pub fn decode_path(path: &str) -> String {
    path.replace("%0D", "\r")
        .replace("%0d", "\r")
        .replace("%0A", "\n")
        .replace("%0a", "\n")
        .replace("%25", "%")
}

fn check_hex(h: &str, len: usize) -> Result<(), BagError> {
    if h.len() == len
        && h.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        Ok(())
    } else {
        Err(BagError::Digest(h.chars().take(140).collect()))
    }
}

fn check_label(label: &str, value: &str) -> Result<(), BagError> {
    if label.is_empty()
        || label.contains(':')
        || label.trim() != label
        || label.chars().any(char::is_control)
    {
        return Err(BagError::Info(format!("bad label `{label}`")));
    }
    if value.chars().any(char::is_control) || value.trim() != value {
        return Err(BagError::Info(format!("bad value of `{label}`")));
    }
    Ok(())
}

/// `Payload-Oxum`: total octets and the number of files.
#[must_use]
pub fn oxum(payload: &[PayloadFile]) -> String {
    let octets: u64 = payload.iter().map(|f| f.size).sum();
    format!("{octets}.{}", payload.len())
}

/// A manifest of `files` (name, bytes) in `alg`'s hex digests, one `digest path` line each.
fn tag_manifest<D: Digest>(files: &[(String, Vec<u8>)]) -> Vec<u8> {
    let mut out = String::new();
    for (name, bytes) in files {
        let _ = writeln!(
            out,
            "{}  {}",
            hex::encode(D::digest(bytes)),
            encode_path(name)
        );
    }
    out.into_bytes()
}

impl Bag {
    /// Every file of the bag (name, bytes), in the order they are written: `bagit.txt`,
    /// `bag-info.txt`, `fetch.txt`, the payload manifests, the bag's own tag files by name, and
    /// the tag manifests over all of those.
    ///
    /// # Errors
    /// A bad path, label, value or digest; a path twice.
    pub fn files(&self) -> Result<Vec<(String, Vec<u8>)>, BagError> {
        let mut payload: Vec<&PayloadFile> = self.payload.iter().collect();
        payload.sort_by(|a, b| a.path.cmp(&b.path));
        for pair in payload.windows(2) {
            if pair[0].path == pair[1].path {
                return Err(BagError::Duplicate(pair[0].path.clone()));
            }
        }
        let (mut fetch, mut m256, mut m512) = (String::new(), String::new(), String::new());
        for f in &payload {
            check_path(&f.path)?;
            if !f.path.starts_with("data/") {
                return Err(BagError::Path(f.path.clone()));
            }
            check_hex(&f.sha256, 64)?;
            check_hex(&f.sha512, 128)?;
            if f.url.is_empty() || f.url.chars().any(|c| c.is_whitespace() || c.is_control()) {
                return Err(BagError::Path(f.url.chars().take(80).collect()));
            }
            let path = encode_path(&f.path);
            let _ = writeln!(fetch, "{} {} {path}", f.url, f.size);
            let _ = writeln!(m256, "{}  {path}", f.sha256);
            let _ = writeln!(m512, "{}  {path}", f.sha512);
        }
        let mut info = String::new();
        for (label, value) in &self.info {
            check_label(label, value)?;
            if label.eq_ignore_ascii_case("Payload-Oxum") {
                return Err(BagError::Info("Payload-Oxum is counted, not given".into()));
            }
            let _ = writeln!(info, "{label}: {value}");
        }
        let owned: Vec<PayloadFile> = payload.iter().map(|f| (*f).clone()).collect();
        let _ = writeln!(info, "Payload-Oxum: {}", oxum(&owned));
        let mut files = vec![
            ("bagit.txt".to_owned(), BAGIT_TXT.as_bytes().to_vec()),
            ("bag-info.txt".to_owned(), info.into_bytes()),
            ("fetch.txt".to_owned(), fetch.into_bytes()),
            ("manifest-sha256.txt".to_owned(), m256.into_bytes()),
            ("manifest-sha512.txt".to_owned(), m512.into_bytes()),
        ];
        let mut own: Vec<&(String, Vec<u8>)> = self.tags.iter().collect();
        own.sort_by(|a, b| a.0.cmp(&b.0));
        for (name, bytes) in own {
            check_path(name)?;
            if RESERVED.contains(&name.as_str())
                || name.starts_with("data/")
                || name.starts_with("manifest-")
                || name.starts_with("tagmanifest-")
            {
                return Err(BagError::Path(name.clone()));
            }
            if files.iter().any(|(n, _)| n == name) {
                return Err(BagError::Duplicate(name.clone()));
            }
            files.push((name.clone(), bytes.clone()));
        }
        let t256 = tag_manifest::<Sha256>(&files);
        let t512 = tag_manifest::<Sha512>(&files);
        files.push(("tagmanifest-sha256.txt".to_owned(), t256));
        files.push(("tagmanifest-sha512.txt".to_owned(), t512));
        Ok(files)
    }
}

/// One line of `fetch.txt`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchLine {
    /// Where the file is.
    pub url: String,
    /// Its length, or `None` for `-`.
    pub size: Option<u64>,
    /// Its path in the bag.
    pub path: String,
}

/// A bag's tag files as read, each in its form; what they say about each other is for the
/// checks to compare.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ParsedBag {
    /// `bagit.txt` is exactly the declaration this module writes.
    pub declaration_ok: bool,
    /// `bag-info.txt`: labels and values in order.
    pub info: Vec<(String, String)>,
    /// `fetch.txt` lines.
    pub fetch: Vec<FetchLine>,
    /// Payload manifests by algorithm (`sha256`, `sha512`): path → digest.
    pub manifests: BTreeMap<String, BTreeMap<String, String>>,
    /// Tag manifests by algorithm: path → digest.
    pub tag_manifests: BTreeMap<String, BTreeMap<String, String>>,
    /// Every tag file read (name, bytes), tag manifests included.
    pub tag_files: BTreeMap<String, Vec<u8>>,
}

impl ParsedBag {
    /// The first value of `label` in `bag-info.txt` (labels compare without case, §2.2.2).
    #[must_use]
    pub fn info_value(&self, label: &str) -> Option<&str> {
        self.info
            .iter()
            .find(|(l, _)| l.eq_ignore_ascii_case(label))
            .map(|(_, v)| v.as_str())
    }
}

fn text<'a>(name: &str, bytes: &'a [u8]) -> Result<&'a str, BagError> {
    std::str::from_utf8(bytes).map_err(|_| BagError::Line {
        file: name.to_owned(),
        line: 0,
        why: "not UTF-8".into(),
    })
}

fn lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.split('\n')
        .enumerate()
        .map(|(i, l)| (i + 1, l.strip_suffix('\r').unwrap_or(l)))
        .filter(|(_, l)| !l.is_empty())
}

fn manifest(name: &str, bytes: &[u8], len: usize) -> Result<BTreeMap<String, String>, BagError> {
    let mut out = BTreeMap::new();
    for (n, l) in lines(text(name, bytes)?) {
        let bad = |why: &str| BagError::Line {
            file: name.to_owned(),
            line: n,
            why: why.to_owned(),
        };
        let (digest, path) = l
            .split_once(char::is_whitespace)
            .ok_or_else(|| bad("no path"))?;
        let path = decode_path(path.trim_start());
        let digest = digest.to_ascii_lowercase();
        check_hex(&digest, len).map_err(|_| bad("not a digest of this algorithm"))?;
        check_path(&path).map_err(|_| bad("bad path"))?;
        if out.insert(path, digest).is_some() {
            return Err(bad("a path listed twice"));
        }
    }
    Ok(out)
}

/// Reads a bag's tag files (name → bytes). Every reserved file must be there; each must be in
/// its form.
///
/// # Errors
/// The first file or line that is not.
pub fn parse(files: &BTreeMap<String, Vec<u8>>) -> Result<ParsedBag, BagError> {
    let get = |name: &str| {
        files
            .get(name)
            .ok_or_else(|| BagError::Missing(name.to_owned()))
    };
    let mut bag = ParsedBag {
        declaration_ok: get("bagit.txt")?.as_slice() == BAGIT_TXT.as_bytes(),
        tag_files: files.clone(),
        ..ParsedBag::default()
    };
    for (n, l) in lines(text("bag-info.txt", get("bag-info.txt")?)?) {
        let (label, value) = l.split_once(':').ok_or_else(|| BagError::Line {
            file: "bag-info.txt".into(),
            line: n,
            why: "no `label: value`".into(),
        })?;
        bag.info
            .push((label.trim().to_owned(), value.trim().to_owned()));
    }
    for (n, l) in lines(text("fetch.txt", get("fetch.txt")?)?) {
        let bad = |why: &str| BagError::Line {
            file: "fetch.txt".into(),
            line: n,
            why: why.to_owned(),
        };
        let mut parts = l.splitn(3, ' ');
        let (Some(url), Some(size), Some(path)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(bad("no `url length path`"));
        };
        let size = if size == "-" {
            None
        } else {
            Some(size.parse().map_err(|_| bad("bad length"))?)
        };
        let path = decode_path(path);
        check_path(&path).map_err(|_| bad("bad path"))?;
        bag.fetch.push(FetchLine {
            url: url.to_owned(),
            size,
            path,
        });
    }
    for (alg, len) in [("sha256", 64), ("sha512", 128)] {
        let name = format!("manifest-{alg}.txt");
        bag.manifests
            .insert(alg.to_owned(), manifest(&name, get(&name)?, len)?);
        let name = format!("tagmanifest-{alg}.txt");
        bag.tag_manifests
            .insert(alg.to_owned(), manifest(&name, get(&name)?, len)?);
    }
    Ok(bag)
}

/// The hex digest of `bytes` in `alg` (`sha256` or `sha512`).
#[must_use]
pub fn digest_hex(alg: &str, bytes: &[u8]) -> Option<String> {
    match alg {
        "sha256" => Some(hex::encode(Sha256::digest(bytes))),
        "sha512" => Some(hex::encode(Sha512::digest(bytes))),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(path: &str, body: &[u8]) -> PayloadFile {
        PayloadFile {
            path: path.into(),
            size: body.len() as u64,
            sha256: digest_hex("sha256", body).unwrap(),
            sha512: digest_hex("sha512", body).unwrap(),
            url: format!(
                "swi://documents/sha256/{}",
                digest_hex("sha256", body).unwrap()
            ),
        }
    }

    fn bag() -> Bag {
        Bag {
            info: vec![
                (
                    "Source-Organization".into(),
                    "赣州市社会保险事业管理局".into(),
                ),
                ("External-Identifier".into(), "Z01-GS·2026-D50-0001".into()),
            ],
            payload: vec![
                file("data/0002/申领表.pdf", b"%PDF-1.4 b"),
                file("data/0001/scan 1.png", b"\x89PNG a"),
            ],
            tags: vec![("volume.json".into(), b"{}".to_vec())],
        }
    }

    #[test]
    fn the_same_bag_writes_the_same_bytes_in_its_order() {
        let a = bag().files().unwrap();
        let mut shuffled = bag();
        shuffled.payload.reverse();
        assert_eq!(a, shuffled.files().unwrap());
        let names: Vec<&str> = a.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names,
            [
                "bagit.txt",
                "bag-info.txt",
                "fetch.txt",
                "manifest-sha256.txt",
                "manifest-sha512.txt",
                "volume.json",
                "tagmanifest-sha256.txt",
                "tagmanifest-sha512.txt"
            ]
        );
        let info = String::from_utf8(a[1].1.clone()).unwrap();
        assert!(info.ends_with("Payload-Oxum: 16.2\n"), "{info}");
        let m = String::from_utf8(a[3].1.clone()).unwrap();
        assert!(
            m.lines()
                .next()
                .unwrap_or("")
                .ends_with("  data/0001/scan 1.png"),
            "{m}"
        );
    }

    #[test]
    fn what_is_written_reads_back() {
        let files: BTreeMap<String, Vec<u8>> = bag().files().unwrap().into_iter().collect();
        let parsed = parse(&files).unwrap();
        assert!(parsed.declaration_ok);
        assert_eq!(parsed.info_value("payload-oxum"), Some("16.2"));
        assert_eq!(parsed.fetch.len(), 2);
        assert_eq!(parsed.manifests["sha512"].len(), 2);
        // The tag manifests cover every tag file but themselves.
        let covered: Vec<&String> = parsed.tag_manifests["sha256"].keys().collect();
        assert_eq!(covered.len(), 6, "{covered:?}");
        for (name, digest) in &parsed.tag_manifests["sha256"] {
            assert_eq!(digest_hex("sha256", &files[name]).as_ref(), Some(digest));
        }
    }

    #[test]
    fn paths_outside_the_payload_or_climbing_out_are_refused() {
        for bad in [
            "../etc/passwd",
            "/data/x",
            "data//x",
            "data/./x",
            "data\\x",
            "data/a\u{7}",
        ] {
            assert!(check_path(bad).is_err(), "{bad}");
        }
        let mut b = bag();
        b.payload[0].path = "notdata/x".into();
        assert!(matches!(b.files(), Err(BagError::Path(_))));
        let mut b = bag();
        b.payload.push(b.payload[0].clone());
        assert!(matches!(b.files(), Err(BagError::Duplicate(_))));
        let mut b = bag();
        b.tags.push(("manifest-md5.txt".into(), vec![]));
        assert!(b.files().is_err());
        let mut b = bag();
        b.info.push(("Payload-Oxum".into(), "1.1".into()));
        assert!(b.files().is_err());
        let mut b = bag();
        b.info.push(("Title".into(), "two\nlines".into()));
        assert!(b.files().is_err());
    }

    #[test]
    fn percent_and_newlines_in_paths_are_encoded_both_ways() {
        let p = "data/100%\r\n.png";
        assert_eq!(encode_path(p), "data/100%25%0D%0A.png");
        assert_eq!(decode_path(&encode_path(p)), p);
    }

    #[test]
    fn a_line_out_of_form_is_named() {
        let mut files: BTreeMap<String, Vec<u8>> = bag().files().unwrap().into_iter().collect();
        files.insert("manifest-sha256.txt".into(), b"abc  data/x\n".to_vec());
        assert_eq!(
            parse(&files),
            Err(BagError::Line {
                file: "manifest-sha256.txt".into(),
                line: 1,
                why: "not a digest of this algorithm".into()
            })
        );
        files.remove("fetch.txt");
        assert!(matches!(parse(&files), Err(BagError::Missing(_))));
    }
}
