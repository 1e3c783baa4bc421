//! The code quotes the procedures exactly: every Chinese quotation that a comment anywhere in
//! `shared/` or `functions/` attributes to an article (`Art. N: 原文…原文`) must stand, fragment by
//! fragment (`…` marks a cut), in that article of the text kept beside the golden cases
//! (`tests/regulation/procedures-ganshi-renshezi-2025-7.txt`, 赣市人社字〔2025〕7号).

#![allow(
    clippy::unwrap_used,
    reason = "a test fails loudly on what it does not expect"
)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// `一`…`五十一` as a number.
fn numeral(s: &str) -> Option<u16> {
    let digit = |c: char| "零一二三四五六七八九".chars().position(|d| d == c);
    let chars: Vec<char> = s.chars().collect();
    match chars.as_slice() {
        [u] if *u != '十' => digit(*u).map(|d| d as u16),
        ['十'] => Some(10),
        ['十', u] => digit(*u).map(|d| 10 + d as u16),
        [t, '十'] => digit(*t).map(|d| 10 * d as u16),
        [t, '十', u] => Some(10 * digit(*t)? as u16 + digit(*u)? as u16),
        _ => None,
    }
}

/// The articles of the procedures, whitespace removed, by number.
fn articles(text: &str) -> BTreeMap<u16, String> {
    let mut out = BTreeMap::new();
    let mut current: Option<u16> = None;
    for line in text.lines() {
        let t = line.trim_start_matches([' ', '\t', '\u{3000}']);
        if let Some(rest) = t.strip_prefix('第')
            && let Some(end) = rest.find('条')
            && let Some(n) = numeral(&rest[..end])
        {
            current = Some(n);
        } else if t.starts_with('第') && t.contains('章') {
            current = None;
            continue;
        }
        if let Some(n) = current {
            out.entry(n)
                .or_insert_with(String::new)
                .extend(line.chars().filter(|c| !c.is_whitespace()));
        }
    }
    out
}

/// A character that may stand inside a Chinese quotation.
fn quoted(c: char) -> bool {
    matches!(c,
        '\u{4e00}'..='\u{9fff}' | '\u{3000}'..='\u{303f}' | '\u{ff00}'..='\u{ffef}'
        | '“' | '”' | '‘' | '’' | '…' | '%' | '‰' | '.' | '0'..='9' | ' ')
}

fn is_han(c: char) -> bool {
    ('\u{4e00}'..='\u{9fff}').contains(&c)
}

/// A quotation: file, line, the articles it is attributed to, the text.
type Quotation = (String, usize, Vec<u16>, String);

/// Every quotation in the comments of `dir`.
fn quotations(dir: &Path) -> Vec<Quotation> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "rs") {
                files.push(p);
            }
        }
    }
    files.sort();
    let mut out = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        // Comment text, lines of one comment block joined (a quotation may wrap).
        let mut block = String::new();
        let mut starts: Vec<(usize, usize)> = Vec::new(); // (offset in block, line number)
        let mut flush = |block: &mut String, starts: &mut Vec<(usize, usize)>| {
            let mut from = 0;
            while let Some(i) = block[from..].find("Art. ") {
                let at = from + i;
                from = at + 5;
                let before = block[..at].trim_end().chars().next_back();
                if before.is_some_and(is_han) {
                    continue; // another document's article (民法典 Art. 202, 条例 Art. 39)
                }
                let rest = &block[at + 5..];
                // `Art. 26: …` or `Art. 17, 20: …` (the quotation stands in one of them).
                let list: String = rest
                    .chars()
                    .take_while(|c| c.is_ascii_digit() || *c == ',' || *c == ' ')
                    .collect();
                let list = list.trim_end();
                let Some(after) = rest[list.len()..].strip_prefix(": ") else {
                    continue;
                };
                let Ok(numbers) = list
                    .split(", ")
                    .map(str::parse::<u16>)
                    .collect::<Result<Vec<u16>, _>>()
                else {
                    continue;
                };
                let quote: String = after.chars().take_while(|c| quoted(*c)).collect();
                let quote = quote.trim().trim_end_matches(['.', ' ']).to_owned();
                if !quote.chars().next().is_some_and(is_han) {
                    continue;
                }
                let line = starts
                    .iter()
                    .rev()
                    .find(|(o, _)| *o <= at)
                    .map_or(0, |(_, l)| *l);
                out.push((file.display().to_string(), line, numbers, quote));
            }
            block.clear();
            starts.clear();
        };
        for (n, line) in text.lines().enumerate() {
            let t = line.trim_start();
            let comment = t
                .strip_prefix("//!")
                .or_else(|| t.strip_prefix("///"))
                .or_else(|| t.strip_prefix("//"))
                .or_else(|| line.find("// ").map(|i| &line[i + 3..]));
            match comment {
                Some(c) => {
                    starts.push((block.len(), n + 1));
                    // Wrapped lines join with a space; spaces never count inside a quotation.
                    if !block.is_empty() {
                        block.push(' ');
                    }
                    block.push_str(c.trim());
                }
                None => flush(&mut block, &mut starts),
            }
        }
        flush(&mut block, &mut starts);
    }
    out
}

#[test]
fn every_quotation_of_an_article_stands_in_that_article() {
    let text = std::fs::read_to_string(
        root().join("tests/regulation/procedures-ganshi-renshezi-2025-7.txt"),
    )
    .unwrap();
    let arts = articles(&text);
    assert_eq!(arts.len(), 51, "the procedures have 51 articles");
    let mut found = quotations(&root().join("shared"));
    found.extend(quotations(&root().join("functions")));
    assert!(found.len() >= 10, "only {} quotations found", found.len());
    let mut wrong = Vec::new();
    for (file, line, numbers, quote) in &found {
        let cited: Vec<&String> = numbers.iter().filter_map(|n| arts.get(n)).collect();
        if cited.len() != numbers.len() {
            wrong.push(format!("{file}:{line}: Art. {numbers:?}: no such article"));
            continue;
        }
        for fragment in quote.split('…') {
            let fragment: String = fragment.chars().filter(|c| !c.is_whitespace()).collect();
            if !fragment.is_empty() && !cited.iter().any(|a| a.contains(&fragment)) {
                wrong.push(format!(
                    "{file}:{line}: «{fragment}» is not in Art. {numbers:?}"
                ));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "quotations that are not the procedures' words:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn the_quotation_check_can_fail() {
    let arts = articles("第一条  甲乙丙丁。\n第二条  戊己庚\n辛。\n");
    assert_eq!(arts[&2], "第二条戊己庚辛。");
    assert!(!arts[&1].contains("甲丙"));
    assert_eq!(numeral("五十一"), Some(51));
    assert_eq!(numeral("十四"), Some(14));
    assert_eq!(numeral("二十"), Some(20));
}
