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

    /// `"key": "12.30"`: a decimal as a JSON string.
    pub fn dec(&mut self, key: &str, value: Decimal) -> &mut Self {
        self.plain(key, value)
    }

    /// `"key": value` for numbers and booleans.
    pub fn raw(&mut self, key: &str, value: impl Display) -> &mut Self {
        self.key(key);
        let _ = write!(self.out, "{value}");
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

/// Appends `s` as a JSON string.
pub fn string(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    let bytes = s.as_bytes();
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
    fn objects_are_valid_json_with_escapes() {
        let mut out = Vec::new();
        let mut o = Obj::open(&mut out);
        o.str("a", "x\"y\\z\n\u{1}中")
            .raw("n", 3)
            .dec("d", Decimal::new(1230, 2))
            .obj("e", |e| {
                e.str("code", "c");
            })
            .list("l", [1, 2], |o, i| {
                o.raw("i", i);
            });
        o.close();
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(v["a"], "x\"y\\z\n\u{1}中");
        assert_eq!(v["d"], "12.30");
        assert_eq!(v["e"]["code"], "c");
        assert_eq!(v["l"][1]["i"], 2);
    }
}
