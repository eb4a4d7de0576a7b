//! git2 operations on the runner's checkout: find the base, build the app commit in memory,
//! check the branch out, push it with the token given only through the credentials callback.
//!
//! Idempotence: the commit's parent is the remote branch's tip when the branch already exists
//! (a re-run adds a commit, history is kept and the push is a fast-forward), else the base
//! commit. The tree is the parent's tree with the app folder replaced. A re-run that produces
//! the same tree makes no commit. A non-fast-forward push (someone pushed meanwhile) is
//! refused by the remote and reported; nothing is ever force-pushed.

use std::cell::Cell;
use std::path::{Path, PathBuf};

use git2::{
    Cred, CredentialType, Direction, ErrorCode, FetchOptions, FileMode, Oid, PushOptions,
    RemoteCallbacks, Repository, Signature, Status, StatusOptions, build::CheckoutBuilder,
    build::TreeUpdateBuilder,
};
use secrecy::{ExposeSecret, SecretString};

use crate::error::E2eError;
use crate::workspace::confine;

/// One file to commit, relative to the app folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TreeFile {
    /// Validated relative path.
    pub path: String,
    /// File content.
    pub content: Vec<u8>,
}

/// The runner's checkout.
pub struct Workspace {
    repo: Repository,
    root: PathBuf,
    /// Whether the repository belongs to another user and was trusted deliberately.
    pub trusted_foreign_owner: bool,
    /// `origin`'s URL as the runner handed the checkout over, read once at open, before any
    /// generated code ran: the only URL the token is ever sent to.
    origin: Option<String>,
    /// `.git/config` as it was at open, to prove nothing changed it while generated code ran.
    config_snapshot: Option<Vec<u8>>,
}

fn ws_err(what: &str, e: impl std::fmt::Display) -> E2eError {
    E2eError::Workspace(format!("{what}: {e}"))
}

/// How to reach the remote: none, or a token for HTTP(S).
#[derive(Clone, Default)]
pub struct Auth {
    /// Token for `x-access-token` basic auth.
    pub token: Option<SecretString>,
}

impl Workspace {
    /// Opens the checkout at `root`. A repository owned by another uid (container actions run
    /// as root over the runner's checkout) is trusted deliberately, because it is the workspace
    /// the runner handed us; the caller reports that it happened.
    pub fn open(root: &Path) -> Result<Workspace, E2eError> {
        let (repo, trusted_foreign_owner) = match Repository::open(root) {
            Ok(r) => (r, false),
            Err(e) if e.code() == ErrorCode::Owner => {
                // SAFETY: libgit2 global option; set around this one open and restored.
                unsafe {
                    git2::opts::set_verify_owner_validation(false).map_err(|e| ws_err("git", e))?;
                }
                let r = Repository::open(root);
                unsafe {
                    git2::opts::set_verify_owner_validation(true).map_err(|e| ws_err("git", e))?;
                }
                (
                    r.map_err(|e| {
                        ws_err(
                            &format!("{} is not a git repository", root.display()),
                            e.message(),
                        )
                    })?,
                    true,
                )
            }
            Err(e) => {
                return Err(E2eError::Workspace(format!(
                    "{} is not a git repository ({}); run actions/checkout first",
                    root.display(),
                    e.message()
                )));
            }
        };
        if repo.is_bare() {
            return Err(E2eError::Workspace(format!(
                "{} is a bare repository; a checkout is needed",
                root.display()
            )));
        }
        let origin = repo
            .find_remote("origin")
            .ok()
            .and_then(|r| r.url().ok().map(String::from));
        let config_snapshot = std::fs::read(repo.path().join("config")).ok();
        Ok(Workspace {
            repo,
            root: root.to_path_buf(),
            trusted_foreign_owner,
            origin,
            config_snapshot,
        })
    }

    /// Fails when `.git/config` differs from what it was when the workspace was opened (a
    /// remote, a URL rewrite, a helper or a hook added by code that ran meanwhile).
    pub fn ensure_config_unchanged(&self) -> Result<(), E2eError> {
        let now = std::fs::read(self.repo.path().join("config")).ok();
        if now == self.config_snapshot {
            Ok(())
        } else {
            Err(E2eError::Workspace(format!(
                "{} changed while the generated app's tests ran; nothing is pushed. Check the repository's git configuration and re-run",
                self.repo.path().join("config").display()
            )))
        }
    }

    // An anonymous remote for `url`, refused when the repository's configuration rewrites the
    // URL (`url.<x>.insteadOf` / `pushInsteadOf`): the token would follow the rewrite.
    fn pinned_remote(&self, url: &str) -> Result<git2::Remote<'_>, E2eError> {
        let remote = self
            .repo
            .remote_anonymous(url)
            .map_err(|e| ws_err("remote", e))?;
        let fetch = remote.url().unwrap_or_default();
        let push = remote.pushurl().ok().flatten().unwrap_or(fetch);
        for rewritten in [fetch, push] {
            if rewritten != url {
                return Err(E2eError::Push(format!(
                    "the repository's git configuration rewrites {} to {} (a url.insteadOf rule); refusing to send the token anywhere but origin. Remove the rule and re-run",
                    redact_url(url),
                    redact_url(rewritten)
                )));
            }
        }
        Ok(remote)
    }

    /// The checkout's root.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Refuses to go on when tracked files have uncommitted changes (a checkout would lose them).
    pub fn ensure_clean(&self) -> Result<(), E2eError> {
        let mut opts = StatusOptions::new();
        opts.include_untracked(false).include_ignored(false);
        let statuses = self
            .repo
            .statuses(Some(&mut opts))
            .map_err(|e| ws_err("git status", e))?;
        let dirty: Vec<String> = statuses
            .iter()
            .filter(|s| s.status() != Status::CURRENT)
            .filter_map(|s| s.path().ok().map(String::from))
            .take(5)
            .collect();
        if dirty.is_empty() {
            Ok(())
        } else {
            Err(E2eError::Workspace(format!(
                "uncommitted changes in {}: {}; commit or stash them first",
                self.root.display(),
                dirty.join(", ")
            )))
        }
    }

    /// The base: `(name, commit)`. With a branch name, the local branch or `origin/<name>`;
    /// without, the checked-out branch (or the detached HEAD commit, named by its SHA).
    pub fn base(&self, branch: Option<&str>) -> Result<(String, Oid), E2eError> {
        if let Some(b) = branch {
            for candidate in [
                format!("refs/heads/{b}"),
                format!("refs/remotes/origin/{b}"),
            ] {
                if let Ok(r) = self.repo.find_reference(&candidate)
                    && let Ok(c) = r.peel_to_commit()
                {
                    return Ok((b.to_string(), c.id()));
                }
            }
            return Err(E2eError::Workspace(format!(
                "base branch {b:?} is neither a local branch nor origin/{b}"
            )));
        }
        let head = self
            .repo
            .head()
            .map_err(|e| ws_err("the checkout has no HEAD commit", e.message()))?;
        let commit = head.peel_to_commit().map_err(|e| ws_err("HEAD", e))?;
        let name = if self.repo.head_detached().unwrap_or(false) {
            commit.id().to_string()
        } else {
            head.shorthand().unwrap_or("HEAD").to_string()
        };
        Ok((name, commit.id()))
    }

    /// The URL of `origin` as it was when the workspace was opened, if there is one.
    pub fn origin_url(&self) -> Option<String> {
        self.origin.clone()
    }

    /// Looks the branch up on the remote at `url`; when it exists, fetches its tip (shallow in
    /// a shallow checkout) and returns it.
    pub fn remote_branch_tip(
        &self,
        url: &str,
        branch: &str,
        auth: &Auth,
    ) -> Result<Option<Oid>, E2eError> {
        let mut remote = self.pinned_remote(url)?;
        let refname = format!("refs/heads/{branch}");
        let tip = {
            let conn = remote
                .connect_auth(Direction::Fetch, Some(callbacks(auth, url)), None)
                .map_err(|e| E2eError::Push(format!("cannot reach the remote: {}", e.message())))?;
            let list = conn.list().map_err(|e| {
                E2eError::Push(format!("cannot list remote branches: {}", e.message()))
            })?;
            list.iter().find(|h| h.name() == refname).map(|h| h.oid())
        };
        let Some(tip) = tip else { return Ok(None) };
        if self.repo.find_commit(tip).is_err() {
            let mut fo = FetchOptions::new();
            fo.remote_callbacks(callbacks(auth, url));
            if self.repo.is_shallow() {
                fo.depth(1);
            }
            remote
                .fetch(
                    &[format!("+{refname}:refs/remotes/origin/{branch}")],
                    Some(&mut fo),
                    None,
                )
                .map_err(|e| E2eError::Push(format!("cannot fetch {branch}: {}", e.message())))?;
        }
        Ok(Some(tip))
    }

    /// Builds the commit: `parent`'s tree with `app_dir` replaced by `files`, plus `workflows`
    /// (repository-relative, directly under `.github/workflows/`, each replacing only a file
    /// that e2e-action placed: [`WORKFLOW_MARK`]). Sets the local branch to it (or to `parent`
    /// when nothing changed) and checks it out.
    #[allow(clippy::too_many_arguments)]
    pub fn commit_app(
        &self,
        parent: Oid,
        branch: &str,
        app_dir: &str,
        files: &[TreeFile],
        workflows: &[TreeFile],
        message: &str,
        author: (&str, &str),
    ) -> Result<(Oid, bool), E2eError> {
        let repo = &self.repo;
        let app_dir = confine::validate_relative(app_dir).map_err(|e| ws_err("app-dir", e))?;
        // The checkout writes into the working tree: no symlink may stand in the way.
        confine::confined_join(&self.root, &app_dir).map_err(|e| ws_err("app-dir", e))?;
        let parent_commit = repo
            .find_commit(parent)
            .map_err(|e| ws_err("base commit", e))?;
        let parent_tree = parent_commit.tree().map_err(|e| ws_err("base tree", e))?;
        // New objects go to memory and then into one packfile: hundreds of loose objects (a
        // file and often a folder each) cost more than the pack on a busy disk. A backend
        // cannot be removed from the odb, so each call's mempack gets a higher priority than
        // the last (writes go to the highest) and the emptied ones stay idle.
        static PRIORITY: std::sync::atomic::AtomicI32 = std::sync::atomic::AtomicI32::new(1000);
        let odb = repo.odb().map_err(|e| ws_err("object database", e))?;
        let mempack = odb
            .add_new_mempack_backend(PRIORITY.fetch_add(1, std::sync::atomic::Ordering::Relaxed))
            .map_err(|e| ws_err("object database", e))?;
        let cleared = if parent_tree.get_path(Path::new(&app_dir)).is_ok() {
            let tree = TreeUpdateBuilder::new()
                .remove(app_dir.as_str())
                .create_updated(repo, &parent_tree)
                .map_err(|e| ws_err("tree", e))?;
            repo.find_tree(tree).map_err(|e| ws_err("tree", e))?
        } else {
            parent_tree.clone()
        };
        let mut upd = TreeUpdateBuilder::new();
        for f in files {
            let rel =
                confine::validate_relative(&f.path).map_err(|e| ws_err("generated file", e))?;
            let blob = repo.blob(&f.content).map_err(|e| ws_err("blob", e))?;
            upd.upsert(format!("{app_dir}/{rel}"), blob, FileMode::Blob);
        }
        for f in workflows {
            let rel = workflow_path(&f.path)?;
            if let Ok(entry) = parent_tree.get_path(Path::new(&rel)) {
                let ours = repo
                    .find_blob(entry.id())
                    .map(|b| b.content().starts_with(WORKFLOW_MARK.as_bytes()))
                    .unwrap_or(false);
                if !ours {
                    return Err(E2eError::Workspace(format!(
                        "{rel} exists and was not written by e2e-action; rename it or set install-deploy-workflow: false"
                    )));
                }
            }
            let blob = repo.blob(&f.content).map_err(|e| ws_err("blob", e))?;
            upd.upsert(rel, blob, FileMode::Blob);
        }
        let tree_id = upd
            .create_updated(repo, &cleared)
            .map_err(|e| ws_err("tree", e))?;
        let changed = tree_id != parent_tree.id();
        let tip = if changed {
            let tree = repo.find_tree(tree_id).map_err(|e| ws_err("tree", e))?;
            let sig = Signature::now(author.0, author.1).map_err(|e| ws_err("author", e))?;
            repo.commit(None, &sig, &sig, message, &tree, &[&parent_commit])
                .map_err(|e| ws_err("commit", e))?
        } else {
            parent
        };
        let mut pack = git2::Buf::new();
        mempack
            .dump(repo, &mut pack)
            .map_err(|e| ws_err("pack", e))?;
        let mut writer = odb.packwriter().map_err(|e| ws_err("pack", e))?;
        std::io::Write::write_all(&mut writer, &pack).map_err(|e| ws_err("pack", e))?;
        writer.commit().map_err(|e| ws_err("pack", e))?;
        mempack.reset().map_err(|e| ws_err("pack", e))?;
        let refname = format!("refs/heads/{branch}");
        repo.reference(&refname, tip, true, "e2e-action: generated app")
            .map_err(|e| ws_err("branch", e))?;
        let obj = repo
            .find_object(tip, None)
            .map_err(|e| ws_err("checkout", e))?;
        repo.checkout_tree(&obj, Some(CheckoutBuilder::new().force()))
            .map_err(|e| ws_err("checkout", e))?;
        repo.set_head(&refname).map_err(|e| ws_err("checkout", e))?;
        Ok((tip, changed))
    }

    /// Pushes `branch` to `url` (fast-forward only). The token, if any, only ever goes through
    /// the credentials callback.
    pub fn push(&self, url: &str, branch: &str, auth: &Auth) -> Result<(), E2eError> {
        let mut remote = self.pinned_remote(url)?;
        let rejected = std::cell::RefCell::new(None::<String>);
        {
            let mut cb = callbacks(auth, url);
            cb.push_update_reference(|r, status| {
                if let Some(msg) = status {
                    *rejected.borrow_mut() = Some(format!("{r}: {msg}"));
                }
                Ok(())
            });
            let mut po = PushOptions::new();
            // Pack with every core (0 = as many threads as CPUs): the generated app is hundreds
            // of new blobs, and compressing them is most of the push.
            po.remote_callbacks(cb).packbuilder_parallelism(0);
            let spec = format!("refs/heads/{branch}:refs/heads/{branch}");
            remote.push(&[spec.as_str()], Some(&mut po)).map_err(|e| {
                let msg = e.message().to_string();
                let hint = if msg.contains("workflow") {
                    WORKFLOW_HINT
                } else if e.code() == ErrorCode::NotFastForward || msg.contains("fast-forward") {
                    "the branch changed on the remote meanwhile; re-run to build on top of it"
                } else if e.class() == git2::ErrorClass::Http || msg.contains("authentication") {
                    "check that the token may push (contents: write)"
                } else {
                    "re-run the job"
                };
                E2eError::Push(format!("{msg} ({hint})"))
            })?;
        }
        if let Some(r) = rejected.into_inner() {
            let hint = if r.contains("workflow") {
                WORKFLOW_HINT
            } else {
                "the branch changed on the remote meanwhile, or a rule protects it; re-run"
            };
            return Err(E2eError::Push(format!("{r} ({hint})")));
        }
        Ok(())
    }
}

/// How every workflow e2e-action places begins, so a re-run may replace its own file and
/// never a team's.
pub const WORKFLOW_MARK: &str = "# Placed by e2e-action from ";

/// A workflow file's path, checked: directly under `.github/workflows/`, a `.yml` name.
pub fn workflow_path(path: &str) -> Result<String, E2eError> {
    let rel = confine::validate_relative(path).map_err(|e| ws_err("workflow", e))?;
    let name = rel.strip_prefix(".github/workflows/").unwrap_or("");
    if name.is_empty() || name.contains('/') || !name.ends_with(".yml") {
        return Err(E2eError::Internal(format!(
            "workflow path {rel:?} is not a .yml file directly under .github/workflows/"
        )));
    }
    Ok(rel)
}

/// What to do when the remote refuses a file under `.github/workflows/` (GitHub does so for
/// tokens without the `workflows` permission, which `GITHUB_TOKEN` never has).
const WORKFLOW_HINT: &str = "the token may not write workflows: use a GitHub App token with the workflows permission or a PAT with the workflow scope, or set install-deploy-workflow: false in .github/e2e-action.yml";

/// Credentials callback: the token as `x-access-token` basic auth, tried once; a second
/// request means it was refused (libgit2 would otherwise ask forever). The token goes only to
/// `origin` (the URL the run pinned, compared without userinfo), and only over https or over
/// http to a loopback address.
fn callbacks<'a>(auth: &'a Auth, origin: &str) -> RemoteCallbacks<'a> {
    let mut cb = RemoteCallbacks::new();
    let attempts = Cell::new(0u32);
    let origin = redact_url(origin);
    cb.credentials(move |url, _user, allowed| {
        attempts.set(attempts.get() + 1);
        let Some(token) = &auth.token else {
            return Err(git2::Error::from_str(
                "the remote asks for credentials and no github-token was given",
            ));
        };
        if let Err(why) = token_may_go_to(url, &origin) {
            return Err(git2::Error::from_str(&why));
        }
        if attempts.get() > 1 {
            return Err(git2::Error::from_str(
                "authentication failed: the remote refused the token",
            ));
        }
        if !allowed.contains(CredentialType::USER_PASS_PLAINTEXT) {
            return Err(git2::Error::from_str(
                "the remote does not accept token authentication",
            ));
        }
        Cred::userpass_plaintext("x-access-token", token.expose_secret())
    });
    cb
}

/// Whether the token may be sent to `url` when the pinned origin is `origin` (both without
/// userinfo): the same URL, over https, or over http to a loopback host.
pub fn token_may_go_to(url: &str, origin: &str) -> Result<(), String> {
    let url = redact_url(url);
    if url != origin {
        return Err(format!(
            "refusing to send the token to {url}: it goes only to origin ({origin})"
        ));
    }
    let lower = url.to_ascii_lowercase();
    if lower.starts_with("https://") || (lower.starts_with("http://") && is_loopback_url(&lower)) {
        Ok(())
    } else {
        Err(format!(
            "refusing to send the token to {url} over plain http (only https, or http to this machine)"
        ))
    }
}

/// Whether an `http(s)://` URL's host is a loopback address (`localhost`, 127.0.0.0/8, ::1).
pub fn is_loopback_url(url: &str) -> bool {
    let Some((_, rest)) = url.split_once("://") else {
        return false;
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = if let Some(v6) = host.strip_prefix('[') {
        v6.split(']').next().unwrap_or("")
    } else {
        host.rsplit_once(':').map_or(host, |(h, _)| h)
    };
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// Whether pushing to `url` needs a token (HTTP(S) remotes do; local paths and `file://` do not).
pub fn needs_token(url: &str) -> bool {
    let lower = url.to_ascii_lowercase();
    lower.starts_with("https://") || lower.starts_with("http://")
}

/// A remote URL safe to print: any userinfo (`user:secret@`) removed.
pub fn redact_url(url: &str) -> String {
    match url.split_once("://") {
        Some((scheme, rest)) => {
            let (authority, path) = rest.split_once('/').map_or((rest, ""), |(a, p)| (a, p));
            let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
            if path.is_empty() && !rest.contains('/') {
                format!("{scheme}://{host}")
            } else {
                format!("{scheme}://{host}/{path}")
            }
        }
        None => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_lose_their_userinfo() {
        assert_eq!(
            redact_url("https://x-access-token:ghs_abc@github.com/o/r.git"),
            "https://github.com/o/r.git"
        );
        assert_eq!(redact_url("/tmp/origin.git"), "/tmp/origin.git");
        assert!(needs_token("HTTPS://github.com/o/r"));
        assert!(!needs_token("file:///tmp/x"));
    }

    #[test]
    fn the_token_goes_to_origin_only_and_never_over_plain_http() {
        let origin = "https://github.com/o/r.git";
        assert!(token_may_go_to("https://x-access-token:t@github.com/o/r.git", origin).is_ok());
        let other = token_may_go_to("https://evil.example/o/r.git", origin).unwrap_err();
        assert!(other.contains("goes only to origin"), "{other}");
        let plain = "http://git.example/o/r.git";
        assert!(
            token_may_go_to(plain, plain)
                .unwrap_err()
                .contains("plain http")
        );
        for local in [
            "http://127.0.0.1:8080/r.git",
            "http://localhost/r",
            "http://[::1]:9/r",
        ] {
            assert!(token_may_go_to(local, local).is_ok(), "{local}");
        }
        assert!(!is_loopback_url("http://127.0.0.1.evil.example/r"));
    }

    #[test]
    fn a_url_rewrite_in_the_config_is_refused_before_any_connection() {
        let dir = tempfile::tempdir().unwrap();
        let repo = Repository::init(dir.path()).unwrap();
        let origin = "https://github.com/o/r.git";
        repo.remote("origin", origin).unwrap();
        let mut cfg = repo.config().unwrap();
        cfg.set_str("url.https://evil.example/.insteadOf", "https://github.com/")
            .unwrap();
        let ws = Workspace::open(dir.path()).unwrap();
        let err = ws
            .remote_branch_tip(origin, "b", &Auth::default())
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("rewrites https://github.com/o/r.git to https://evil.example/o/r.git"),
            "{err}"
        );
        // A change after open is noticed.
        assert!(ws.ensure_config_unchanged().is_ok());
        cfg.set_str(
            "url.https://evil2.example/.pushInsteadOf",
            "https://github.com/",
        )
        .unwrap();
        assert!(ws.ensure_config_unchanged().is_err());
    }

    #[test]
    fn a_placed_workflow_replaces_only_its_own_copy() {
        let dir = tempfile::tempdir().unwrap();
        let repo = Repository::init(dir.path()).unwrap();
        let sig = Signature::now("t", "t@example.com").unwrap();
        // The base holds a team's own workflow under the name the app would use.
        let base = {
            let team = repo.blob(b"name: theirs\n").unwrap();
            let mut wf = repo.treebuilder(None).unwrap();
            wf.insert("rooms-deploy.yml", team, 0o100644).unwrap();
            let mut gh = repo.treebuilder(None).unwrap();
            gh.insert("workflows", wf.write().unwrap(), 0o040000)
                .unwrap();
            let mut root = repo.treebuilder(None).unwrap();
            root.insert(".github", gh.write().unwrap(), 0o040000)
                .unwrap();
            let tree = repo.find_tree(root.write().unwrap()).unwrap();
            repo.commit(Some("HEAD"), &sig, &sig, "init", &tree, &[])
                .unwrap()
        };
        drop(repo);
        let ws = Workspace::open(dir.path()).unwrap();
        let app = [TreeFile {
            path: "deploy/deploy.yml".into(),
            content: b"name: deploy\n".to_vec(),
        }];
        let ours = |name: &str| TreeFile {
            path: format!(".github/workflows/{name}"),
            content: format!("{WORKFLOW_MARK}apps/x/deploy/deploy.yml\nname: deploy\n")
                .into_bytes(),
        };
        let commit = |parent, workflows: &[TreeFile]| {
            ws.commit_app(
                parent,
                "e2e/x",
                "apps/x",
                &app,
                workflows,
                "m",
                ("t", "t@e"),
            )
        };
        let err = commit(base, &[ours("rooms-deploy.yml")]).unwrap_err();
        assert!(
            err.to_string().contains("was not written by e2e-action"),
            "{err}"
        );
        let (first, _) = commit(base, &[ours("x-deploy.yml")]).unwrap();
        // A re-run replaces the copy it placed.
        let (second, changed) = commit(first, &[ours("x-deploy.yml")]).unwrap();
        assert_eq!((second, changed), (first, false));
        assert!(
            std::fs::read_to_string(dir.path().join(".github/workflows/x-deploy.yml"))
                .unwrap()
                .starts_with(WORKFLOW_MARK)
        );
        for bad in ["x-deploy.yml/../../a.yml", "../x.yml"] {
            assert!(commit(base, &[ours(bad)]).is_err(), "{bad}");
        }
        assert!(workflow_path(".github/workflows/sub/x.yml").is_err());
        assert!(workflow_path(".github/x.yml").is_err());
        assert!(workflow_path(".github/workflows/x.sh").is_err());
    }

    #[test]
    fn commits_land_in_packfiles_that_a_fresh_handle_reads() {
        let dir = tempfile::tempdir().unwrap();
        let repo = Repository::init(dir.path()).unwrap();
        let sig = Signature::now("t", "t@example.com").unwrap();
        let empty = repo.treebuilder(None).unwrap().write().unwrap();
        let base = repo
            .commit(
                Some("HEAD"),
                &sig,
                &sig,
                "init",
                &repo.find_tree(empty).unwrap(),
                &[],
            )
            .unwrap();
        drop(repo);
        let loose_before = loose_objects(dir.path());
        let ws = Workspace::open(dir.path()).unwrap();
        let file = |content: &str| TreeFile {
            path: "app/main.py".into(),
            content: content.as_bytes().to_vec(),
        };
        let (first, changed) = ws
            .commit_app(
                base,
                "e2e/x",
                "apps/x",
                &[file("v1\n")],
                &[],
                "one",
                ("t", "t@e"),
            )
            .unwrap();
        assert!(changed);
        // A second commit in the same process (the repair path) must persist too.
        let (second, _) = ws
            .commit_app(
                first,
                "e2e/x",
                "apps/x",
                &[file("v2\n")],
                &[],
                "two",
                ("t", "t@e"),
            )
            .unwrap();
        // The same tree again (a re-run with nothing new): no commit, nothing to pack.
        let (again, changed) = ws
            .commit_app(
                second,
                "e2e/x",
                "apps/x",
                &[file("v2\n")],
                &[],
                "three",
                ("t", "t@e"),
            )
            .unwrap();
        assert_eq!((again, changed), (second, false));
        drop(ws);
        assert_eq!(loose_objects(dir.path()), loose_before, "no loose objects");
        let fresh = Repository::open(dir.path()).unwrap();
        let tip = fresh.find_commit(second).unwrap();
        assert_eq!(tip.parent_id(0).unwrap(), first);
        let blob = tip
            .tree()
            .unwrap()
            .get_path(Path::new("apps/x/app/main.py"))
            .unwrap();
        assert_eq!(fresh.find_blob(blob.id()).unwrap().content(), b"v2\n");
        assert_eq!(
            std::fs::read_to_string(dir.path().join("apps/x/app/main.py")).unwrap(),
            "v2\n"
        );
    }

    fn loose_objects(root: &Path) -> usize {
        std::fs::read_dir(root.join(".git/objects"))
            .unwrap()
            .flatten()
            .filter(|d| d.file_name().len() == 2)
            .map(|d| std::fs::read_dir(d.path()).unwrap().count())
            .sum()
    }
}
