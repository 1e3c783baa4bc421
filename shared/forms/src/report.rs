//! Reports as PDF (报表): a title, lines saying what the report covers, then tables with their
//! captions — columns sized by weight, amounts right-aligned, the header repeated on every page
//! — and signature boxes and a date line at the end. The payment request (请款计划), the trial
//! balance and ledgers, reconciliations and the annual financial report are printed this way.

#![allow(
    clippy::float_arithmetic,
    reason = "page geometry in points, never money"
)]

use crate::{Font, FormError, Glyphs, MARGIN, PAGE_H, PAGE_W, Page, centred, finish, text, wrap};

/// How a column's cells are placed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    /// Left (text).
    Left,
    /// Right (amounts, counts).
    Right,
}

/// A column of a table.
#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    /// Heading.
    pub heading: String,
    /// Relative width.
    pub weight: f32,
    /// Placement.
    pub align: Align,
}

impl Column {
    /// A text column.
    #[must_use]
    pub fn text(heading: &str, weight: f32) -> Self {
        Column {
            heading: heading.to_owned(),
            weight,
            align: Align::Left,
        }
    }

    /// An amount or count column.
    #[must_use]
    pub fn amount(heading: &str, weight: f32) -> Self {
        Column {
            heading: heading.to_owned(),
            weight,
            align: Align::Right,
        }
    }
}

/// A table with its caption.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    /// Caption, above the table.
    pub caption: String,
    /// Columns.
    pub columns: Vec<Column>,
    /// Rows of cells (a cell too wide is cut with …).
    pub rows: Vec<Vec<String>>,
}

/// A report.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    /// Title.
    pub title: String,
    /// Form number, top right.
    pub number: String,
    /// Document number, top left.
    pub serial: String,
    /// Lines under the title (period, county, unit).
    pub lines: Vec<String>,
    /// The tables.
    pub tables: Vec<Table>,
    /// A paragraph after the tables.
    pub statement: String,
    /// Signature boxes at the end.
    pub signatures: Vec<String>,
    /// Date line.
    pub date_line: String,
}

const CELL_H: f32 = 16.0;
const SIZE: f32 = 8.5;

/// Cuts `s` to fit `max` points, ending in … when cut.
fn fit(glyphs: &mut Glyphs<'_>, s: &str, max: f32) -> Result<(String, f32), FormError> {
    let (_, w) = glyphs.encode(s, SIZE)?;
    if w <= max {
        return Ok((s.to_owned(), w));
    }
    let mut out = String::new();
    for ch in s.chars() {
        let mut c = out.clone();
        c.push(ch);
        c.push('…');
        if glyphs.encode(&c, SIZE)?.1 > max {
            break;
        }
        out.push(ch);
    }
    out.push('…');
    let (_, w) = glyphs.encode(&out, SIZE)?;
    Ok((out, w))
}

fn row(
    page: &mut Page,
    glyphs: &mut Glyphs<'_>,
    cells: &[String],
    columns: &[Column],
    widths: &[f32],
    y: f32,
) -> Result<(), FormError> {
    let mut x = MARGIN;
    for ((cell, col), w) in cells.iter().zip(columns).zip(widths) {
        page.content.rect(x, y - CELL_H, *w, CELL_H);
        let (shown, tw) = fit(glyphs, cell, w - 6.0)?;
        let tx = match col.align {
            Align::Left => x + 3.0,
            Align::Right => x + w - 3.0 - tw,
        };
        text(page, glyphs, &shown, tx, y - 11.5, SIZE)?;
        x += w;
    }
    page.content.stroke();
    Ok(())
}

/// Renders a report as a PDF document.
///
/// # Errors
/// A character the font cannot show, or a font the subsetter cannot read.
pub fn render_report(font: &Font, report: &Report) -> Result<Vec<u8>, FormError> {
    let mut glyphs = Glyphs {
        face: font.face()?,
        remapper: subsetter::GlyphRemapper::new(),
        used: std::collections::BTreeMap::new(),
    };
    let mut pages = vec![Page {
        content: pdf_writer::Content::new(),
    }];
    let width = PAGE_W - 2.0 * MARGIN;
    let mut y = PAGE_H - MARGIN;
    {
        let page = pages.last_mut().unwrap_or_else(|| unreachable!());
        text(page, &mut glyphs, &report.serial, MARGIN, y, 9.0)?;
        let (_, w) = glyphs.encode(&report.number, 9.0)?;
        text(
            page,
            &mut glyphs,
            &report.number,
            PAGE_W - MARGIN - w,
            y,
            9.0,
        )?;
        y -= 36.0;
        centred(page, &mut glyphs, &report.title, y, 16.0)?;
        y -= 26.0;
        for line in &report.lines {
            for l in wrap(&mut glyphs, line, 10.0, width)? {
                text(page, &mut glyphs, &l, MARGIN, y, 10.0)?;
                y -= 15.0;
            }
        }
    }
    for table in &report.tables {
        let total: f32 = table.columns.iter().map(|c| c.weight).sum::<f32>().max(1.0);
        let widths: Vec<f32> = table
            .columns
            .iter()
            .map(|c| width * c.weight / total)
            .collect();
        let headings: Vec<String> = table.columns.iter().map(|c| c.heading.clone()).collect();
        y -= 12.0;
        if y - 3.0 * CELL_H < MARGIN + 20.0 {
            pages.push(Page {
                content: pdf_writer::Content::new(),
            });
            y = PAGE_H - MARGIN - 10.0;
        }
        {
            let page = pages.last_mut().unwrap_or_else(|| unreachable!());
            text(page, &mut glyphs, &table.caption, MARGIN, y - 4.0, 10.5)?;
            y -= 12.0;
            page.content.set_line_width(0.6);
            row(page, &mut glyphs, &headings, &table.columns, &widths, y)?;
            y -= CELL_H;
        }
        for cells in &table.rows {
            if y - CELL_H < MARGIN + 20.0 {
                pages.push(Page {
                    content: pdf_writer::Content::new(),
                });
                y = PAGE_H - MARGIN - 10.0;
                let page = pages.last_mut().unwrap_or_else(|| unreachable!());
                page.content.set_line_width(0.6);
                row(page, &mut glyphs, &headings, &table.columns, &widths, y)?;
                y -= CELL_H;
            }
            let page = pages.last_mut().unwrap_or_else(|| unreachable!());
            row(page, &mut glyphs, cells, &table.columns, &widths, y)?;
            y -= CELL_H;
        }
    }
    y -= 18.0;
    let statement = wrap(&mut glyphs, &report.statement, 10.0, width)?;
    if y - statement.len() as f32 * 15.0 - 110.0 < MARGIN {
        pages.push(Page {
            content: pdf_writer::Content::new(),
        });
        y = PAGE_H - MARGIN - 10.0;
    }
    let page = pages.last_mut().unwrap_or_else(|| unreachable!());
    for line in &statement {
        text(page, &mut glyphs, line, MARGIN, y, 10.0)?;
        y -= 15.0;
    }
    let n = report.signatures.len().max(1) as f32;
    let box_w = (width - (n - 1.0) * 12.0) / n;
    let top = y - 10.0;
    for (i, label) in report.signatures.iter().enumerate() {
        let x = MARGIN + i as f32 * (box_w + 12.0);
        page.content.rect(x, top - 70.0, box_w, 70.0);
        page.content.stroke();
        text(page, &mut glyphs, label, x + 6.0, top - 15.0, 9.5)?;
    }
    let (_, w) = glyphs.encode(&report.date_line, 10.0)?;
    text(
        page,
        &mut glyphs,
        &report.date_line,
        PAGE_W - MARGIN - w,
        top - 86.0,
        10.0,
    )?;
    finish(font, glyphs, pages)
}
