//! Writes a sample certificate to the path given (for looking at the layout).

#![allow(clippy::unwrap_used, reason = "an example")]

fn main() {
    let path = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "certificate.pdf".into());
    let form = swi_forms::Form {
        title: "赣州市补充工伤保险参保证明".into(),
        number: "表号：GZBG-CB-01".into(),
        serial: "编号：P-2025-0001".into(),
        fields: vec![
            swi_forms::Field {
                label: "项目名称".into(),
                value: "章贡区某某安置房建设工程".into(),
            },
            swi_forms::Field {
                label: "参保单位".into(),
                value: "赣州某某建设集团有限公司".into(),
            },
            swi_forms::Field {
                label: "保障期间".into(),
                value: "2025年6月3日至2026年12月31日".into(),
            },
        ],
        statement: "兹证明上述建设项目已参加补充工伤保险。".into(),
        signatures: vec!["经办人（签字）".into(), "承办机构（盖章）".into()],
        date_line: "2025年6月2日".into(),
        verification: None,
    };
    let pdf = swi_forms::render(&swi_forms::Font::from_env().unwrap(), &form).unwrap();
    std::fs::write(&path, pdf).unwrap();
}
