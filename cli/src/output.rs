//! Staged output: every file and directory a command writes goes to a temporary path beside its
//! target and is renamed into place only once the whole command has succeeded.
//!
//! A failed command drops its [`Outputs`], which removes what it staged (and any directory it had
//! to create); an interrupted one (SIGINT, SIGTERM, SIGHUP) has the handler that
//! [`install_signal_handler`] installs remove every registered temporary path before exiting. The
//! registry's lock is held while a temporary path is created and while a commit renames, and the
//! handler exits while holding it, so no temporary path can appear after the handler has cleaned up
//! and a commit is never cut in half.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use anyhow::Context as _;

use crate::input::InputError;

/// Temporary paths (files, directories) that must not outlive the process.
static PENDING: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

fn pending() -> MutexGuard<'static, Vec<PathBuf>> {
    // A panic while holding the lock leaves the list itself intact.
    PENDING.lock().unwrap_or_else(|e| e.into_inner())
}

/// On SIGINT/SIGTERM/SIGHUP: removes every registered temporary path and exits with 130.
pub fn install_signal_handler() {
    let installed = ctrlc::set_handler(|| {
        let paths = pending();
        for p in paths.iter() {
            remove(p);
        }
        eprintln!("vitrine: interrupted; no output written");
        // Exits with the lock held: the main thread cannot stage or commit anything more.
        std::process::exit(130);
    });
    if let Err(e) = installed {
        eprintln!("vitrine: warning: cannot handle interruptions ({e}); an interrupted run may leave temporary files");
    }
}

fn remove(p: &Path) {
    if p.is_dir() {
        // Retried: another thread may still be adding a file to it.
        for _ in 0..3 {
            if std::fs::remove_dir_all(p).is_ok() || !p.exists() {
                break;
            }
        }
    } else {
        let _ = std::fs::remove_file(p);
    }
}

fn unregister(list: &mut Vec<PathBuf>, p: &Path) {
    if let Some(i) = list.iter().position(|q| q == p) {
        list.swap_remove(i);
    }
}

struct Staged {
    tmp: PathBuf,
    target: PathBuf,
    dir: bool,
}

/// The outputs of one command, staged until [`Outputs::commit`].
#[derive(Default)]
pub struct Outputs {
    staged: Vec<Staged>,
    /// Directories created for the outputs (the outermost new one of each path), removed on failure.
    created: Vec<PathBuf>,
}

impl Outputs {
    pub fn new() -> Outputs {
        Outputs::default()
    }

    /// Checks the target and makes its directory; the temporary path beside it.
    fn prepare(&mut self, target: &Path, dir: bool) -> anyhow::Result<PathBuf> {
        if !dir && target.is_dir() {
            return Err(InputError(format!("{}: is a directory; expected a file to write", target.display())).into());
        }
        if dir && target.exists() && !target.is_dir() {
            return Err(InputError(format!("{}: exists and is not a directory", target.display())).into());
        }
        let parent = target.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
        if !parent.is_dir() {
            let outermost = parent.ancestors().take_while(|a| !a.as_os_str().is_empty() && !a.exists()).last().map(Path::to_path_buf);
            if let Some(o) = outermost {
                pending().push(o.clone());
                self.created.push(o);
            }
            std::fs::create_dir_all(parent).with_context(|| format!("creating {}", parent.display()))?;
        }
        let name = target.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "out".into());
        Ok(parent.join(format!(".{name}.tmp{}", std::process::id())))
    }

    /// A writer to a temporary file that becomes `target` on commit.
    pub fn file(&mut self, target: &Path) -> anyhow::Result<BufWriter<File>> {
        let tmp = self.prepare(target, false)?;
        // Staged again: the new content replaces the old, under the same temporary name.
        let again = self.staged.iter().any(|s| s.target == target);
        let file = {
            let mut list = pending();
            if !again {
                list.push(tmp.clone());
            }
            File::create(&tmp).with_context(|| format!("writing {}", tmp.display()))?
        };
        if !again {
            self.staged.push(Staged { tmp, target: target.to_path_buf(), dir: false });
        }
        Ok(BufWriter::with_capacity(1 << 16, file))
    }

    /// Stages `bytes` as the content of `target`.
    pub fn write(&mut self, target: &Path, bytes: &[u8]) -> anyhow::Result<()> {
        let mut w = self.file(target)?;
        w.write_all(bytes).and_then(|()| w.flush()).with_context(|| format!("writing {}", target.display()))
    }

    /// Stages a directory of `files` (name, bytes) as `target`; nothing when `target` already
    /// exists (callers name directories by their content).
    pub fn dir(&mut self, target: &Path, files: &[(String, Vec<u8>)]) -> anyhow::Result<()> {
        if target.is_dir() {
            return Ok(());
        }
        let tmp = self.prepare(target, true)?;
        {
            let mut list = pending();
            list.push(tmp.clone());
            std::fs::create_dir(&tmp).with_context(|| format!("creating {}", tmp.display()))?;
        }
        self.staged.push(Staged { tmp: tmp.clone(), target: target.to_path_buf(), dir: true });
        for (name, bytes) in files {
            let path = tmp.join(name);
            // Under the lock, so an interruption cannot race the handler's removal of `tmp`.
            let _list = pending();
            std::fs::write(&path, bytes).with_context(|| format!("writing {}", path.display()))?;
        }
        Ok(())
    }

    /// Renames everything into place, directories first (a file may name them). A rename that
    /// fails undoes the directories already renamed.
    pub fn commit(mut self) -> anyhow::Result<()> {
        let mut list = pending();
        self.staged.sort_by_key(|s| !s.dir);
        let mut renamed: Vec<PathBuf> = Vec::new();
        for s in &self.staged {
            if let Err(e) = std::fs::rename(&s.tmp, &s.target) {
                for r in &renamed {
                    remove(r);
                }
                return Err(e).with_context(|| format!("renaming into {}", s.target.display()));
            }
            unregister(&mut list, &s.tmp);
            if s.dir {
                renamed.push(s.target.clone());
            }
        }
        self.staged.clear();
        for c in self.created.drain(..) {
            unregister(&mut list, &c);
        }
        Ok(())
    }
}

impl Drop for Outputs {
    fn drop(&mut self) {
        let mut list = pending();
        for s in self.staged.drain(..) {
            remove(&s.tmp);
            unregister(&mut list, &s.tmp);
        }
        for c in self.created.drain(..).rev() {
            remove(&c);
            unregister(&mut list, &c);
        }
    }
}

/// Writes one file through a temporary file renamed into place.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let mut out = Outputs::new();
    out.write(path, bytes)?;
    out.commit()
}
