//! Item text search, in memory.
//!
//! Every item's name and code, folded (lower case, accents removed), in name
//! order. A search is one pass of a substring finder over that text: about
//! a tenth of a millisecond for 15,000 items, faster than any index SQLite
//! offers for "any part of the name", and it finds one- and two-letter parts
//! as well. The copy is rebuilt when `catalog_version` (bumped by triggers
//! on `items`, whoever writes) no longer matches the one it was built from.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use rusqlite::Connection;
use unicode_normalization::UnicodeNormalization;

use crate::db::Cached;

/// Lower case without accents: "Kompresse Größe Ä" → "kompresse große a".
pub fn fold(s: &str) -> String {
    s.nfd()
        .filter(|c| !unicode_normalization::char::is_combining_mark(*c))
        .flat_map(char::to_lowercase)
        .collect()
}

struct Entry {
    id: i64,
    active: bool,
    category_id: Option<i64>,
}

/// The catalog's searchable text at one version.
pub struct Index {
    version: i64,
    entries: Vec<Entry>,
    /// Every entry's folded name, `\u{1}`, folded code, then `\n`, one
    /// after the other: one buffer is searched in a single pass.
    text: String,
    /// Where each entry's text starts in `text`.
    starts: Vec<usize>,
    position: HashMap<i64, usize>,
}

impl Index {
    fn build(conn: &Connection, version: i64) -> rusqlite::Result<Index> {
        let mut stmt = conn.prepare_cached(
            "SELECT id, name, code, active, category_id FROM items ORDER BY name COLLATE NOCASE, id",
        )?;
        let (mut entries, mut text, mut starts) = (Vec::new(), String::new(), Vec::new());
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            let (name, code): (String, String) = (r.get(1)?, r.get(2)?);
            starts.push(text.len());
            // Names and codes hold no control characters (validation
            // refuses them), so the separators cannot occur inside.
            text.push_str(&fold(&name));
            text.push('\u{1}');
            text.push_str(&fold(&code));
            text.push('\n');
            entries.push(Entry {
                id: r.get(0)?,
                active: r.get(3)?,
                category_id: r.get(4)?,
            });
        }
        let position = entries.iter().enumerate().map(|(n, e)| (e.id, n)).collect();
        Ok(Index {
            version,
            entries,
            text,
            starts,
            position,
        })
    }

    /// Positions (in name order) of the items whose name or code contains
    /// `q` (already folded, not empty).
    pub fn positions(&self, q: &str) -> Vec<usize> {
        let q: String = q.chars().filter(|c| *c != '\u{1}' && *c != '\n').collect();
        if q.is_empty() {
            return Vec::new();
        }
        let mut out: Vec<usize> = Vec::new();
        for at in memchr::memmem::find_iter(self.text.as_bytes(), q.as_bytes()) {
            let entry = self.starts.partition_point(|s| *s <= at) - 1;
            if out.last() != Some(&entry) {
                out.push(entry);
            }
        }
        out
    }

    /// Where `id` stands in name order.
    pub fn position_of(&self, id: i64) -> Option<usize> {
        self.position.get(&id).copied()
    }

    pub fn id_at(&self, position: usize) -> i64 {
        self.entries[position].id
    }

    /// Whether the item at `position` passes the list's own filters.
    pub fn keeps(&self, position: usize, include_inactive: bool, category: Option<i64>) -> bool {
        let e = &self.entries[position];
        (include_inactive || e.active) && category.is_none_or(|c| e.category_id == Some(c))
    }
}

/// The current index, shared by every request.
#[derive(Default)]
pub struct SearchCache {
    current: RwLock<Option<Arc<Index>>>,
}

impl SearchCache {
    /// The index for the catalog as `conn` sees it now, rebuilt if the
    /// catalog changed since it was built.
    pub fn index(&self, conn: &Connection) -> rusqlite::Result<Arc<Index>> {
        let version: i64 = conn.row_cached(
            "SELECT version FROM catalog_version WHERE id = 1",
            [],
            |r| r.get(0),
        )?;
        if let Some(i) = self.current.read().expect("search index lock").as_ref()
            && i.version == version
        {
            return Ok(i.clone());
        }
        // Built from data at least as new as `version`: at worst rebuilt
        // once more on the next search.
        let built = Arc::new(Index::build(conn, version)?);
        *self.current.write().expect("search index lock") = Some(built.clone());
        Ok(built)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folding_ignores_case_and_accents() {
        assert_eq!(fold("Kompresse GRÖSSE Ä"), "kompresse grosse a");
        assert_eq!(fold("Sérum physiologique"), "serum physiologique");
    }

    #[test]
    fn the_index_follows_the_catalog_version() {
        let conn = crate::db::testing::migrated_memory();
        conn.execute_batch(
            "INSERT INTO items (id, code, name, unit, created_at, updated_at) VALUES
               (1, 'GLV-M', 'Nitrile gloves M', 'each', 'now', 'now'),
               (2, 'SYR-5', 'Syringe 5 ml', 'each', 'now', 'now');",
        )
        .unwrap();
        let cache = SearchCache::default();
        let i = cache.index(&conn).unwrap();
        assert_eq!(
            i.positions("glove")
                .iter()
                .map(|p| i.id_at(*p))
                .collect::<Vec<_>>(),
            [1]
        );
        assert_eq!(i.positions("syr-").len(), 1, "codes are searched");
        assert_eq!(i.positions("m").len(), 2, "one letter is enough");
        assert!(
            i.positions("m\nsyr").is_empty(),
            "no match across two items"
        );
        assert!(
            i.positions("m\u{1}glv").is_empty(),
            "nor across name and code"
        );
        assert_eq!(
            i.positions("ml")
                .iter()
                .map(|p| i.id_at(*p))
                .collect::<Vec<_>>(),
            [2]
        );
        conn.execute("UPDATE items SET name = 'Latex gloves M' WHERE id = 1", [])
            .unwrap();
        let i = cache.index(&conn).unwrap();
        assert!(
            i.positions("nitrile").is_empty(),
            "a rename is seen at once"
        );
        assert_eq!(i.positions("latex").len(), 1);
    }
}
