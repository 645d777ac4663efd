//! Supplier folders, opened by handle.
//!
//! Every folder stockroom reads or writes under `dispatch.folder_root`
//! (outboxes, inboxes, their `processed/` and `rejected/`) is opened
//! relative to the folder above it, one name at a time, with `O_NOFOLLOW`:
//! a symbolic link is refused, never followed, and what was checked is
//! what is used — swapping a folder for a link after the check changes
//! nothing, because later operations go through the handle, not the path.
//! Files are created with `O_EXCL | O_NOFOLLOW`, read with `O_NOFOLLOW`,
//! and renamed handle to handle.

use std::ffi::OsStr;
use std::os::fd::OwnedFd;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use rustix::fs::{AtFlags, FileType, Mode, OFlags};
use rustix::io::Errno;

/// An open folder, and its path (for messages only: nothing is opened by it).
#[derive(Debug)]
pub struct Folder {
    fd: OwnedFd,
    path: PathBuf,
}

/// What is under a name in a folder, without following a link.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    File,
    Folder,
    Link,
    Other,
}

/// One entry of a folder: its name, kind, size and modification time.
#[derive(Debug, Clone)]
pub struct Entry {
    pub name: String,
    pub kind: Kind,
    pub size: u64,
    pub modified: std::time::SystemTime,
}

fn io(e: Errno) -> std::io::Error {
    e.into()
}

/// One path component, nothing else: no separator, not `.` or `..`.
fn single(name: &str) -> std::io::Result<&str> {
    if name.is_empty() || name == "." || name == ".." || name.contains('/') || name.contains('\0') {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("{name:?} is not a single file or folder name"),
        ));
    }
    Ok(name)
}

const DIR_FLAGS: OFlags = OFlags::RDONLY
    .union(OFlags::DIRECTORY)
    .union(OFlags::NOFOLLOW)
    .union(OFlags::CLOEXEC);

impl Folder {
    /// Opens the folder root itself (configured by the administrator, so a
    /// link there — a mounted share, say — is theirs to make).
    pub fn root(path: &Path) -> std::io::Result<Folder> {
        let fd = rustix::fs::open(
            path,
            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .map_err(io)?;
        Ok(Folder {
            fd,
            path: path.to_path_buf(),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The path `name` would have in this folder (for messages).
    pub fn path_of(&self, name: &str) -> PathBuf {
        self.path.join(name)
    }

    /// What is under `name`, without following a link; `None` if nothing.
    pub fn kind_of(&self, name: &str) -> std::io::Result<Option<Kind>> {
        match rustix::fs::statat(&self.fd, single(name)?, AtFlags::SYMLINK_NOFOLLOW) {
            Ok(st) => Ok(Some(kind(FileType::from_raw_mode(st.st_mode)))),
            Err(Errno::NOENT) => Ok(None),
            Err(e) => Err(io(e)),
        }
    }

    /// The folder `name` inside this one, created (one level) when it is
    /// not there. A symbolic link is refused, whatever it points at:
    /// whoever can write into a supplier's folder could otherwise send
    /// stockroom's files (or the files it moves) anywhere, the data
    /// directory included.
    pub fn sub(&self, name: &str) -> Result<Folder, String> {
        let path = self.path_of(name);
        let name = single(name).map_err(|e| e.to_string())?;
        match rustix::fs::mkdirat(&self.fd, name, Mode::from_raw_mode(0o755)) {
            Ok(()) | Err(Errno::EXIST) => {}
            Err(e) => return Err(format!("cannot create {}: {}", path.display(), io(e))),
        }
        match rustix::fs::openat(&self.fd, name, DIR_FLAGS, Mode::empty()) {
            Ok(fd) => Ok(Folder { fd, path }),
            Err(Errno::LOOP | Errno::NOTDIR) => Err(match self.kind_of(name) {
                Ok(Some(Kind::Link)) => format!(
                    "{} is a symbolic link: stockroom does not follow links in supplier folders; replace it with a real folder",
                    path.display()
                ),
                _ => format!("{} is a file, not a folder", path.display()),
            }),
            Err(e) => Err(format!("cannot open {}: {}", path.display(), io(e))),
        }
    }

    /// The folder `name` inside this one if it is there (a real folder,
    /// not a link); nothing is created.
    pub fn sub_existing(&self, name: &str) -> Option<Folder> {
        let name = single(name).ok()?;
        let fd = rustix::fs::openat(&self.fd, name, DIR_FLAGS, Mode::empty()).ok()?;
        Some(Folder {
            fd,
            path: self.path_of(name),
        })
    }

    /// The entries of this folder, links included (as links).
    pub fn entries(&self) -> std::io::Result<Vec<Entry>> {
        let mut out = Vec::new();
        for entry in rustix::fs::Dir::read_from(&self.fd).map_err(io)? {
            let entry = entry.map_err(io)?;
            let raw = entry.file_name().to_bytes();
            if raw == b"." || raw == b".." {
                continue;
            }
            let name = OsStr::from_bytes(raw).to_string_lossy().into_owned();
            // Gone meanwhile: skip it.
            let Ok(st) = rustix::fs::statat(&self.fd, entry.file_name(), AtFlags::SYMLINK_NOFOLLOW)
            else {
                continue;
            };
            let modified = std::time::UNIX_EPOCH
                + std::time::Duration::new(
                    u64::try_from(st.st_mtime).unwrap_or(0),
                    u32::try_from(st.st_mtime_nsec).unwrap_or(0),
                );
            out.push(Entry {
                name,
                kind: kind(FileType::from_raw_mode(st.st_mode)),
                size: u64::try_from(st.st_size).unwrap_or(0),
                modified,
            });
        }
        Ok(out)
    }

    /// Opens the file `name` for reading; a link is refused (ELOOP).
    pub fn open_read(&self, name: &str) -> std::io::Result<std::fs::File> {
        let fd = rustix::fs::openat(
            &self.fd,
            single(name)?,
            OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .map_err(io)?;
        Ok(std::fs::File::from(fd))
    }

    /// Writes `body` as `name` so that no reader sees half a file: a hidden
    /// temporary file (created new, never through a link), synced, renamed,
    /// the folder synced. Returns the file's path.
    pub fn write_atomic(&self, name: &str, body: &[u8]) -> std::io::Result<PathBuf> {
        use std::io::Write;
        let name = single(name)?;
        let tmp = format!(".{name}.tmp");
        let _ = rustix::fs::unlinkat(&self.fd, tmp.as_str(), AtFlags::empty());
        let fd = rustix::fs::openat(
            &self.fd,
            tmp.as_str(),
            OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC,
            Mode::from_raw_mode(0o644),
        )
        .map_err(io)?;
        let mut file = std::fs::File::from(fd);
        file.write_all(body)?;
        file.sync_all()?;
        drop(file);
        rustix::fs::renameat(&self.fd, tmp.as_str(), &self.fd, name).map_err(io)?;
        self.sync()?;
        Ok(self.path_of(name))
    }

    pub fn remove(&self, name: &str) -> std::io::Result<()> {
        rustix::fs::unlinkat(&self.fd, single(name)?, AtFlags::empty()).map_err(io)
    }

    /// Moves `name` from this folder to `to_name` in `to`.
    pub fn rename_to(&self, name: &str, to: &Folder, to_name: &str) -> std::io::Result<()> {
        rustix::fs::renameat(&self.fd, single(name)?, &to.fd, single(to_name)?).map_err(io)
    }

    /// Makes the folder's entries durable (after creating or moving files).
    pub fn sync(&self) -> std::io::Result<()> {
        rustix::fs::fsync(&self.fd).map_err(io)
    }
}

fn kind(t: FileType) -> Kind {
    match t {
        FileType::RegularFile => Kind::File,
        FileType::Directory => Kind::Folder,
        FileType::Symlink => Kind::Link,
        _ => Kind::Other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_are_refused_and_a_swap_after_opening_changes_nothing() {
        let root_dir = tempfile::tempdir().unwrap();
        let elsewhere = tempfile::tempdir().unwrap();
        let root = Folder::root(root_dir.path()).unwrap();

        // A link where a folder should be: refused, not followed.
        std::os::unix::fs::symlink(elsewhere.path(), root_dir.path().join("acme")).unwrap();
        let e = root.sub("acme").unwrap_err();
        assert!(e.contains("is a symbolic link"), "{e}");
        assert_eq!(root.kind_of("acme").unwrap(), Some(Kind::Link));

        // A real folder, opened; then swapped for a link to elsewhere.
        let real = root.sub("medi").unwrap();
        std::fs::rename(
            root_dir.path().join("medi"),
            root_dir.path().join("medi-old"),
        )
        .unwrap();
        std::os::unix::fs::symlink(elsewhere.path(), root_dir.path().join("medi")).unwrap();
        real.write_atomic("PO-1.csv", b"a,b\n").unwrap();
        assert!(
            root_dir.path().join("medi-old/PO-1.csv").is_file(),
            "written where the handle points"
        );
        assert_eq!(
            std::fs::read_dir(elsewhere.path()).unwrap().count(),
            0,
            "nothing reached the link's target"
        );

        // A file planted as a link is not read through, nor written through.
        let target = elsewhere.path().join("secret");
        std::fs::write(&target, b"secret").unwrap();
        std::os::unix::fs::symlink(&target, root_dir.path().join("medi-old/PO-2.csv")).unwrap();
        assert!(real.open_read("PO-2.csv").is_err());
        std::os::unix::fs::symlink(&target, root_dir.path().join("medi-old/.PO-3.csv.tmp"))
            .unwrap();
        real.write_atomic("PO-3.csv", b"x").unwrap();
        assert_eq!(std::fs::read(&target).unwrap(), b"secret");

        let kinds: Vec<(String, Kind)> = real
            .entries()
            .unwrap()
            .into_iter()
            .map(|e| (e.name, e.kind))
            .collect();
        assert!(
            kinds.contains(&("PO-1.csv".into(), Kind::File)),
            "{kinds:?}"
        );
        assert!(
            kinds.contains(&("PO-2.csv".into(), Kind::Link)),
            "{kinds:?}"
        );
        assert!(root.sub("../x").is_err());
        assert!(root.sub("..").is_err());
    }
}
