//! The isolation layers around generated code, decided once per run and reported.
//!
//! In: the paths the generated code needs (interpreter, installer, staging folder, caches).
//! Out: an [`Isolation`] that says which layers are in force on this machine and why any is
//! off, and prepares each command's child process (see [`Isolation::child_setup`]):
//! - **its own uid/gid** (when the action runs as root): a uid from a private range, locked for
//!   the run so that concurrent runs never share one; it owns only the staging folder and the
//!   venv; everything of that uid is killed after each command, `setsid` or not;
//! - **Landlock** (when the kernel offers it): the file system outside the staging folder, the
//!   venv, the package caches, the interpreter and the system's read-only folders is invisible;
//!   TCP connects are refused while testing and limited to the index ports while installing;
//!   signals and abstract sockets outside the sandbox are refused;
//! - **resource limits** (processes, file size, address space, no core dumps), the time limit
//!   and the process-group kill of the caller.
//!
//! The action itself is made non-dumpable at start ([`harden_self`]), so `/proc/<pid>/environ`,
//! `/proc/<pid>/mem` and ptrace are refused even to a process of the same uid.
//! Nothing here falls back silently: every layer that is off carries its reason.

use std::ffi::CString;
use std::fs::File;
use std::os::fd::AsRawFd;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use landlock::{
    ABI, Access as _, AccessFs, AccessNet, CompatLevel, Compatible, NetPort, PathBeneath, PathFd,
    Ruleset, RulesetAttr, RulesetCreated, RulesetCreatedAttr, Scope,
};

/// First uid of the sandbox range when no `e2e-sandbox` user exists (the image creates one
/// with this uid). Far from the runner's 1001 and from system accounts.
pub const SANDBOX_UID_BASE: u32 = 64000;
/// How many uids the range holds (one per concurrent run on a machine).
const SANDBOX_UID_SLOTS: u32 = 512;
/// The name of the image's sandbox user.
pub const SANDBOX_USER: &str = "e2e-sandbox";

/// Makes the action non-dumpable: other processes, even of the same uid, cannot read its
/// environment or memory or attach to it. Returns whether it took effect.
pub fn harden_self() -> bool {
    // SAFETY: prctl with these arguments only changes this process's dumpable flag.
    unsafe { libc::prctl(libc::PR_SET_DUMPABLE, 0, 0, 0, 0) == 0 }
}

/// Whether this process is non-dumpable (see [`harden_self`]).
pub fn is_non_dumpable() -> bool {
    // SAFETY: reads the flag only.
    unsafe { libc::prctl(libc::PR_GET_DUMPABLE, 0, 0, 0, 0) == 0 }
}

/// The uid and gid generated code runs as, locked for this run.
#[derive(Debug)]
pub struct SandboxUser {
    /// Its uid.
    pub uid: u32,
    /// Its gid.
    pub gid: u32,
    // Held for the run: another run on the machine skips this uid while the lock is held.
    _lock: File,
}

/// What a sandboxed command may reach, on top of the read-only system folders.
#[derive(Debug, Clone, Default)]
pub struct Access {
    /// Folders it may read, write, create and delete in.
    pub write: Vec<PathBuf>,
    /// Extra folders (or files) it may read and execute (the interpreter's prefix, uv).
    pub read: Vec<PathBuf>,
    /// TCP ports it may connect to; empty = no TCP connect at all.
    pub tcp_ports: Vec<u16>,
}

/// The isolation layers of this run.
#[derive(Debug)]
pub struct Isolation {
    /// The sandbox user, when the action can switch to one.
    pub user: Option<SandboxUser>,
    /// The kernel's Landlock ABI (0 = unavailable).
    pub landlock_abi: i32,
    /// Whether the action itself is non-dumpable.
    pub non_dumpable: bool,
    /// Why a layer is off (empty when all are on).
    pub off: Vec<String>,
}

/// Read-only system folders every command may read and execute from.
const SYSTEM_READ: &[&str] = &[
    "/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc", "/opt", "/proc", "/sys",
];

impl Isolation {
    /// Decides the layers. `needs` are the paths the sandbox user must reach (the staging
    /// folder's parent, the cache folder, the interpreter, the installer).
    pub fn prepare(needs: &[&Path]) -> Isolation {
        let mut off = Vec::new();
        // `E2E_LANDLOCK_ABI` may lower (never raise) the ABI used, to see how the run behaves on
        // an older kernel (as the landlock crate suggests for tests).
        let cap = std::env::var("E2E_LANDLOCK_ABI")
            .ok()
            .and_then(|v| v.parse::<i32>().ok());
        let landlock_abi = cap.map_or(landlock_abi(), |c| c.clamp(0, landlock_abi()));
        if landlock_abi < 1 {
            off.push(
                "Landlock: not offered by this kernel (the uid and the limits still hold)".into(),
            );
        } else if landlock_abi < 4 {
            off.push(format!(
                "Landlock network rules: kernel ABI {landlock_abi} has none (TCP connects are not refused)"
            ));
        }
        let user = if !is_root() {
            off.push("own uid: the action is not root, so it cannot switch to a sandbox user; Landlock and the limits hold, and a process that calls setsid can outlive a step".into());
            None
        } else {
            match allocate_user() {
                Ok(u) => match needs.iter().find(|p| !reachable(p, u.uid, u.gid)) {
                    Some(p) => {
                        off.push(format!(
                            "own uid: {} is not reachable by uid {} (a parent folder is not searchable by others); generated code runs as the action's uid",
                            p.display(),
                            u.uid
                        ));
                        None
                    }
                    None => Some(u),
                },
                Err(e) => {
                    off.push(format!("own uid: {e}"));
                    None
                }
            }
        };
        Isolation {
            user,
            landlock_abi,
            non_dumpable: is_non_dumpable(),
            off,
        }
    }

    /// No layer beyond the caller's limits: for tests of the plain runner.
    pub fn none() -> Isolation {
        Isolation {
            user: None,
            landlock_abi: 0,
            non_dumpable: false,
            off: vec!["isolation disabled".into()],
        }
    }

    /// One line naming the layers in force and, after it, why any is off.
    pub fn describe(&self) -> String {
        let mut on = Vec::new();
        if let Some(u) = &self.user {
            on.push(format!(
                "own uid {}:{} (killed by uid after each step)",
                u.uid, u.gid
            ));
        }
        if self.landlock_abi >= 1 {
            let mut what = vec!["file system confined"];
            if self.landlock_abi >= 4 {
                what.push("TCP connects refused while testing");
            }
            if self.landlock_abi >= 6 {
                what.push("signals and abstract sockets scoped");
            }
            on.push(format!(
                "Landlock ABI {} ({})",
                self.landlock_abi,
                what.join(", ")
            ));
        }
        if self.non_dumpable {
            on.push("action non-dumpable".into());
        }
        on.push("environment from scratch, process group, time and resource limits".into());
        let mut s = format!("sandbox: {}", on.join("; "));
        if !self.off.is_empty() {
            s.push_str(&format!(" — off: {}", self.off.join("; ")));
        }
        s
    }

    /// Builds the Landlock ruleset for `access` in the parent (so that errors are reported
    /// here and the child only calls `restrict_self`).
    pub fn ruleset(&self, access: &Access) -> std::io::Result<Option<RulesetCreated>> {
        if self.landlock_abi < 1 {
            return Ok(None);
        }
        let abi = ABI::from(self.landlock_abi);
        let err = |e: landlock::RulesetError| std::io::Error::other(format!("Landlock: {e}"));
        let mut ruleset = Ruleset::default()
            .set_compatibility(CompatLevel::HardRequirement)
            .handle_access(AccessFs::from_all(abi))
            .map_err(err)?;
        if self.landlock_abi >= 4 {
            ruleset = ruleset.handle_access(AccessNet::ConnectTcp).map_err(err)?;
        }
        if self.landlock_abi >= 6 {
            ruleset = ruleset.scope(Scope::from_all(abi)).map_err(err)?;
        }
        let mut created = ruleset.create().map_err(err)?;
        let read = AccessFs::from_read(abi);
        let all = AccessFs::from_all(abi);
        let mut rules: Vec<(PathBuf, landlock::BitFlags<AccessFs>)> = Vec::new();
        for p in SYSTEM_READ {
            rules.push((PathBuf::from(p), read));
        }
        // Devices: /dev/null, /dev/urandom, /dev/shm (multiprocessing); the uid's own
        // permissions still decide which device may be written.
        rules.push((PathBuf::from("/dev"), all));
        for p in &access.read {
            rules.push((p.clone(), read));
        }
        for p in &access.write {
            rules.push((p.clone(), all));
        }
        for (path, rights) in rules {
            let Ok(fd) = PathFd::new(&path) else { continue };
            // A file (not a folder) takes only the rights that apply to files.
            let rights = if path.is_dir() {
                rights
            } else {
                rights & AccessFs::from_file(abi)
            };
            created = created
                .add_rule(PathBeneath::new(fd, rights))
                .map_err(err)?;
        }
        if self.landlock_abi >= 4 {
            for port in &access.tcp_ports {
                created = created
                    .add_rule(NetPort::new(*port, AccessNet::ConnectTcp))
                    .map_err(err)?;
            }
        }
        Ok(Some(created))
    }

    /// Kills every process of the sandbox user (those that left the process group too) and
    /// returns how many of its processes are still alive afterwards (0 when all are gone).
    pub fn kill_user_processes(&self) -> usize {
        let Some(u) = &self.user else { return 0 };
        // Gone means seen gone twice in a row: a process caught mid-fork shows up late.
        let mut empty_checks = 0;
        for _ in 0..100 {
            if processes_of(u.uid).is_empty() {
                empty_checks += 1;
                if empty_checks == 2 {
                    return 0;
                }
            } else {
                empty_checks = 0;
                kill_all_as(u.uid, u.gid);
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        processes_of(u.uid).len()
    }

    /// Gives the sandbox user a folder tree (the staging folder, a venv, a cache): owned by its
    /// uid and the sandbox group, group-writable. A tree that already belongs to the sandbox
    /// group (a venv or cache another run made) is left as it is: the group may write it, and
    /// re-owning it under a concurrent run would pull it from under that run.
    pub fn hand_over(&self, path: &Path) -> std::io::Result<()> {
        let Some(u) = &self.user else { return Ok(()) };
        let named = named_user(SANDBOX_USER).map(|(uid, _)| uid);
        let meta = std::fs::symlink_metadata(path)?;
        if meta.gid() == u.gid && is_sandbox_uid(meta.uid(), named) && meta.mode() & 0o020 != 0 {
            return Ok(());
        }
        chown_tree(path, u.uid, u.gid, named)
    }
}

/// The kernel's Landlock ABI version, 0 when Landlock is unavailable.
pub fn landlock_abi() -> i32 {
    // SAFETY: LANDLOCK_CREATE_RULESET_VERSION (1 << 0) with a null attr only queries the ABI.
    let v = unsafe {
        libc::syscall(
            libc::SYS_landlock_create_ruleset,
            std::ptr::null::<u8>(),
            0usize,
            1u32,
        )
    };
    if v < 0 { 0 } else { v as i32 }
}

fn is_root() -> bool {
    // SAFETY: geteuid cannot fail.
    unsafe { libc::geteuid() == 0 }
}

fn allocate_user() -> Result<SandboxUser, String> {
    let (base, gid_of_named) = match named_user(SANDBOX_USER) {
        Some((uid, gid)) => (uid, Some(gid)),
        None => (SANDBOX_UID_BASE, None),
    };
    // Root's own /run when there is one (no other user can plant links there), else the
    // system's temporary folder.
    let run = Path::new("/run");
    let locks = if run.is_dir() {
        run.join("e2e-action-uids")
    } else {
        std::env::temp_dir().join("e2e-action-uids")
    };
    std::fs::create_dir_all(&locks)
        .map_err(|e| format!("cannot create {}: {e}", locks.display()))?;
    for uid in base..base + SANDBOX_UID_SLOTS {
        let path = locks.join(uid.to_string());
        let Ok(file) = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
        else {
            continue;
        };
        // SAFETY: flock on a file we own; released when the file is closed.
        if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } == 0 {
            // One group for every sandbox uid: runs that share a cached venv (same
            // requirements) may all write its bytecode, while each run's uid is its own.
            let gid = gid_of_named.unwrap_or(base);
            return Ok(SandboxUser {
                uid,
                gid,
                _lock: file,
            });
        }
    }
    Err(format!(
        "all {SANDBOX_UID_SLOTS} sandbox uids from {base} are in use by other runs"
    ))
}

fn named_user(name: &str) -> Option<(u32, u32)> {
    let c = CString::new(name).ok()?;
    // SAFETY: getpwnam returns a pointer into static storage or null; read at once.
    unsafe {
        let pw = libc::getpwnam(c.as_ptr());
        if pw.is_null() {
            None
        } else {
            Some(((*pw).pw_uid, (*pw).pw_gid))
        }
    }
}

/// Whether `uid`/`gid` can reach `path`: every parent folder searchable by them and the path
/// itself readable (an executable also executable).
pub fn reachable(path: &Path, uid: u32, gid: u32) -> bool {
    let mut cur = PathBuf::new();
    let comps: Vec<_> = path.components().collect();
    for (i, c) in comps.iter().enumerate() {
        cur.push(c);
        let Ok(meta) = std::fs::metadata(&cur) else {
            // Not created yet: the action creates it (and hands it over) later.
            return true;
        };
        let last = i + 1 == comps.len();
        let need = if meta.is_dir() {
            0o1
        } else if last {
            0o4
        } else {
            return false;
        };
        let mode = meta.mode();
        let bits = if meta.uid() == uid {
            (mode >> 6) & 7
        } else if meta.gid() == gid {
            (mode >> 3) & 7
        } else {
            mode & 7
        };
        if bits & need != need {
            return false;
        }
    }
    true
}

// A tree may hold what an earlier sandboxed run left (a venv): a hard link it made to a file
// of someone else's (where the kernel allows that) must not be handed over, so a file with
// several links is only re-owned when it already belongs to a sandbox uid (uv links the
// venv's files to its cache). Symlinks are re-owned themselves, never followed.
fn is_sandbox_uid(uid: u32, named: Option<u32>) -> bool {
    (SANDBOX_UID_BASE..SANDBOX_UID_BASE + SANDBOX_UID_SLOTS).contains(&uid) || named == Some(uid)
}

fn chown_tree(path: &Path, uid: u32, gid: u32, named: Option<u32>) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let meta = std::fs::symlink_metadata(path)?;
    if meta.is_dir() || meta.nlink() == 1 || is_sandbox_uid(meta.uid(), named) {
        std::os::unix::fs::lchown(path, Some(uid), Some(gid))?;
        if !meta.file_type().is_symlink() {
            // Group-writable, and folders pass their group on to what is created in them.
            let extra = if meta.is_dir() { 0o2020 } else { 0o020 };
            let mode = (meta.mode() & 0o7777) | extra;
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))?;
        }
    }
    if meta.is_dir() {
        for entry in std::fs::read_dir(path)? {
            chown_tree(&entry?.path(), uid, gid, named)?;
        }
    }
    Ok(())
}

/// Pids of the live processes whose real uid is `uid` (zombies are dead: they only wait for
/// their new parent to reap them).
pub fn processes_of(uid: u32) -> Vec<i32> {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.filter_map(|e| e.ok())
        .filter_map(|e| e.file_name().to_str().and_then(|n| n.parse::<i32>().ok()))
        .filter(|pid| {
            let Ok(status) = std::fs::read_to_string(format!("/proc/{pid}/status")) else {
                return false;
            };
            let field = |name: &str| {
                status
                    .lines()
                    .find(|l| l.starts_with(name))
                    .and_then(|l| l.split_whitespace().nth(1).map(String::from))
            };
            let dead = matches!(field("State:").as_deref(), Some("Z" | "X"));
            !dead && field("Uid:").and_then(|u| u.parse::<u32>().ok()) == Some(uid)
        })
        .collect()
}

// kill(-1) as the sandbox user signals every process that user may signal: all of its own,
// wherever they went (setsid, double fork), and nothing else.
fn kill_all_as(uid: u32, gid: u32) {
    // SAFETY: after fork the child calls only async-signal-safe functions and _exit.
    unsafe {
        let pid = libc::fork();
        if pid == 0 {
            if libc::setgroups(0, std::ptr::null()) == 0
                && libc::setgid(gid) == 0
                && libc::setuid(uid) == 0
            {
                libc::kill(-1, libc::SIGKILL);
            }
            libc::_exit(0);
        }
        if pid > 0 {
            let mut status = 0;
            libc::waitpid(pid, &mut status, 0);
        }
    }
}

/// What the child does between fork and exec, in this order: limits, uid, Landlock, death
/// signal. Called from `pre_exec`, so only async-signal-safe work happens here; the ruleset
/// was built in the parent.
pub fn child_setup(
    user: Option<(u32, u32)>,
    ruleset: &mut Option<RulesetCreated>,
) -> std::io::Result<()> {
    let limit = |res, soft: u64| {
        let rl = libc::rlimit {
            rlim_cur: soft,
            rlim_max: soft,
        };
        // SAFETY: setrlimit on this process only.
        if unsafe { libc::setrlimit(res, &rl) } != 0 {
            return Err(std::io::Error::last_os_error());
        }
        Ok(())
    };
    limit(libc::RLIMIT_CORE, 0)?;
    // Files it creates stay writable by the sandbox group (see `hand_over`).
    // SAFETY: umask only sets this process's file-creation mask.
    unsafe {
        libc::umask(0o002);
    }
    limit(libc::RLIMIT_FSIZE, 2 << 30)?;
    limit(libc::RLIMIT_AS, 8 << 30)?;
    if let Some((uid, gid)) = user {
        // The process limit counts the processes of the uid, so it only makes sense (and is
        // only enforced) for the sandbox's own uid.
        limit(libc::RLIMIT_NPROC, 1024)?;
        // SAFETY: dropping privileges in the child before exec.
        unsafe {
            if libc::setgroups(0, std::ptr::null()) != 0
                || libc::setgid(gid) != 0
                || libc::setuid(uid) != 0
            {
                return Err(std::io::Error::last_os_error());
            }
        }
    }
    if let Some(rs) = ruleset.take() {
        rs.restrict_self()
            .map_err(|_| std::io::Error::other("Landlock restrict_self failed"))?;
    }
    // Set after the uid change, which clears it.
    // SAFETY: prctl only sets this process's parent-death signal.
    unsafe {
        libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reachability_follows_the_mode_bits() {
        let dir = tempfile::tempdir().unwrap();
        let inner = dir.path().join("a");
        std::fs::create_dir(&inner).unwrap();
        let file = inner.join("f");
        std::fs::write(&file, "x").unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o700)).unwrap();
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
        let other = SANDBOX_UID_BASE + SANDBOX_UID_SLOTS + 7;
        let me = unsafe { libc::geteuid() };
        if me != other {
            assert!(!reachable(&file, other, other));
        }
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        assert!(reachable(&file, other, other));
        // Not created yet: the action creates and hands it over.
        assert!(reachable(&inner.join("new/deeper"), other, other));
    }

    #[test]
    fn handing_over_never_takes_a_foreign_hard_link() {
        let dir = tempfile::tempdir().unwrap();
        let tree = dir.path().join("venv");
        std::fs::create_dir(&tree).unwrap();
        std::fs::write(tree.join("own.py"), "x").unwrap();
        // A file of someone else's (here: the test's own uid) with a second link in the tree.
        let foreign = dir.path().join("foreign");
        std::fs::write(&foreign, "secret").unwrap();
        std::fs::hard_link(&foreign, tree.join("linked")).unwrap();
        let me = unsafe { libc::geteuid() };
        if me != 0 {
            return; // chown to another uid needs root
        }
        let target = SANDBOX_UID_BASE + 3;
        chown_tree(&tree, target, target, None).unwrap();
        let uid = |p: &Path| std::fs::symlink_metadata(p).unwrap().uid();
        assert_eq!(uid(&tree), target);
        assert_eq!(uid(&tree.join("own.py")), target);
        assert_eq!(uid(&foreign), me, "a foreign hard link was handed over");
    }

    #[test]
    fn the_description_names_every_layer_and_every_reason() {
        let iso = Isolation {
            user: None,
            landlock_abi: 7,
            non_dumpable: true,
            off: vec!["own uid: the action is not root".into()],
        };
        let d = iso.describe();
        assert!(d.contains("Landlock ABI 7"), "{d}");
        assert!(d.contains("TCP connects refused"), "{d}");
        assert!(d.contains("non-dumpable"), "{d}");
        assert!(d.contains("off: own uid: the action is not root"), "{d}");
        let old = Isolation {
            landlock_abi: 3,
            off: vec![],
            ..iso
        };
        assert!(!old.describe().contains("TCP"));
    }
}
