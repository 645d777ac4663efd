//! Finding a location from what a spreadsheet says: a path such as
//! "Treatment room › Cabinet A" (or with `>`), the end of a path
//! ("Cabinet A › Shelf 2") or a bare name, as long as it names exactly one
//! open location. Names compare without regard to case.

use std::collections::HashMap;

use rusqlite::Connection;

struct Place {
    id: i64,
    /// Names from the top of the tree down, lower case.
    path: Vec<String>,
    display: String,
    active: bool,
}

/// Every location with its path, loaded once per import.
pub(crate) struct Places(Vec<Place>);

impl Places {
    pub fn load(conn: &Connection) -> rusqlite::Result<Places> {
        let mut stmt = conn.prepare_cached("SELECT id, parent_id, name, active FROM locations")?;
        let rows: Vec<(i64, Option<i64>, String, bool)> = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
            .collect::<Result<_, _>>()?;
        let by_id: HashMap<i64, (Option<i64>, &str)> = rows
            .iter()
            .map(|(id, parent, name, _)| (*id, (*parent, name.as_str())))
            .collect();
        let places = rows
            .iter()
            .map(|(id, _, _, active)| {
                let mut names = Vec::new();
                let mut at = Some(*id);
                while let Some((parent, name)) = at.and_then(|a| by_id.get(&a)) {
                    names.push(name.to_string());
                    at = *parent;
                    if names.len() > by_id.len() {
                        break;
                    }
                }
                names.reverse();
                Place {
                    id: *id,
                    path: names.iter().map(|n| n.to_lowercase()).collect(),
                    display: names.join(" › "),
                    active: *active,
                }
            })
            .collect();
        Ok(Places(places))
    }

    /// Only the locations `actor` may use: for them the others do not
    /// exist, so a refusal never tells which names are taken.
    pub fn load_for(
        conn: &Connection,
        actor: &crate::domain::actor::Actor,
    ) -> rusqlite::Result<Places> {
        let mut all = Places::load(conn)?;
        all.0.retain(|p| actor.may_use(p.id));
        Ok(all)
    }

    /// The one open location `raw` names, or why there is none.
    pub fn resolve(&self, raw: &str) -> Result<i64, String> {
        let parts: Vec<String> = raw
            .split(['›', '>'])
            .map(|p| p.trim().to_lowercase())
            .filter(|p| !p.is_empty())
            .collect();
        if parts.is_empty() {
            return Err("is required".into());
        }
        let open = || self.0.iter().filter(|p| p.active);
        if let Some(p) = open().find(|p| p.path == parts) {
            return Ok(p.id);
        }
        let ends: Vec<&Place> = open().filter(|p| p.path.ends_with(&parts)).collect();
        match ends.as_slice() {
            [one] => Ok(one.id),
            [] => match self.0.iter().find(|p| p.path.ends_with(&parts)) {
                Some(closed) => Err(format!("{} is closed", closed.display)),
                None => Err(format!(
                    "no location is called {}: write its path like Treatment room › Cabinet A",
                    raw.trim()
                )),
            },
            many => {
                let mut names: Vec<&str> = many.iter().map(|p| p.display.as_str()).collect();
                names.sort_unstable();
                Err(format!(
                    "names {} locations ({}): write the whole path",
                    names.len(),
                    names.join("; ")
                ))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_ends_of_paths_and_unique_names() {
        let conn = crate::db::testing::migrated_memory();
        conn.execute_batch(
            "INSERT INTO locations (id, parent_id, name, kind, active, created_at, updated_at) VALUES
               (1, NULL, 'Treatment room', 'room', 1, 'now', 'now'),
               (2, 1, 'Cabinet A', 'cabinet', 1, 'now', 'now'),
               (3, NULL, 'Store', 'room', 1, 'now', 'now'),
               (4, 3, 'Cabinet A', 'cabinet', 1, 'now', 'now'),
               (5, 3, 'Fridge', 'fridge', 1, 'now', 'now'),
               (6, 3, 'Old shelf', 'shelf', 0, 'now', 'now');",
        )
        .unwrap();
        let places = Places::load(&conn).unwrap();
        assert_eq!(places.resolve("Treatment room › Cabinet A"), Ok(2));
        assert_eq!(places.resolve("treatment room > cabinet a"), Ok(2));
        assert_eq!(places.resolve("Store>Cabinet A"), Ok(4));
        assert_eq!(places.resolve("Fridge"), Ok(5));
        assert_eq!(places.resolve("Store"), Ok(3));
        let e = places.resolve("Cabinet A").unwrap_err();
        assert!(e.contains("names 2 locations"), "{e}");
        assert!(
            places
                .resolve("Old shelf")
                .unwrap_err()
                .contains("is closed")
        );
        assert!(
            places
                .resolve("Garage")
                .unwrap_err()
                .starts_with("no location")
        );
        assert_eq!(places.resolve(" › "), Err("is required".into()));
    }
}
