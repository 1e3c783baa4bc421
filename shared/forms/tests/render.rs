//! Renders a form and checks it as a reader would: poppler's `pdftotext` finds every Chinese
//! text, `pdftoppm` rasterises the page, the font is embedded as a small subset.

#![allow(
    clippy::unwrap_used,
    reason = "a test fails loudly on what it does not expect"
)]

use std::process::Command;

use swi_forms::{Field, Font, Form, render};

fn form() -> Form {
    Form {
        title: "赣州市补充工伤保险参保证明".into(),
        number: "表号：GZBG-CB-01".into(),
        serial: "编号：P-2025-0001".into(),
        fields: vec![
            Field { label: "项目名称".into(), value: "章贡区某某安置房建设工程".into() },
            Field { label: "参保单位".into(), value: "赣州某某建设集团有限公司（91360702MA35G6QL6T）".into() },
            Field { label: "保障期间".into(), value: "2025年6月3日至2026年12月31日".into() },
            Field { label: "缴费金额".into(), value: "人民币 7,407.41 元（工程造价 12,345,678.00 元 × 0.6‰）".into() },
        ],
        statement: "兹证明上述建设项目已按《赣州市补充工伤保险业务经办规程》（赣市人社字〔2025〕7号）第十一条、第十二条参加补充工伤保险，保障期间与工伤保险一致。".into(),
        signatures: vec!["经办人（签字）".into(), "承办机构（盖章）".into()],
        date_line: "2025年6月2日".into(),
        verification: None,
    }
}

fn font() -> Font {
    Font::from_env().expect("run `bash infra/fonts` (infra/test does) to fetch the CJK font")
}

#[test]
fn a_form_is_a_valid_pdf_that_says_what_it_should() {
    let pdf = render(&font(), &form()).unwrap();
    assert!(pdf.starts_with(b"%PDF-"));
    assert!(
        pdf.len() < 200_000,
        "the font must be a subset: {} bytes",
        pdf.len()
    );
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("certificate.pdf");
    std::fs::write(&file, &pdf).unwrap();

    let out = Command::new("pdftotext")
        .args(["-layout", file.to_str().unwrap(), "-"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let compact: String = text.split_whitespace().collect();
    for expected in [
        "赣州市补充工伤保险参保证明",
        "表号：GZBG-CB-01",
        "章贡区某某安置房建设工程",
        "7,407.41",
        "承办机构（盖章）",
        "第1页共1页",
    ] {
        assert!(
            compact.contains(expected),
            "`{expected}` not found in:\n{text}"
        );
    }

    let png = dir.path().join("page");
    let out = Command::new("pdftoppm")
        .args([
            "-r",
            "50",
            "-png",
            "-f",
            "1",
            "-l",
            "1",
            file.to_str().unwrap(),
            png.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rendered = std::fs::read_dir(dir.path())
        .unwrap()
        .filter_map(Result::ok)
        .find(|e| e.file_name().to_string_lossy().ends_with(".png"))
        .unwrap();
    assert!(rendered.metadata().unwrap().len() > 1000);
}

#[test]
fn long_forms_flow_onto_numbered_pages() {
    let mut f = form();
    for i in 0..40 {
        f.fields.push(Field {
            label: format!("参保人员{i}"),
            value: "张三 工程施工员 申报工资 4,500.00 元".into(),
        });
    }
    let pdf = render(&font(), &f).unwrap();
    let text = text_of(&pdf);
    assert!(
        text.contains("第1页共3页") && text.contains("第3页共3页"),
        "{text}"
    );
}

#[test]
fn a_missing_font_names_what_to_install() {
    let err = Font::load(std::path::Path::new("/nonexistent/font.ttc")).unwrap_err();
    assert!(err.to_string().contains("fonts-wqy-microhei"), "{err}");
}

#[test]
fn a_character_the_font_lacks_is_printed_as_a_box_and_bidi_controls_are_left_out() {
    // 𠮷 (U+20BB7) is in real names and not in the font; U+202E would reverse the line.
    let mut f = form();
    f.statement = "请补交𠮷某的签名\u{202E}材料".into();
    let pdf = render(&font(), &f).unwrap();
    let text = text_of(&pdf);
    assert!(text.contains("请补交□某的签名材料"), "{text}");
}

/// The text poppler's `pdftotext` reads from `pdf`, without whitespace.
fn text_of(pdf: &[u8]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("form.pdf");
    std::fs::write(&file, pdf).unwrap();
    let out = Command::new("pdftotext")
        .args([file.to_str().unwrap(), "-"])
        .output()
        .unwrap();
    String::from_utf8(out.stdout)
        .unwrap()
        .split_whitespace()
        .collect()
}

#[test]
fn a_long_report_runs_over_pages_repeating_its_header_with_amounts_to_the_fen() {
    use swi_forms::{Column, Report, Table, render_report};
    let rows: Vec<Vec<String>> = (1..=120)
        .map(|i| vec![format!("第{i}行科目"), format!("{i}.05")])
        .collect();
    let pdf = render_report(
        &font(),
        &Report {
            title: "试算平衡表".into(),
            number: "表号：GZBG-ZJ-03".into(),
            serial: "编号：2027-03".into(),
            lines: vec!["期间：2027年3月".into()],
            tables: vec![Table {
                caption: "科目发生额及余额".into(),
                columns: vec![
                    Column::text("会计科目", 3.0),
                    Column::amount("借方金额", 1.0),
                ],
                rows,
            }],
            statement: "借方合计等于贷方合计。".into(),
            signatures: vec!["制表".into(), "复核".into()],
            date_line: "2027年4月1日".into(),
        },
    )
    .unwrap();
    let text = text_of(&pdf);
    assert!(text.contains("试算平衡表"), "{text}");
    assert!(text.contains("第120行科目120.05"), "{text}");
    assert!(
        text.matches("会计科目借方金额").count() >= 3,
        "the header on every page: {text}"
    );
    assert!(text.contains("第3页"), "{text}");
    assert!(text.contains("借方合计等于贷方合计"));
}

#[test]
fn a_form_identifies_itself_as_pdf_a_2b_and_renders_the_same_bytes_twice() {
    let pdf = render(&font(), &form()).unwrap();
    assert_eq!(pdf, render(&font(), &form()).unwrap(), "deterministic");
    let text = String::from_utf8_lossy(&pdf);
    // The XMP packet is stored uncompressed, as PDF/A requires.
    assert!(text.contains("<pdfaid:part>2</pdfaid:part>"), "pdfaid:part");
    assert!(
        text.contains("<pdfaid:conformance>B</pdfaid:conformance>"),
        "pdfaid:conformance"
    );
    assert!(text.contains("/Type /Metadata"), "a metadata stream");
    assert!(text.contains("/S /GTS_PDFA1"), "a PDF/A output intent");
    assert!(text.contains("/DestOutputProfile"), "with its ICC profile");
    assert!(text.contains("/ID ["), "a file identifier");
    // Another form: another identifier.
    let mut other = form();
    other.serial = "编号：P-2025-0002".into();
    let id = |b: &[u8]| {
        let t = String::from_utf8_lossy(b).into_owned();
        t[t.find("/ID [").unwrap()..]
            .lines()
            .next()
            .unwrap()
            .to_owned()
    };
    assert_ne!(id(&pdf), id(&render(&font(), &other).unwrap()));
    // poppler reads it as before.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.pdf");
    std::fs::write(&path, &pdf).unwrap();
    let info = Command::new("pdfinfo").arg(&path).output();
    if let Ok(out) = info {
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
