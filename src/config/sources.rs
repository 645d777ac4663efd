//! Gathers raw configuration values and remembers where each came from.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use super::ConfigProblem;
use super::keys::{self, KEYS};

/// What the command line contributes: an explicit file and flag overrides.
#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    /// `--config PATH`; overrides `STOCKROOM_CONFIG`.
    pub config_path: Option<PathBuf>,
    /// Flag overrides as (dotted key, value), applied last.
    pub overrides: Vec<(&'static str, String)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    Default,
    File(PathBuf),
    Env(String),
    /// A secret read from the file named by `<key>_file` / `STOCKROOM_<KEY>_FILE`.
    SecretFile(PathBuf),
    Flag,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::Default => f.write_str("default"),
            Origin::File(p) => write!(f, "file {}", p.display()),
            Origin::Env(name) => write!(f, "env {name}"),
            Origin::SecretFile(p) => write!(f, "secret file {}", p.display()),
            Origin::Flag => f.write_str("command line"),
        }
    }
}

/// A value before validation: TOML keeps its type, the environment gives text.
#[derive(Debug, Clone)]
pub enum RawValue {
    Toml(toml::Value),
    Text(String),
}

#[derive(Debug, Clone)]
pub struct Raw {
    pub value: RawValue,
    pub origin: Origin,
}

/// All layers merged: for each key the value of the highest layer that set it.
#[derive(Debug, Default)]
pub struct Sources {
    values: BTreeMap<&'static str, Raw>,
}

const CONFIG_ENV: &str = "STOCKROOM_CONFIG";

impl Sources {
    pub fn get(&self, key: &str) -> Option<&Raw> {
        self.values.get(key)
    }

    /// Reads every layer; problems (unreadable file, unknown keys) are
    /// returned beside whatever could be gathered so validation can add its own.
    pub fn gather(
        options: &LoadOptions,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> (Sources, Vec<ConfigProblem>) {
        let env: BTreeMap<String, String> = env
            .into_iter()
            .filter(|(k, _)| k.starts_with("STOCKROOM_"))
            .collect();
        let mut problems = Vec::new();
        let mut sources = Sources::default();

        let explicit = options
            .config_path
            .clone()
            .map(|p| (p, Origin::Flag))
            .or_else(|| {
                env.get(CONFIG_ENV)
                    .map(|p| (PathBuf::from(p), Origin::Env(CONFIG_ENV.into())))
            });
        let file = match explicit {
            Some((path, origin)) => Some((path, origin, true)),
            None => {
                // The data directory decides where the implicit file lives, so it
                // comes from the layers above the file (or the default).
                let data_dir = options
                    .overrides
                    .iter()
                    .find(|(k, _)| *k == "data_dir")
                    .map(|(_, v)| v.clone())
                    .or_else(|| env.get("STOCKROOM_DATA_DIR").cloned())
                    .unwrap_or_else(|| "./data".to_string());
                Some((
                    Path::new(&data_dir).join("stockroom.toml"),
                    Origin::Default,
                    false,
                ))
            }
        };
        if let Some((path, origin, required)) = file {
            sources.read_file(&path, &origin, required, &mut problems);
        }

        for spec in KEYS {
            let name = spec.env_name();
            if let Some(v) = env.get(&name) {
                sources.set(
                    spec.key,
                    RawValue::Text(v.clone()),
                    Origin::Env(name.clone()),
                );
            }
            if spec.secret {
                let file_var = format!("{name}_FILE");
                if let Some(path) = env.get(&file_var) {
                    sources.read_secret_file(spec.key, Path::new(path), &mut problems);
                }
            }
        }
        for name in env.keys() {
            if name == CONFIG_ENV {
                continue;
            }
            let known = KEYS.iter().any(|spec| {
                let n = spec.env_name();
                *name == n || (spec.secret && *name == format!("{n}_FILE"))
            });
            if !known {
                problems.push(ConfigProblem {
                    key: name.clone(),
                    origin: format!("env {name}"),
                    message: "unknown setting; see `stockroom check-config` and docs/configuration.md for the list".into(),
                });
            }
        }
        for (key, value) in &options.overrides {
            sources.set(key, RawValue::Text(value.clone()), Origin::Flag);
        }
        (sources, problems)
    }

    fn set(&mut self, key: &str, value: RawValue, origin: Origin) {
        if let Some(spec) = keys::find(key) {
            self.values.insert(spec.key, Raw { value, origin });
        }
    }

    fn read_file(
        &mut self,
        path: &Path,
        origin: &Origin,
        required: bool,
        problems: &mut Vec<ConfigProblem>,
    ) {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if !required && e.kind() == std::io::ErrorKind::NotFound => return,
            Err(e) => {
                problems.push(ConfigProblem {
                    key: "config".into(),
                    origin: origin.to_string(),
                    message: format!("cannot read config file {}: {e}", path.display()),
                });
                return;
            }
        };
        let table: toml::Table = match text.parse() {
            Ok(t) => t,
            Err(e) => {
                problems.push(ConfigProblem {
                    key: "config".into(),
                    origin: format!("file {}", path.display()),
                    message: format!("not valid TOML: {}", e.to_string().trim()),
                });
                return;
            }
        };
        let mut flat = Vec::new();
        flatten("", &table, &mut flat);
        let file_origin = Origin::File(path.to_path_buf());
        for (key, value) in flat {
            if let Some(spec) = keys::find(&key) {
                self.set(spec.key, RawValue::Toml(value), file_origin.clone());
                continue;
            }
            let secret_of = key
                .strip_suffix("_file")
                .and_then(keys::find)
                .filter(|s| s.secret);
            match (secret_of, value) {
                (Some(spec), toml::Value::String(p)) => {
                    let p = resolve_relative(path, &p);
                    self.read_secret_file(spec.key, &p, problems)
                }
                (Some(_), _) => problems.push(ConfigProblem {
                    key,
                    origin: file_origin.to_string(),
                    message: "expected a file path (a string)".into(),
                }),
                (None, _) => problems.push(ConfigProblem {
                    message: format!("unknown key{}", suggest(&key)),
                    key,
                    origin: file_origin.to_string(),
                }),
            }
        }
    }

    fn read_secret_file(&mut self, key: &str, path: &Path, problems: &mut Vec<ConfigProblem>) {
        match std::fs::read_to_string(path) {
            Ok(text) => self.set(
                key,
                RawValue::Text(text.trim_end_matches(['\r', '\n']).to_string()),
                Origin::SecretFile(path.to_path_buf()),
            ),
            Err(e) => problems.push(ConfigProblem {
                key: format!("{key}_file"),
                origin: format!("secret file {}", path.display()),
                message: format!("cannot read secret file: {e}"),
            }),
        }
    }
}

/// A relative path inside a config file is relative to that file.
fn resolve_relative(config_file: &Path, value: &str) -> PathBuf {
    let p = PathBuf::from(value);
    match config_file.parent() {
        Some(dir) if p.is_relative() => dir.join(p),
        _ => p,
    }
}

fn flatten(prefix: &str, table: &toml::Table, out: &mut Vec<(String, toml::Value)>) {
    for (k, v) in table {
        let key = if prefix.is_empty() {
            k.clone()
        } else {
            format!("{prefix}.{k}")
        };
        match v {
            toml::Value::Table(t) => flatten(&key, t, out),
            other => out.push((key, other.clone())),
        }
    }
}

/// "; did you mean `db.pool_size`?" for a near miss, else nothing.
fn suggest(unknown: &str) -> String {
    let best = KEYS
        .iter()
        .map(|k| (edit_distance(unknown, k.key), k.key))
        .min()
        .filter(|(d, _)| *d <= 3);
    match best {
        Some((_, k)) => format!("; did you mean `{k}`?"),
        None => String::new(),
    }
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = if ca == *cb {
                prev
            } else {
                1 + prev.min(row[j]).min(cur)
            };
            prev = cur;
        }
    }
    row[b.len()]
}
