//! Official forms as PDF: A4 pages with a title, a form number, boxed fields, signature and
//! seal areas and page numbers, Chinese text in an embedded, subset CJK font (a CID-keyed
//! TrueType font with its own ToUnicode map, so text can be searched and copied), streams
//! compressed.
//!
//! The font is not part of the repository: `infra/fonts` fetches WenQuanYi Micro Hei from
//! Debian's `fonts-wqy-microhei` and `SWI_FONT` points at it; [`Font::from_env`] names what to
//! install when it is missing, and [`font()`] keeps it once loaded (retrying until it loads).
//!
//! A form may carry a [`Verification`]: its code and a QR code of its verification URL, drawn
//! at the foot of the last page, so that anyone holding it can check it was issued as it is.
//!
//! [`Report`] prints tables (the payment request, the books, reconciliations, the annual
//! report) with [`render_report`].
//!
//! Every document identifies itself as PDF/A-2b (ISO 19005-2, level B: an archive keeps it as
//! printed): XMP metadata with `pdfaid:part` 2 and `pdfaid:conformance` B, an output intent
//! with an embedded sRGB profile (`icc/`), and a file identifier derived from its content, so
//! that the same form renders the same bytes.
//!
//! [`OneTimeNotice`] builds the one-time notice (一次性告知书, Art. 34) every step returns cases
//! with; [`chinese_date`] writes dates as forms do.

#![allow(
    clippy::float_arithmetic,
    reason = "page geometry in points, never money"
)]

pub mod notice;
pub mod report;
pub mod shared;

pub use notice::OneTimeNotice;
pub use report::{Align, Column, Report, Table, render_report};
pub use shared::font;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use pdf_writer::types::{CidFontType, FontFlags, OutputIntentSubtype, SystemInfo, UnicodeCmap};
use pdf_writer::{Content, Filter, Finish, Name, Pdf, Rect, Ref, Str, TextStr};
use sha2::Digest;

/// Why a form cannot be made.
#[derive(Debug, thiserror::Error)]
pub enum FormError {
    /// No font file.
    #[error(
        "the CJK font for PDF forms is missing ({0}): run `bash infra/fonts` (Debian package fonts-wqy-microhei) and set SWI_FONT to the path it prints"
    )]
    FontMissing(String),
    /// The font file is not a usable TrueType font.
    #[error("the font {path} cannot be used: {reason}")]
    FontUnusable {
        /// The file.
        path: String,
        /// What is wrong.
        reason: String,
    },
    /// A character the font has no glyph for.
    #[error("the font has no glyph for {0:?}")]
    MissingGlyph(char),
    /// The verification URL does not fit a QR code.
    #[error("the verification URL cannot be a QR code: {0}")]
    Qr(String),
}

/// A TrueType font (or one face of a collection) to embed.
#[derive(Debug, Clone)]
pub struct Font {
    data: Vec<u8>,
    index: u32,
    path: String,
}

/// Where `infra/fonts` puts the font, relative to the repository.
const DEFAULT_FONT: &str = ".swi/tools/fonts/wqy-microhei.ttc";

impl Font {
    /// The font named by `SWI_FONT`, else `.swi/tools/fonts/wqy-microhei.ttc` (under the current
    /// directory or any parent).
    ///
    /// # Errors
    /// `FontMissing` naming what to install; `FontUnusable`.
    pub fn from_env() -> Result<Self, FormError> {
        if let Some(p) = std::env::var_os("SWI_FONT") {
            return Self::load(Path::new(&p));
        }
        let mut dir = std::env::current_dir().ok();
        while let Some(d) = dir {
            let candidate = d.join(DEFAULT_FONT);
            if candidate.exists() {
                return Self::load(&candidate);
            }
            dir = d.parent().map(PathBuf::from);
        }
        Err(FormError::FontMissing("SWI_FONT is not set".into()))
    }

    /// A font file (`.ttf`, or the first face of a `.ttc`).
    ///
    /// # Errors
    /// `FontMissing`, `FontUnusable`.
    pub fn load(path: &Path) -> Result<Self, FormError> {
        let data = std::fs::read(path)
            .map_err(|e| FormError::FontMissing(format!("{}: {e}", path.display())))?;
        let font = Font {
            data,
            index: 0,
            path: path.display().to_string(),
        };
        font.face()?;
        Ok(font)
    }

    fn face(&self) -> Result<ttf_parser::Face<'_>, FormError> {
        ttf_parser::Face::parse(&self.data, self.index).map_err(|e| FormError::FontUnusable {
            path: self.path.clone(),
            reason: e.to_string(),
        })
    }
}

/// A date as official forms write it: `2025年6月1日`.
#[must_use]
pub fn chinese_date(d: chrono::NaiveDate) -> String {
    use chrono::Datelike;
    format!("{}年{}月{}日", d.year(), d.month(), d.day())
}

/// One boxed field of a form: a label and its value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    /// Label (e.g. 项目名称).
    pub label: String,
    /// Value.
    pub value: String,
}

/// A form to render.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Form {
    /// Title, centred at the top (e.g. 赣州市补充工伤保险参保证明).
    pub title: String,
    /// Form number, top right (e.g. 表号：GZBG-CB-01).
    pub number: String,
    /// Document number, top left (e.g. 编号：P-2025-0001).
    pub serial: String,
    /// The fields, in boxes.
    pub fields: Vec<Field>,
    /// A paragraph under the fields (the statement the form certifies).
    pub statement: String,
    /// Signature and seal boxes at the bottom (e.g. 经办人, 承办机构（盖章）).
    pub signatures: Vec<String>,
    /// Issue date line (e.g. 2025年6月2日).
    pub date_line: String,
    /// The verification code and URL printed (with a QR code of the URL) on the last page.
    pub verification: Option<Verification>,
}

/// How a form can be verified: its code, and the URL its QR code carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verification {
    /// The code (e.g. `7K3M-Q9TX-2HRB`).
    pub code: String,
    /// The verification page's URL (ASCII).
    pub url: String,
}

/// Draws the QR code of `data` with its lower-left corner at (`x`, `y`), `side` points wide.
fn qr(page: &mut Page, data: &str, x: f32, y: f32, side: f32) -> Result<(), FormError> {
    let code = qrcode::QrCode::with_error_correction_level(data.as_bytes(), qrcode::EcLevel::M)
        .map_err(|e| FormError::Qr(e.to_string()))?;
    let n = code.width();
    // Four modules of quiet zone on each side, as scanners expect.
    let module = side / (n as f32 + 8.0);
    let colors = code.to_colors();
    page.content.set_fill_rgb(1.0, 1.0, 1.0);
    page.content.rect(x, y, side, side);
    page.content.fill_nonzero();
    page.content.set_fill_rgb(0.0, 0.0, 0.0);
    for (i, c) in colors.iter().enumerate() {
        if *c == qrcode::Color::Dark {
            let (col, row) = (i % n, i / n);
            page.content.rect(
                x + (col as f32 + 4.0) * module,
                y + side - (row as f32 + 5.0) * module,
                module,
                module,
            );
        }
    }
    page.content.fill_nonzero();
    Ok(())
}

const PAGE_W: f32 = 595.28;
const PAGE_H: f32 = 841.89;
const MARGIN: f32 = 56.0;
const ROW_H: f32 = 28.0;
const LABEL_W: f32 = 130.0;

struct Glyphs<'a> {
    face: ttf_parser::Face<'a>,
    remapper: subsetter::GlyphRemapper,
    /// new glyph id → (char, advance in 1/1000 em)
    used: BTreeMap<u16, (char, f32)>,
}

impl Glyphs<'_> {
    /// The text as 2-byte new glyph ids, and its width at `size` points.
    fn encode(&mut self, text: &str, size: f32) -> Result<(Vec<u8>, f32), FormError> {
        let mut out = Vec::with_capacity(text.len() * 2);
        let mut width = 0.0;
        let upem = f32::from(self.face.units_per_em());
        for ch in text.chars().filter(|c| shown(*c)) {
            // A character the font lacks (a rare ideograph of a name, say) is printed as □
            // rather than failing the whole form; the record keeps the character itself.
            let (ch, gid) = match self.face.glyph_index(ch) {
                Some(g) => (ch, g),
                None => ['□', '?']
                    .into_iter()
                    .find_map(|r| self.face.glyph_index(r).map(|g| (r, g)))
                    .ok_or(FormError::MissingGlyph(ch))?,
            };
            let new = self.remapper.remap(gid.0);
            let advance = f32::from(self.face.glyph_hor_advance(gid).unwrap_or(0)) * 1000.0 / upem;
            self.used.insert(new, (ch, advance));
            out.extend_from_slice(&new.to_be_bytes());
            width += advance * size / 1000.0;
        }
        Ok((out, width))
    }
}

/// Whether a character is printed: control characters and the bidirectional formatting
/// characters (which could make a line read otherwise than it is written) are left out.
fn shown(c: char) -> bool {
    !c.is_control()
        && !matches!(c, '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

struct Page {
    content: Content,
}

fn text(
    page: &mut Page,
    glyphs: &mut Glyphs<'_>,
    s: &str,
    x: f32,
    y: f32,
    size: f32,
) -> Result<f32, FormError> {
    let (bytes, width) = glyphs.encode(s, size)?;
    page.content.begin_text();
    page.content.set_font(Name(b"F1"), size);
    page.content.next_line(x, y);
    page.content.show(Str(&bytes));
    page.content.end_text();
    Ok(width)
}

fn centred(
    page: &mut Page,
    glyphs: &mut Glyphs<'_>,
    s: &str,
    y: f32,
    size: f32,
) -> Result<(), FormError> {
    let (_, w) = glyphs.encode(s, size)?;
    text(page, glyphs, s, (PAGE_W - w) / 2.0, y, size)?;
    Ok(())
}

/// Splits text into lines no wider than `max` at `size` points.
fn wrap(glyphs: &mut Glyphs<'_>, s: &str, size: f32, max: f32) -> Result<Vec<String>, FormError> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for ch in s.chars() {
        let mut candidate = line.clone();
        candidate.push(ch);
        let (_, w) = glyphs.encode(&candidate, size)?;
        if w > max && !line.is_empty() {
            lines.push(std::mem::take(&mut line));
        }
        line.push(ch);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    Ok(lines)
}

fn deflate(data: &[u8]) -> Vec<u8> {
    miniz_oxide::deflate::compress_to_vec_zlib(data, 9)
}

/// Renders a form as a PDF document.
///
/// # Errors
/// A character the font cannot show, or a font the subsetter cannot read.
pub fn render(font: &Font, form: &Form) -> Result<Vec<u8>, FormError> {
    let mut glyphs = Glyphs {
        face: font.face()?,
        remapper: subsetter::GlyphRemapper::new(),
        used: BTreeMap::new(),
    };
    let mut pages: Vec<Page> = Vec::new();
    let new_page = |pages: &mut Vec<Page>| {
        pages.push(Page {
            content: Content::new(),
        });
    };
    new_page(&mut pages);
    let mut y = PAGE_H - MARGIN;
    {
        let page = pages.last_mut().unwrap_or_else(|| unreachable!());
        text(page, &mut glyphs, &form.serial, MARGIN, y, 9.0)?;
        let (_, w) = glyphs.encode(&form.number, 9.0)?;
        text(page, &mut glyphs, &form.number, PAGE_W - MARGIN - w, y, 9.0)?;
        y -= 40.0;
        centred(page, &mut glyphs, &form.title, y, 18.0)?;
        y -= 36.0;
    }
    let table_w = PAGE_W - 2.0 * MARGIN;
    for field in &form.fields {
        let lines = wrap(&mut glyphs, &field.value, 11.0, table_w - LABEL_W - 16.0)?;
        let h = ROW_H.max(lines.len() as f32 * 15.0 + 12.0);
        if y - h < MARGIN + 160.0 {
            new_page(&mut pages);
            y = PAGE_H - MARGIN - 20.0;
        }
        let page = pages.last_mut().unwrap_or_else(|| unreachable!());
        page.content.set_line_width(0.8);
        page.content.rect(MARGIN, y - h, LABEL_W, h);
        page.content
            .rect(MARGIN + LABEL_W, y - h, table_w - LABEL_W, h);
        page.content.stroke();
        text(
            page,
            &mut glyphs,
            &field.label,
            MARGIN + 8.0,
            y - 18.0,
            11.0,
        )?;
        for (i, line) in lines.iter().enumerate() {
            text(
                page,
                &mut glyphs,
                line,
                MARGIN + LABEL_W + 8.0,
                y - 18.0 - i as f32 * 15.0,
                11.0,
            )?;
        }
        y -= h;
    }
    y -= 24.0;
    let statement = wrap(&mut glyphs, &form.statement, 11.0, table_w)?;
    if y - statement.len() as f32 * 16.0 < MARGIN + 140.0 {
        new_page(&mut pages);
        y = PAGE_H - MARGIN - 20.0;
    }
    {
        let page = pages.last_mut().unwrap_or_else(|| unreachable!());
        for line in &statement {
            text(page, &mut glyphs, line, MARGIN, y, 11.0)?;
            y -= 16.0;
        }
        // Signature and seal boxes.
        let n = form.signatures.len().max(1) as f32;
        let box_w = (table_w - (n - 1.0) * 12.0) / n;
        let top = MARGIN + 120.0;
        for (i, label) in form.signatures.iter().enumerate() {
            let x = MARGIN + i as f32 * (box_w + 12.0);
            page.content.rect(x, top - 90.0, box_w, 90.0);
            page.content.stroke();
            text(page, &mut glyphs, label, x + 8.0, top - 18.0, 10.0)?;
        }
        let (_, w) = glyphs.encode(&form.date_line, 11.0)?;
        text(
            page,
            &mut glyphs,
            &form.date_line,
            PAGE_W - MARGIN - w,
            MARGIN + 10.0,
            11.0,
        )?;
        if let Some(v) = &form.verification {
            // Below the signature boxes, beside the date line.
            let side = 60.0;
            qr(page, &v.url, MARGIN - 6.0, MARGIN - 40.0, side)?;
            text(
                page,
                &mut glyphs,
                &format!("核验码：{}", v.code),
                MARGIN + side,
                MARGIN + 10.0,
                9.0,
            )?;
            text(
                page,
                &mut glyphs,
                &format!("扫码或访问 {} 核验真伪", v.url),
                MARGIN + side,
                MARGIN - 4.0,
                8.0,
            )?;
        }
    }
    finish(font, glyphs, pages)
}

/// Numbers the pages and writes the document: the pages, the subset font and its maps.
fn finish(font: &Font, mut glyphs: Glyphs<'_>, mut pages: Vec<Page>) -> Result<Vec<u8>, FormError> {
    let total = pages.len();
    for (i, page) in pages.iter_mut().enumerate() {
        let label = format!("第 {} 页 共 {} 页", i + 1, total);
        centred(page, &mut glyphs, &label, MARGIN - 24.0, 9.0)?;
    }

    // The document.
    let mut pdf = Pdf::new();
    let mut next = 1;
    let mut id = || {
        let r = Ref::new(next);
        next += 1;
        r
    };
    let catalog = id();
    let tree = id();
    let font_id = id();
    let cid_id = id();
    let descriptor = id();
    let file_id = id();
    let cmap_id = id();
    let metadata_id = id();
    let icc_id = id();
    let page_ids: Vec<(Ref, Ref)> = (0..pages.len()).map(|_| (id(), id())).collect();
    // What the file identifier is derived from: every page's content and the font's subset.
    let mut identity = sha2::Sha256::new();
    {
        let mut c = pdf.catalog(catalog);
        c.pages(tree).metadata(metadata_id);
        c.output_intents()
            .push()
            .subtype(OutputIntentSubtype::PDFA)
            .output_condition_identifier(TextStr("sRGB"))
            .info(TextStr("sRGB IEC61966-2.1"))
            .dest_output_profile(icc_id);
    }
    pdf.icc_profile(icc_id, SRGB)
        .n(3)
        .range([0.0, 1.0, 0.0, 1.0, 0.0, 1.0]);
    pdf.pages(tree)
        .kids(page_ids.iter().map(|(p, _)| *p))
        .count(i32::try_from(pages.len()).unwrap_or(i32::MAX));
    for ((page_id, content_id), page) in page_ids.iter().zip(pages) {
        let mut p = pdf.page(*page_id);
        p.media_box(Rect::new(0.0, 0.0, PAGE_W, PAGE_H));
        p.parent(tree);
        p.contents(*content_id);
        p.resources().fonts().pair(Name(b"F1"), font_id);
        p.finish();
        let data = deflate(&page.content.finish());
        identity.update(&data);
        pdf.stream(*content_id, &data).filter(Filter::FlateDecode);
    }

    let subset = subsetter::subset(&font.data, font.index, &glyphs.remapper).map_err(|e| {
        FormError::FontUnusable {
            path: font.path.clone(),
            reason: format!("subsetting: {e:?}"),
        }
    })?;
    let base = Name(b"SWIFRM+WenQuanYiMicroHei");
    let system = SystemInfo {
        registry: Str(b"Adobe"),
        ordering: Str(b"Identity"),
        supplement: 0,
    };
    pdf.type0_font(font_id)
        .base_font(base)
        .encoding_predefined(Name(b"Identity-H"))
        .descendant_font(cid_id)
        .to_unicode(cmap_id);
    let mut cid = pdf.cid_font(cid_id);
    cid.subtype(CidFontType::Type2);
    cid.base_font(base);
    cid.system_info(system);
    cid.font_descriptor(descriptor);
    cid.default_width(1000.0);
    cid.cid_to_gid_map_predefined(Name(b"Identity"));
    {
        let mut widths = cid.widths();
        for (gid, (_, adv)) in &glyphs.used {
            widths.consecutive(*gid, [*adv]);
        }
    }
    cid.finish();
    let face = &glyphs.face;
    let scale = 1000.0 / f32::from(face.units_per_em());
    let bbox = face.global_bounding_box();
    pdf.font_descriptor(descriptor)
        .name(base)
        .flags(FontFlags::SYMBOLIC)
        .bbox(Rect::new(
            f32::from(bbox.x_min) * scale,
            f32::from(bbox.y_min) * scale,
            f32::from(bbox.x_max) * scale,
            f32::from(bbox.y_max) * scale,
        ))
        .italic_angle(0.0)
        .ascent(f32::from(face.ascender()) * scale)
        .descent(f32::from(face.descender()) * scale)
        .cap_height(f32::from(face.capital_height().unwrap_or(face.ascender())) * scale)
        .stem_v(80.0)
        .font_file2(file_id);
    let compressed = deflate(&subset);
    identity.update(&compressed);
    pdf.stream(file_id, &compressed)
        .filter(Filter::FlateDecode)
        .pair(
            Name(b"Length1"),
            i32::try_from(subset.len()).unwrap_or(i32::MAX),
        );
    let mut cmap = UnicodeCmap::new(Name(b"Custom"), system);
    for (gid, (ch, _)) in &glyphs.used {
        cmap.pair(*gid, *ch);
    }
    let cmap = cmap.finish();
    pdf.stream(cmap_id, &cmap);
    let doc_id = identity.finalize()[..16].to_vec();
    let hex: String = doc_id.iter().map(|b| format!("{b:02x}")).collect();
    let mut xmp = xmp_writer::XmpWriter::new();
    xmp.format("application/pdf")
        .producer("swi")
        .pdfa_part(2)
        .pdfa_conformance("B")
        .document_id(&format!("uuid:{hex}"))
        .instance_id(&format!("uuid:{hex}"));
    let xmp = xmp.finish(None);
    // PDF/A: the metadata stream is not compressed.
    pdf.metadata(metadata_id, xmp.as_bytes());
    pdf.set_file_id((doc_id.clone(), doc_id));
    Ok(pdf.finish())
}

/// The sRGB profile of every form's PDF/A output intent (CC0, `icc/README.md`).
const SRGB: &[u8] = include_bytes!("../icc/sRGB-v4.icc");
