//! A small CSV reader for evaluation manifests: a header row, then rows
//! looked up by column name; quoted fields may hold commas and `""`.

use std::collections::HashMap;
use std::path::Path;

pub struct Table {
    columns: HashMap<String, usize>,
    pub rows: Vec<Vec<String>>,
}

impl Table {
    pub fn read(path: &Path) -> Result<Table, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let mut lines = text.lines().filter(|l| !l.trim().is_empty());
        let header = split(lines.next().ok_or(format!("{} is empty", path.display()))?);
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

fn split(line: &str) -> Vec<String> {
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
    #[test]
    fn quoted_commas_and_quotes() {
        assert_eq!(super::split(r#"a,"b, c",,"say ""hi""""#), vec!["a", "b, c", "", r#"say "hi""#]);
    }
}
