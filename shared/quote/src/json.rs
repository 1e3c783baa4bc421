//! A small writer for one JSON object per line, appending to a byte buffer without building an
//! intermediate tree (the answers are flat and their keys fixed, so this is both simple and fast).

use std::fmt::Display;
use std::io::Write;

use rust_decimal::Decimal;

/// Writes one JSON object into `out`.
pub struct Obj<'a> {
    out: &'a mut Vec<u8>,
    first: bool,
}

impl<'a> Obj<'a> {
    /// Opens an object.
    pub fn open(out: &'a mut Vec<u8>) -> Self {
        out.push(b'{');
        Obj { out, first: true }
    }

    fn key(&mut self, key: &str) {
        if !self.first {
            self.out.push(b',');
        }
        self.first = false;
        string(self.out, key);
        self.out.push(b':');
    }

    /// `"key": "value"` with JSON escaping.
    pub fn str(&mut self, key: &str, value: &str) -> &mut Self {
        self.key(key);
        string(self.out, value);
        self
    }

    /// `"key": "value"` for a value whose text needs no escaping (dates, decimals, identifiers).
    pub fn plain(&mut self, key: &str, value: impl Display) -> &mut Self {
        self.key(key);
        self.out.push(b'"');
        let _ = write!(self.out, "{value}");
        self.out.push(b'"');
        self
    }

    /// `"key": "YYYY-MM-DD"`.
    pub fn date(&mut self, key: &str, d: chrono::NaiveDate) -> &mut Self {
        use chrono::Datelike;
        self.key(key);
        let (y, m, day) = (d.year(), d.month(), d.day());
        if (0..=9999).contains(&y) {
            let y = y.unsigned_abs();
            let digit = |n: u32| b'0' + (n % 10) as u8;
            self.out.extend_from_slice(&[
                b'"',
                digit(y / 1000),
                digit(y / 100),
                digit(y / 10),
                digit(y),
                b'-',
                digit(m / 10),
                digit(m),
                b'-',
                digit(day / 10),
                digit(day),
                b'"',
            ]);
        } else {
            let _ = write!(self.out, "\"{d}\"");
        }
        self
    }

    /// `"key": "12.30"`: a decimal as a JSON string, with all the digits of its scale.
    pub fn dec(&mut self, key: &str, value: Decimal) -> &mut Self {
        self.key(key);
        self.out.push(b'"');
        let mantissa = value.mantissa();
        if mantissa < 0 {
            self.out.push(b'-');
        }
        let mut digits = [0u8; 40];
        let mut n = mantissa.unsigned_abs();
        let mut len = 0;
        let scale = value.scale() as usize;
        while n > 0 || len <= scale {
            digits[len] = b'0' + (n % 10) as u8;
            n /= 10;
            len += 1;
        }
        for i in (0..len).rev() {
            self.out.push(digits[i]);
            if i == scale && scale > 0 {
                self.out.push(b'.');
            }
        }
        self.out.push(b'"');
        self
    }

    /// `"key": 123`.
    pub fn int(&mut self, key: &str, value: i64) -> &mut Self {
        self.key(key);
        if value < 0 {
            self.out.push(b'-');
        }
        let mut digits = [0u8; 20];
        let mut n = value.unsigned_abs();
        let mut len = 0;
        loop {
            digits[len] = b'0' + (n % 10) as u8;
            n /= 10;
            len += 1;
            if n == 0 {
                break;
            }
        }
        self.out.extend(digits[..len].iter().rev());
        self
    }

    /// `"key": true`.
    pub fn bool(&mut self, key: &str, value: bool) -> &mut Self {
        self.key(key);
        self.out
            .extend_from_slice(if value { b"true" } else { b"false" });
        self
    }

    /// `"key": <json>` for already-serialized JSON.
    pub fn json(&mut self, key: &str, json: &str) -> &mut Self {
        self.key(key);
        self.out.extend_from_slice(json.as_bytes());
        self
    }

    /// `"key": {…}` filled by `f`.
    pub fn obj(&mut self, key: &str, f: impl FnOnce(&mut Obj<'_>)) -> &mut Self {
        self.key(key);
        let mut inner = Obj::open(self.out);
        f(&mut inner);
        inner.close();
        self
    }

    /// `"key": [{…}, …]`, one object per element, each filled by `f`.
    pub fn list<T>(
        &mut self,
        key: &str,
        items: impl IntoIterator<Item = T>,
        mut f: impl FnMut(&mut Obj<'_>, T),
    ) -> &mut Self {
        self.key(key);
        self.out.push(b'[');
        for (i, item) in items.into_iter().enumerate() {
            if i > 0 {
                self.out.push(b',');
            }
            let mut inner = Obj::open(self.out);
            f(&mut inner, item);
            inner.close();
        }
        self.out.push(b']');
        self
    }

    /// Closes the object.
    pub fn close(self) {
        self.out.push(b'}');
    }
}

const fn needs_escape(b: u8) -> bool {
    b < 0x20 || b == b'"' || b == b'\\'
}

/// Whether `bytes` can be copied into a JSON string as they are: most strings written (names,
/// citations, sources) need no escaping, so they are checked eight bytes at a time (SWAR: a byte
/// below 0x20, or equal to `"` or `\\`, sets the high bit of its lane).
fn clean(bytes: &[u8]) -> bool {
    const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
    const HIGH: u64 = u64::from_ne_bytes([0x80; 8]);
    const QUOTE: u64 = u64::from_ne_bytes([b'"'; 8]);
    const BACKSLASH: u64 = u64::from_ne_bytes([b'\\'; 8]);
    let zero_lane = |v: u64| v.wrapping_sub(ONES) & !v & HIGH;
    let mut chunks = bytes.chunks_exact(8);
    for chunk in &mut chunks {
        let mut lanes = [0u8; 8];
        lanes.copy_from_slice(chunk);
        let v = u64::from_ne_bytes(lanes);
        let below_space = v.wrapping_sub(ONES * 0x20) & !v & HIGH;
        if below_space | zero_lane(v ^ QUOTE) | zero_lane(v ^ BACKSLASH) != 0 {
            return false;
        }
    }
    chunks.remainder().iter().all(|&b| !needs_escape(b))
}

/// Appends `s` as a JSON string.
pub fn string(out: &mut Vec<u8>, s: &str) {
    let bytes = s.as_bytes();
    if clean(bytes) {
        out.reserve(bytes.len() + 2);
        out.push(b'"');
        out.extend_from_slice(bytes);
        out.push(b'"');
        return;
    }
    out.push(b'"');
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let escape: &[u8] = match b {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0..=0x1f => {
                out.extend_from_slice(&bytes[start..i]);
                let _ = write!(out, "\\u{b:04x}");
                start = i + 1;
                continue;
            }
            _ => continue,
        };
        out.extend_from_slice(&bytes[start..i]);
        out.extend_from_slice(escape);
        start = i + 1;
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fast_clean_check_agrees_with_the_byte_check() {
        for len in 0..40 {
            for bad in [b'"', b'\\', 0x1f, 0, b'\n'] {
                for at in 0..len {
                    let mut v = vec![b'a'; len];
                    v[at] = bad;
                    assert!(!clean(&v), "{v:?}");
                }
            }
            assert!(clean(&vec![b' '; len]));
            assert!(clean("中文字符串".repeat(len).as_bytes()));
            let mut v = vec![0x7f; len];
            v.extend_from_slice(&[0x21, 0x23, 0x5b, 0x5d, 0xff]);
            assert!(clean(&v));
        }
    }

    #[test]
    fn objects_are_valid_json_with_escapes() {
        let mut out = Vec::new();
        let mut o = Obj::open(&mut out);
        o.str("a", "x\"y\\z\n\u{1}中")
            .str(
                "long",
                "a string long enough to take the vectorized path 中文",
            )
            .date("day", chrono::NaiveDate::from_ymd_opt(2025, 2, 3).unwrap())
            .int("n", 3)
            .dec("d", Decimal::new(1230, 2))
            .dec("small", Decimal::new(-5, 3))
            .dec("whole", Decimal::new(35, 0))
            .int("i", -120)
            .int("z", 0)
            .bool("b", true)
            .obj("e", |e| {
                e.str("code", "c");
            })
            .list("l", [1, 2], |o, i| {
                o.int("i", i);
            });
        o.close();
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(v["a"], "x\"y\\z\n\u{1}中");
        assert_eq!(v["d"], "12.30");
        assert_eq!(v["day"], "2025-02-03");
        assert_eq!(v["small"], "-0.005");
        assert_eq!(v["whole"], "35");
        assert_eq!(
            (v["i"].as_i64(), v["z"].as_i64(), v["b"].as_bool()),
            (Some(-120), Some(0), Some(true))
        );
        assert_eq!(
            v["long"],
            "a string long enough to take the vectorized path 中文"
        );
        assert_eq!(v["e"]["code"], "c");
        assert_eq!(v["l"][1]["i"], 2);
    }
}
