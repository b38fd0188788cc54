//! Fuzz target: the manifest reader. Besides a panic, two wrong answers are
//! caught: a line without quotes must split exactly where its commas are, and
//! fields written back as a quoted record (each quote doubled) must read back
//! as the same fields. Seeds: the manifests of ../shared's evaluation sets
//! (fuzz/seeds/csv, first lines of each; see SOURCES.md there).
#![no_main]

use libfuzzer_sys::fuzz_target;
use trustshot_csv::{split, Table};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(table) = Table::parse(text) {
        for row in &table.rows {
            for column in 0..row.len() + 1 {
                let _ = table.cell(row, column);
            }
        }
    }
    for line in text.lines() {
        let fields = split(line);
        if !line.contains('"') {
            assert_eq!(fields, line.split(',').collect::<Vec<_>>());
        }
        let quoted: Vec<String> = fields.iter().map(|f| format!("\"{}\"", f.replace('"', "\"\""))).collect();
        assert_eq!(split(&quoted.join(",")), fields, "a record written back must read back the same");
    }
});
