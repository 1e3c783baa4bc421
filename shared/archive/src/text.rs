//! Recognising a plain-text document as its bytes pass (a CSV declaration, a text export), which
//! no magic number names: every byte valid UTF-8 (a byte-order mark allowed), no control
//! character but tab, line feed and carriage return. Fed chunk by chunk, it keeps at most the
//! three bytes of a character split between chunks.

/// Follows a document's bytes and says whether they are text.
#[derive(Debug, Clone)]
pub struct TextSniffer {
    text: bool,
    pending: Vec<u8>,
    first_line: Vec<u8>,
    line_done: bool,
    seen: u64,
}

impl Default for TextSniffer {
    fn default() -> Self {
        TextSniffer {
            text: true,
            pending: Vec::new(),
            first_line: Vec::new(),
            line_done: false,
            seen: 0,
        }
    }
}

/// The longest first line looked at for a CSV's commas.
const FIRST_LINE: usize = 4096;

impl TextSniffer {
    /// Takes the next bytes.
    pub fn feed(&mut self, chunk: &[u8]) {
        if !self.text || chunk.is_empty() {
            return;
        }
        self.seen += chunk.len() as u64;
        if !self.line_done {
            let end = chunk
                .iter()
                .position(|&b| b == b'\n')
                .unwrap_or(chunk.len());
            let room = FIRST_LINE.saturating_sub(self.first_line.len());
            self.first_line.extend_from_slice(&chunk[..end.min(room)]);
            self.line_done = end < chunk.len() || self.first_line.len() >= FIRST_LINE;
        }
        let joined;
        let bytes = if self.pending.is_empty() {
            chunk
        } else {
            joined = [std::mem::take(&mut self.pending).as_slice(), chunk].concat();
            joined.as_slice()
        };
        let valid = match std::str::from_utf8(bytes) {
            Ok(s) => s,
            Err(e) if e.error_len().is_none() && bytes.len() - e.valid_up_to() <= 3 => {
                self.pending = bytes[e.valid_up_to()..].to_vec();
                // Valid up to there, by the error's own word.
                std::str::from_utf8(&bytes[..e.valid_up_to()]).unwrap_or_default()
            }
            Err(_) => {
                self.text = false;
                return;
            }
        };
        if valid
            .chars()
            .any(|c| (c.is_control() && !matches!(c, '\t' | '\n' | '\r')) || c == '\u{FFFE}')
        {
            self.text = false;
        }
    }

    /// `text/csv` (its first line has a comma or a tab), `text/plain`, or `None`: not text, or
    /// empty.
    #[must_use]
    pub fn kind(&self) -> Option<&'static str> {
        if !self.text || !self.pending.is_empty() || self.seen == 0 {
            return None;
        }
        if self.first_line.contains(&b',') || self.first_line.contains(&b'\t') {
            Some("text/csv")
        } else {
            Some("text/plain")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::TextSniffer;

    fn kind(chunks: &[&[u8]]) -> Option<&'static str> {
        let mut t = TextSniffer::default();
        for c in chunks {
            t.feed(c);
        }
        t.kind()
    }

    #[test]
    fn a_csv_split_inside_a_character_is_text() {
        let csv = "变动类型,姓名\n增,钱十三\n".as_bytes();
        assert_eq!(kind(&[csv]), Some("text/csv"));
        for at in 1..csv.len() {
            assert_eq!(kind(&[&csv[..at], &csv[at..]]), Some("text/csv"), "{at}");
        }
        assert_eq!(kind(&["\u{feff}说明\n".as_bytes()]), Some("text/plain"));
    }

    #[test]
    fn binary_control_characters_and_cut_characters_are_not_text() {
        assert_eq!(kind(&[b"a,b\x00c"]), None);
        assert_eq!(kind(&[b"\xff\xfe"]), None);
        assert_eq!(kind(&[&"钱".as_bytes()[..2]]), None);
        assert_eq!(kind(&[b"a\x1bb"]), None);
        assert_eq!(kind(&[b""]), None);
    }
}
