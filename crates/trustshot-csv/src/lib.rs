//! A small CSV reader for evaluation manifests: a header row, then rows
//! looked up by column name; quoted fields may hold commas and `""`. Blank
//! lines are skipped; a record does not span lines (no manifest needs it).
//! Fuzzed on its own (fuzz/fuzz_targets/csv.rs): this crate has no
//! dependencies, so the fuzz build is seconds, not the face pipeline's minutes.

use std::collections::HashMap;
use std::path::Path;

pub struct Table {
    columns: HashMap<String, usize>,
    pub rows: Vec<Vec<String>>,
}

impl Table {
    /// Reads the manifest at `path`.
    pub fn read(path: &Path) -> Result<Table, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        Table::parse(&text).map_err(|e| format!("{}: {e}", path.display()))
    }

    /// Parses manifest text: the first non-blank line names the columns.
    pub fn parse(text: &str) -> Result<Table, String> {
        let mut lines = text.lines().filter(|l| !l.trim().is_empty());
        let header = split(lines.next().ok_or("the manifest is empty")?);
        let columns = header.into_iter().enumerate().map(|(i, h)| (h.trim().to_string(), i)).collect();
        Ok(Table { columns, rows: lines.map(split).collect() })
    }

    /// Index of `name`, or an error naming the missing column.
    pub fn column(&self, name: &str) -> Result<usize, String> {
        self.columns.get(name).copied().ok_or(format!("manifest has no {name} column"))
    }

    /// Cell `column` of `row` ("" when the row is short).
    pub fn cell<'a>(&self, row: &'a [String], column: usize) -> &'a str {
        row.get(column).map(|s| s.as_str()).unwrap_or("")
    }
}

/// The fields of one line.
pub fn split(line: &str) -> Vec<String> {
    let mut fields = vec![String::new()];
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                chars.next();
                fields.last_mut().expect("one field").push('"');
            }
            ('"', _) => quoted = !quoted,
            (',', false) => fields.push(String::new()),
            (c, _) => fields.last_mut().expect("one field").push(c),
        }
    }
    fields
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_commas_and_quotes() {
        assert_eq!(split(r#"a,"b, c",,"say ""hi""""#), vec!["a", "b, c", "", r#"say "hi""#]);
    }

    #[test]
    fn header_columns_cells_and_blank_lines() {
        let table = Table::parse("file, label\n\na.jpg,live\n\"b,c.jpg\"\n").unwrap();
        let (file, label) = (table.column("file").unwrap(), table.column("label").unwrap());
        assert_eq!(table.rows.len(), 2);
        assert_eq!(table.cell(&table.rows[1], file), "b,c.jpg");
        assert_eq!(table.cell(&table.rows[1], label), "", "a short row reads as empty cells");
        assert!(table.column("subject").unwrap_err().contains("subject"));
        assert!(Table::parse(" \n\n").is_err());
    }
}
