//! The processes a build starts: kiln as their child subreaper, every one of them found through
//! `/proc` and killed when the build ends, and the orphans kiln adopted reaped.
//!
//! Once [`become_subreaper`] was called, an orphan of the build (a `setsid`, `setpgid` or
//! `disown`ed process whose parent exited) is reparented to kiln instead of init, so every
//! process a build started stays a descendant of kiln, whatever it did to its process group or
//! session. [`Processes`] finds them by walking `/proc` (parent pid, process group, session),
//! never by a remembered process-group id, which may be reused once its processes are gone.
//!
//! Which descendants belong to whom: a child kiln spawns through [`Processes::spawn`] is a
//! *root* of that owner until [`Processes::reap`]; an owner's processes are its live roots, all
//! their descendants, and the processes sharing a process group or a session with one of them
//! (kiln's own group and session aside). A child of kiln in kiln's own process group that is no
//! root was spawned by other code of this process (`git`, a test) and is never touched. Any
//! other child of kiln was adopted: an orphan of some build. [INF] It is killed at the end of a
//! build when that build is the only owner in this kiln process (as in `kiln run` and the
//! agent), or when it is linked to the build by its group or session; with several builds in
//! one process it is killed when the last of them ends, since nothing says whose it was.
//!
//! Pid reuse: kiln signals only processes it just found among its descendants, top down: its
//! own children first (their pids cannot be reused before kiln reaps them), then, once they
//! are dead and their children were reparented to kiln, those. Registering, reaping and
//! killing hold one lock, so no two owners race on a pid. Only zombies of adopted orphans are
//! reaped here; a child that `std::process` or tokio waits for is never reaped behind its
//! back (roots are reaped by their owner, children in kiln's group are left alone).
//!
//! Known limit [INF]: an adopted orphan that moved itself into kiln's own process group is
//! taken for a child of kiln's own and survives the build.

use std::collections::{HashMap, HashSet};
use std::process::{Child, Command, ExitStatus};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill, killpg};
use nix::sys::wait::{Id, WaitPidFlag, waitid, waitpid};
use nix::unistd::Pid;

/// How long killing a build's processes may take before kiln gives up on the survivors
/// (processes in uninterruptible sleep).
const KILL_LIMIT: Duration = Duration::from_secs(10);

/// What went wrong with the build's processes.
#[derive(Debug, thiserror::Error)]
pub enum ProcessError {
    /// `prctl(PR_SET_CHILD_SUBREAPER)` failed.
    #[error("become the child subreaper of the build")]
    Subreaper(#[source] nix::Error),
    /// `/proc` could not be read.
    #[error("list processes in /proc")]
    Scan(#[source] std::io::Error),
    /// A process could not be started.
    #[error("start {program}")]
    Spawn {
        /// The program.
        program: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A child could not be waited for.
    #[error("wait for process {pid}")]
    Wait {
        /// The child.
        pid: u32,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// Some processes were still alive after [`KILL_LIMIT`].
    #[error("kill the build's processes: {count} still run after {limit:?} (pids {pids:?})")]
    Survivors {
        /// How many.
        count: usize,
        /// Some of their pids.
        pids: Vec<i32>,
        /// How long kiln tried.
        limit: Duration,
    },
}

static SUBREAPER: AtomicBool = AtomicBool::new(false);

/// Makes this process the child subreaper of everything it starts (Linux `prctl`), so no
/// process of a build can leave kiln's descendants. Call it once when a build starts; calling
/// it again does nothing.
pub fn become_subreaper() -> Result<(), ProcessError> {
    if SUBREAPER.load(Ordering::SeqCst) {
        return Ok(());
    }
    nix::sys::prctl::set_child_subreaper(true).map_err(ProcessError::Subreaper)?;
    SUBREAPER.store(true, Ordering::SeqCst);
    Ok(())
}

/// Who registered roots: an owner's id, whether it is a build, its roots.
struct Owner {
    id: u64,
    build: bool,
    roots: Vec<i32>,
}

struct Registry {
    next: u64,
    owners: Vec<Owner>,
}

static REGISTRY: Mutex<Registry> = Mutex::new(Registry { next: 0, owners: Vec::new() });

fn registry() -> MutexGuard<'static, Registry> {
    REGISTRY.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Registry {
    fn owner(&mut self, id: u64) -> Option<&mut Owner> {
        self.owners.iter_mut().find(|o| o.id == id)
    }
}

/// The processes one build (or one step of it, such as a name evaluation) started.
#[derive(Debug)]
pub struct Processes {
    id: u64,
    build: bool,
    /// Whether every adopted orphan was killed since this owner last spawned a process.
    swept: AtomicBool,
}

impl Processes {
    /// The processes of a build: at its end it also kills the orphans kiln adopted when it is
    /// the only owner left in this process.
    pub fn for_build() -> Self {
        Self::register(true)
    }

    /// The processes of one step that kills what it started when it is done.
    pub fn for_step() -> Self {
        Self::register(false)
    }

    fn register(build: bool) -> Self {
        let mut reg = registry();
        reg.next += 1;
        let id = reg.next;
        reg.owners.push(Owner { id, build, roots: Vec::new() });
        Self { id, build, swept: AtomicBool::new(false) }
    }

    /// Spawns `command` as a root of this owner.
    pub fn spawn(&self, command: &mut Command) -> Result<Child, ProcessError> {
        let mut reg = registry();
        let child = command.spawn().map_err(|source| ProcessError::Spawn {
            program: command.get_program().to_string_lossy().into_owned(),
            source,
        })?;
        if let Some(owner) = reg.owner(self.id) {
            owner.roots.push(pid_of(&child));
        }
        self.swept.store(false, Ordering::SeqCst);
        Ok(child)
    }

    /// Reaps `child`, a root of this owner that has exited, and forgets it.
    pub fn reap(&self, child: &mut Child) -> Result<ExitStatus, ProcessError> {
        let mut reg = registry();
        let status =
            child.wait().map_err(|source| ProcessError::Wait { pid: child.id(), source })?;
        let pid = pid_of(child);
        if let Some(owner) = reg.owner(self.id) {
            owner.roots.retain(|r| *r != pid);
        }
        Ok(status)
    }

    /// SIGKILLs every process of this owner (see the module docs), until none is left, and
    /// reaps the adopted ones. Returns how many processes were signalled.
    ///
    /// The process groups of its roots are killed first, wherever their processes are (even
    /// outside kiln's descendants when kiln is no subreaper): a root is not reaped yet, so its
    /// group id cannot have been reused.
    pub fn kill_all(&self) -> Result<usize, ProcessError> {
        let sole = {
            let reg = registry();
            for owner in reg.owners.iter().filter(|o| o.id == self.id) {
                for root in &owner.roots {
                    // An empty group (ESRCH) is fine: its processes are gone.
                    let _ = killpg(Pid::from_raw(*root), Signal::SIGKILL);
                }
            }
            self.build && reg.owners.iter().all(|o| o.id == self.id)
        };
        let signalled = kill_until_none(Some(self.id))?;
        self.swept.store(sole, Ordering::SeqCst);
        Ok(signalled)
    }
}

impl Drop for Processes {
    fn drop(&mut self) {
        let last_build = {
            let mut reg = registry();
            reg.owners.retain(|o| o.id != self.id);
            self.build && reg.owners.is_empty()
        };
        if last_build
            && !self.swept.load(Ordering::SeqCst)
            && SUBREAPER.load(Ordering::SeqCst)
            && let Err(e) = kill_until_none(None)
        {
            tracing::warn!(error = %crate::error_text::error_chain(&e), "orphans of the build survive");
        }
    }
}

/// Reaps the zombies of orphans kiln adopted, so a long build does not pile them up. Stops at
/// the first exited child that is not such an orphan (it is someone else's to wait for).
pub fn reap_adopted() {
    if !SUBREAPER.load(Ordering::SeqCst) {
        return;
    }
    let reg = registry();
    let me = Identity::current();
    loop {
        let flags = WaitPidFlag::WEXITED | WaitPidFlag::WNOHANG | WaitPidFlag::WNOWAIT;
        let pid = match waitid(Id::All, flags) {
            Ok(status) => match status.pid() {
                Some(pid) => pid,
                None => return,
            },
            Err(nix::errno::Errno::EINTR) => continue,
            Err(_) => return,
        };
        let registered = reg.owners.iter().any(|o| o.roots.contains(&pid.as_raw()));
        let adopted = read_stat(pid.as_raw()).is_some_and(|p| p.pgid != me.pgid);
        if registered || !adopted {
            return;
        }
        if waitpid(pid, Some(WaitPidFlag::WNOHANG)).is_err() {
            return;
        }
    }
}

/// One line of `/proc/PID/stat`, the fields kiln needs.
#[derive(Debug, Clone, Copy)]
struct Proc {
    pid: i32,
    ppid: i32,
    pgid: i32,
    sid: i32,
    zombie: bool,
}

fn read_stat(pid: i32) -> Option<Proc> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    parse_stat(pid, &text)
}

/// Parses a `/proc/PID/stat` line; the command name may hold spaces and parentheses, so the
/// fields are counted from the last `)`.
fn parse_stat(pid: i32, text: &str) -> Option<Proc> {
    let (_, rest) = text.rsplit_once(')')?;
    let mut fields = rest.split_ascii_whitespace();
    let state = fields.next()?;
    let mut number = || fields.next()?.parse::<i32>().ok();
    let (ppid, pgid, sid) = (number()?, number()?, number()?);
    Some(Proc { pid, ppid, pgid, sid, zombie: state == "Z" || state == "X" })
}

/// Every process this kiln can see.
fn scan() -> Result<Vec<Proc>, ProcessError> {
    let entries = std::fs::read_dir("/proc").map_err(ProcessError::Scan)?;
    Ok(entries
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<i32>().ok())
        .filter_map(read_stat)
        .collect())
}

/// kiln's own pid, process group and session.
#[derive(Debug, Clone, Copy)]
struct Identity {
    pid: i32,
    pgid: i32,
    sid: i32,
}

impl Identity {
    fn current() -> Self {
        let pid = nix::unistd::getpid().as_raw();
        let pgid = nix::unistd::getpgrp().as_raw();
        let sid = nix::unistd::getsid(None).map_or(-1, Pid::as_raw);
        Self { pid, pgid, sid }
    }
}

/// Which of kiln's children a subtree hangs from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Class {
    Mine,
    Adopted,
    Other,
}

/// The processes of `owner` among `procs` (`None`: every adopted orphan, whoever's), as
/// indexes into `procs`.
fn members(procs: &[Proc], me: Identity, reg: &Registry, owner: Option<u64>) -> HashSet<usize> {
    let mut children: HashMap<i32, Vec<usize>> = HashMap::new();
    for (i, p) in procs.iter().enumerate() {
        children.entry(p.ppid).or_default().push(i);
    }
    let mine: HashSet<i32> = reg
        .owners
        .iter()
        .filter(|o| Some(o.id) == owner)
        .flat_map(|o| o.roots.iter().copied())
        .collect();
    let others: HashSet<i32> = reg
        .owners
        .iter()
        .filter(|o| Some(o.id) != owner)
        .flat_map(|o| o.roots.iter().copied())
        .collect();
    let sole = match owner {
        None => true,
        Some(id) => reg.owners.iter().all(|o| o.id == id) && reg.owners.iter().any(|o| o.build),
    };
    let mut class: HashMap<usize, Class> = HashMap::new();
    for &top in children.get(&me.pid).into_iter().flatten() {
        let p = procs[top];
        let c = if mine.contains(&p.pid) {
            Class::Mine
        } else if others.contains(&p.pid) || p.pgid == me.pgid {
            Class::Other
        } else {
            Class::Adopted
        };
        let mut stack = vec![top];
        while let Some(i) = stack.pop() {
            if class.insert(i, c).is_none() {
                stack.extend(children.get(&procs[i].pid).into_iter().flatten().copied());
            }
        }
    }
    let mut found: HashSet<usize> = class
        .iter()
        .filter(|(_, c)| **c == Class::Mine || (sole && **c == Class::Adopted))
        .map(|(i, _)| *i)
        .collect();
    if owner.is_none() {
        return found;
    }
    let mut keys: HashSet<i32> = mine.clone();
    loop {
        for &i in &found {
            for key in [procs[i].pgid, procs[i].sid] {
                if key != me.pgid && key != me.sid {
                    keys.insert(key);
                }
            }
        }
        let linked: Vec<usize> = class
            .iter()
            .filter(|(i, c)| {
                **c == Class::Adopted
                    && !found.contains(i)
                    && (keys.contains(&procs[**i].pgid) || keys.contains(&procs[**i].sid))
            })
            .map(|(i, _)| *i)
            .collect();
        if linked.is_empty() {
            return found;
        }
        for i in linked {
            let mut stack = vec![i];
            while let Some(j) = stack.pop() {
                if found.insert(j) {
                    stack.extend(children.get(&procs[j].pid).into_iter().flatten().copied());
                }
            }
        }
    }
}

/// Kills `owner`'s processes (`None`: every adopted orphan) round by round, top down, until
/// none is left; returns how many were signalled.
fn kill_until_none(owner: Option<u64>) -> Result<usize, ProcessError> {
    let me = Identity::current();
    let started = Instant::now();
    let mut signalled = 0;
    loop {
        let live: Vec<i32> = {
            let reg = registry();
            let procs = scan()?;
            let found = members(&procs, me, &reg, owner);
            let pids: HashSet<i32> = found.iter().map(|i| procs[*i].pid).collect();
            let roots: HashSet<i32> = reg.owners.iter().flat_map(|o| o.roots.clone()).collect();
            let mut live = Vec::new();
            for &i in &found {
                let p = procs[i];
                if p.zombie {
                    if p.ppid == me.pid && !roots.contains(&p.pid) {
                        // A zombie not reaped now is found again in the next round.
                        let _ = waitpid(Pid::from_raw(p.pid), Some(WaitPidFlag::WNOHANG));
                    }
                    continue;
                }
                live.push(p.pid);
                let top = p.ppid == me.pid || !pids.contains(&p.ppid);
                if top && kill(Pid::from_raw(p.pid), Signal::SIGKILL).is_ok() {
                    signalled += 1;
                }
            }
            live
        };
        if live.is_empty() {
            return Ok(signalled);
        }
        if started.elapsed() >= KILL_LIMIT {
            return Err(ProcessError::Survivors {
                count: live.len(),
                pids: live.into_iter().take(10).collect(),
                limit: KILL_LIMIT,
            });
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// Waits, without reaping it, until the child `pid` has exited.
pub fn wait_exited(pid: i32) -> Result<(), ProcessError> {
    loop {
        match waitid(Id::Pid(Pid::from_raw(pid)), WaitPidFlag::WEXITED | WaitPidFlag::WNOWAIT) {
            Ok(_) => return Ok(()),
            Err(nix::errno::Errno::EINTR) => {}
            Err(e) => {
                return Err(ProcessError::Wait {
                    pid: u32::try_from(pid).unwrap_or(0),
                    source: std::io::Error::from(e),
                });
            }
        }
    }
}

/// A child's pid as the signal calls want it.
pub fn pid_of(child: &Child) -> i32 {
    i32::try_from(child.id()).unwrap_or(i32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_fields_are_counted_from_the_last_parenthesis() {
        let p = parse_stat(42, "42 (a) b (c) S 7 8 9 0 -1").expect("parsed");
        assert_eq!((p.pid, p.ppid, p.pgid, p.sid, p.zombie), (42, 7, 8, 9, false));
        assert!(parse_stat(1, "1 (z) Z 0 1 1").is_some_and(|p| p.zombie));
        assert!(parse_stat(1, "garbage").is_none());
    }

    fn proc(pid: i32, ppid: i32, pgid: i32, sid: i32) -> Proc {
        Proc { pid, ppid, pgid, sid, zombie: false }
    }

    #[test]
    fn members_follow_roots_groups_sessions_and_adoption() {
        let me = Identity { pid: 1, pgid: 1, sid: 1 };
        let procs = [
            proc(10, 1, 10, 1), // root of owner 1
            proc(11, 10, 10, 1),
            proc(20, 1, 20, 1), // root of owner 2
            proc(21, 20, 20, 1),
            proc(30, 1, 1, 1),    // spawned by kiln's other code
            proc(31, 30, 31, 31), // its child, in a session of its own
            proc(40, 1, 10, 1),   // adopted, in owner 1's group
            proc(41, 40, 41, 41),
            proc(50, 1, 50, 50), // adopted, unlinked
        ];
        let reg = |owners: Vec<Owner>| Registry { next: 3, owners };
        let two = reg(vec![
            Owner { id: 1, build: true, roots: vec![10] },
            Owner { id: 2, build: true, roots: vec![20] },
        ]);
        let pids = |found: HashSet<usize>| {
            let mut v: Vec<i32> = found.into_iter().map(|i| procs[i].pid).collect();
            v.sort_unstable();
            v
        };
        assert_eq!(pids(members(&procs, me, &two, Some(1))), [10, 11, 40, 41]);
        assert_eq!(pids(members(&procs, me, &two, Some(2))), [20, 21]);
        let one = reg(vec![Owner { id: 1, build: true, roots: vec![10] }]);
        assert_eq!(pids(members(&procs, me, &one, Some(1))), [10, 11, 20, 21, 40, 41, 50]);
        let step = reg(vec![Owner { id: 1, build: false, roots: vec![10] }]);
        assert_eq!(pids(members(&procs, me, &step, Some(1))), [10, 11, 40, 41]);
        assert_eq!(pids(members(&procs, me, &two, None)), [40, 41, 50]);
    }
}
