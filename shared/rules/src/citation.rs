//! Citations: which document and article a rule applies, as values.
//!
//! Every rule returns the articles it applied (its *basis*). A citation renders in Chinese as
//! `赣市人社字〔2025〕7号 第二十六条` and serializes as `{"doc": "…", "article": 26}`.
//! Pure: no I/O.

use std::fmt;

/// A document the rules cite.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Doc {
    /// 《赣州市补充工伤保险业务经办规程》 (赣市人社字〔2025〕7号), the handling procedures.
    Procedures,
    /// 国家标准 GB 11643-1999 《公民身份号码》.
    Gb11643,
    /// 国家标准 GB 32100-2015 《法人和其他组织统一社会信用代码编码规则》.
    Gb32100,
    /// 全国人民代表大会常务委员会关于实施渐进式延迟法定退休年龄的决定 (2024-09-13).
    RetirementDecision,
    /// 人社部发〔2015〕71号: industry classes and base rates of the work-injury scheme.
    RateNotice2015,
    /// 《中华人民共和国民法典》: how periods counted in years and months end (Art. 201-203).
    CivilCode,
}

impl Doc {
    /// The document's official short name.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Doc::Procedures => "赣市人社字〔2025〕7号",
            Doc::Gb11643 => "GB 11643-1999",
            Doc::Gb32100 => "GB 32100-2015",
            Doc::RetirementDecision => "全国人大常委会关于实施渐进式延迟法定退休年龄的决定",
            Doc::RateNotice2015 => "人社部发〔2015〕71号",
            Doc::CivilCode => "中华人民共和国民法典",
        }
    }
}

/// One applied provision: a document and, where it has articles, the article.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Citation {
    /// The document.
    pub doc: Doc,
    /// The article (第N条), when the document is divided into articles.
    pub article: Option<u16>,
}

/// Article `n` of the handling procedures (赣市人社字〔2025〕7号).
#[must_use]
pub const fn art(n: u16) -> Citation {
    Citation {
        doc: Doc::Procedures,
        article: Some(n),
    }
}

/// A whole document, cited without an article.
#[must_use]
pub const fn doc(doc: Doc) -> Citation {
    Citation { doc, article: None }
}

impl fmt::Display for Citation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.doc.as_str())?;
        if let Some(n) = self.article {
            write!(f, " 第{}条", chinese_numeral(u32::from(n)))?;
        }
        Ok(())
    }
}

/// Renders `1..=999` as a Chinese numeral the way article numbers are written (十四, 二十六, 一百零一).
#[must_use]
pub fn chinese_numeral(n: u32) -> String {
    const DIGITS: [&str; 10] = ["零", "一", "二", "三", "四", "五", "六", "七", "八", "九"];
    let (h, t, u) = (n / 100 % 10, n / 10 % 10, n % 10);
    let mut s = String::new();
    if h > 0 {
        s.push_str(DIGITS[h as usize]);
        s.push('百');
        if t == 0 && u != 0 {
            s.push('零');
        }
    }
    if t > 0 {
        if !(t == 1 && h == 0) {
            s.push_str(DIGITS[t as usize]);
        }
        s.push('十');
    }
    if u > 0 || n == 0 {
        s.push_str(DIGITS[u as usize]);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn articles_render_as_written_in_the_procedures() {
        assert_eq!(art(8).to_string(), "赣市人社字〔2025〕7号 第八条");
        assert_eq!(art(14).to_string(), "赣市人社字〔2025〕7号 第十四条");
        assert_eq!(art(26).to_string(), "赣市人社字〔2025〕7号 第二十六条");
        assert_eq!(art(50).to_string(), "赣市人社字〔2025〕7号 第五十条");
        assert_eq!(chinese_numeral(101), "一百零一");
        assert_eq!(chinese_numeral(110), "一百一十");
        assert_eq!(doc(Doc::Gb11643).to_string(), "GB 11643-1999");
    }
}
