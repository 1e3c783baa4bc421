//! Ordinary tables: XLSX and CSV read alike as rows of text cells.

use swi_tables::{Limits, TableError, read};

fn workbook(cells: &[(u32, u16, &str)]) -> Vec<u8> {
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    for &(r, c, t) in cells {
        sheet.write_string(r, c, t).expect("cell written");
    }
    book.save_to_buffer().expect("workbook written")
}

#[test]
fn ordinary_tables_read_as_text_rows() {
    let book = workbook(&[
        (0, 0, "姓名"),
        (0, 2, "工资"),
        (1, 0, "张三"),
        (1, 2, "5000"),
    ]);
    let table = read(&book, &Limits::DECLARATION).expect("read");
    assert_eq!(
        table,
        vec![
            vec!["姓名".to_owned(), String::new(), "工资".to_owned()],
            vec!["张三".to_owned(), String::new(), "5000".to_owned()],
        ]
    );
    let csv = "\u{feff}姓名,,工资\n张三,,5000\n,,\n";
    assert_eq!(
        read(csv.as_bytes(), &Limits::DECLARATION).expect("read"),
        table
    );
    assert!(matches!(
        read(b"%PDF-1.7\n\xff\xfe", &Limits::DECLARATION),
        Err(TableError::Unreadable(_))
    ));
}
