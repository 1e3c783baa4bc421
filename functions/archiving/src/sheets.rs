//! A volume's own sheets as A4 PDFs with the embedded CJK font (Art. 46): the cover (案卷封面:
//! archive number and archive-house number top left; title, filing unit, dates, retention
//! period, classification level and compiler in the centre), the list of contents (卷内目录:
//! item number, author, title, date, documents) and the notes sheet (备考表: what the volume
//! holds, who compiled it, who checked it, when). The same volume renders the same bytes.

use swi_archive::volume::Volume;
use swi_forms::report::{Column, Report, Table};
use swi_forms::{Field, Form, chinese_date};
use swi_platform::ApiError;

fn font() -> Result<std::sync::Arc<swi_forms::Font>, ApiError> {
    swi_forms::font().map_err(|e| ApiError::forms_unavailable(&e))
}

/// The cover.
///
/// # Errors
/// 503 the font is missing; a character it cannot show.
pub fn cover(v: &Volume) -> Result<Vec<u8>, ApiError> {
    let form = Form {
        title: v.title.clone(),
        number: format!("档案馆号：{}", v.archive_house_number),
        serial: format!("档号：{}", v.archive_number),
        fields: vec![
            field("案卷题名", &v.title),
            field("立卷单位", &v.filing_unit),
            field(
                "起止日期",
                &format!("{}至{}", chinese_date(v.start), chinese_date(v.end)),
            ),
            field("保管期限", &v.period.label()),
            field("密级", &v.classification_level),
            field("整理人", &v.compiled_by),
            field(
                "件数",
                &format!("{} 件（{} 份文件）", v.items.len(), v.files().count()),
            ),
        ],
        statement: format!(
            "本卷按《赣州市补充工伤保险业务经办规程》（赣市人社字〔2025〕7号）第四十五条、第四十六条整理归档，类别 {}，保管期限自案件办结次年1月1日起计算。",
            v.class.code()
        ),
        signatures: vec!["整理人（签字）".into(), "检查人（签字）".into()],
        date_line: chinese_date(v.filed_on),
        verification: None,
    };
    swi_forms::render(&*font()?, &form).map_err(|e| ApiError::internal(&e))
}

/// The list of contents.
///
/// # Errors
/// 503 the font is missing; a character it cannot show.
pub fn contents(v: &Volume) -> Result<Vec<u8>, ApiError> {
    let rows = v
        .items
        .iter()
        .map(|i| {
            vec![
                format!("{:04}", i.n),
                i.author.clone(),
                i.title.clone(),
                i.date.to_string(),
                i.files.len().to_string(),
                i.files
                    .iter()
                    .map(|f| f.material.as_str())
                    .collect::<Vec<_>>()
                    .join("、"),
            ]
        })
        .collect();
    let report = Report {
        title: "卷内目录".into(),
        number: format!("档案馆号：{}", v.archive_house_number),
        serial: format!("档号：{}", v.archive_number),
        lines: vec![v.title.clone(), format!("立卷单位：{}", v.filing_unit)],
        tables: vec![Table {
            caption: format!("共 {} 件", v.items.len()),
            columns: vec![
                Column::text("件号", 0.6),
                Column::text("责任者", 1.6),
                Column::text("题名", 2.4),
                Column::text("日期", 1.0),
                Column::amount("文件数", 0.6),
                Column::text("材料", 2.4),
            ],
            rows,
        }],
        statement: String::new(),
        signatures: vec![],
        date_line: chinese_date(v.filed_on),
    };
    swi_forms::report::render_report(&*font()?, &report).map_err(|e| ApiError::internal(&e))
}

/// The notes sheet.
///
/// # Errors
/// 503 the font is missing; a character it cannot show.
pub fn notes(v: &Volume) -> Result<Vec<u8>, ApiError> {
    let bytes: u64 = v.items.iter().flat_map(|i| &i.files).map(|f| f.size).sum();
    let form = Form {
        title: "卷内备考表".into(),
        number: format!("档案馆号：{}", v.archive_house_number),
        serial: format!("档号：{}", v.archive_number),
        fields: vec![
            field(
                "本卷情况说明",
                &format!(
                    "本卷共 {} 件，{} 份电子文件，计 {} 字节；电子文件以内容地址（SHA-256）引用，清单见 manifest-sha256.txt、manifest-sha512.txt；归档时已做真实性、完整性、可用性、安全性检测。",
                    v.items.len(),
                    v.items.iter().map(|i| i.files.len()).sum::<usize>(),
                    bytes
                ),
            ),
            field("立卷人", &v.compiled_by),
            field("检查人", "swi 四性检测（归档环节）"),
            field("立卷时间", &chinese_date(v.filed_on)),
        ],
        statement: String::new(),
        signatures: vec!["立卷人（签字）".into(), "检查人（签字）".into()],
        date_line: chinese_date(v.filed_on),
        verification: None,
    };
    swi_forms::render(&*font()?, &form).map_err(|e| ApiError::internal(&e))
}

fn field(label: &str, value: &str) -> Field {
    Field {
        label: label.into(),
        value: value.into(),
    }
}

/// The destruction list (销毁清册) of a volume: what was appraised, who approved and who
/// witnessed, and a row per document with its item's archive number and digest, destroyed or
/// kept with why. Kept for ever (class GS16).
///
/// # Errors
/// 503 the font is missing; a character it cannot show.
pub fn destruction_list(
    v: &crate::model::VolumeRecord,
    d: &crate::disposal::Disposal,
    rows: &[crate::disposal::ListRow],
    on: chrono::NaiveDate,
) -> Result<Vec<u8>, ApiError> {
    let table = rows
        .iter()
        .map(|r| {
            vec![
                r.archive_number.clone(),
                r.title.clone(),
                r.material.clone(),
                r.sha256.clone(),
                match r.fate {
                    crate::disposal::Fate::Destroyed => "销毁".to_owned(),
                    crate::disposal::Fate::Kept => {
                        format!("留存：{}", r.why.as_deref().unwrap_or(""))
                    }
                },
            ]
        })
        .collect();
    let who = |s: &crate::disposal::Signed| format!("{}（{}）", s.name, chinese_date(s.at.date()));
    let report = Report {
        title: "档案销毁清册".into(),
        number: format!("案卷档号：{}", v.archive_number),
        serial: format!("销毁日期：{}", chinese_date(on)),
        lines: vec![
            format!("案卷题名：{}", v.title),
            format!(
                "保管期限：{}；归档日期：{}",
                v.period.label(),
                v.filed_on.map_or_else(String::new, chinese_date)
            ),
            format!("鉴定意见：{}（{}）", d.proposed.note, who(&d.proposed)),
            format!(
                "批准：{}",
                d.decided
                    .as_ref()
                    .map_or_else(String::new, |s| format!("{} {}", who(s), s.note))
            ),
            format!(
                "监销人：{}",
                d.witnesses.iter().map(who).collect::<Vec<_>>().join("、")
            ),
        ],
        tables: vec![Table {
            caption: format!("销毁 {} 份，留存 {} 份", d.destroyed, d.kept),
            columns: vec![
                Column::text("档号", 2.2),
                Column::text("题名", 1.6),
                Column::text("材料", 1.2),
                Column::text("SHA-256", 2.6),
                Column::text("处置", 1.4),
            ],
            rows: table,
        }],
        statement: "本清册永久保存。".into(),
        signatures: vec!["监销人（签字）".into(), "监销人（签字）".into()],
        date_line: chinese_date(on),
    };
    swi_forms::report::render_report(&*font()?, &report).map_err(|e| ApiError::internal(&e))
}
