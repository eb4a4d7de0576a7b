//! Command line: turns flags and the runner's environment into typed requests.
//! The core never sees clap.

use std::path::{Path, PathBuf};

use clap::{Args, Parser, Subcommand};
use secrecy::SecretString;

use crate::config::Inputs;
use crate::eval::EvalRequest;
use crate::pipeline::RunRequest;

/// Turn one GitHub issue into a tested micro-SaaS app on a branch.
#[derive(Debug, Parser)]
#[command(name = "e2e-action", version, about)]
pub struct Cli {
    /// What to do; with none, run as the GitHub Action (everything from the environment).
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the pipeline on a checkout, as the action does (flags override the environment).
    Run(Box<RunArgs>),
    /// Try it: a throw-away origin and workspace, the sample issue event, the whole pipeline.
    Demo(DemoArgs),
    /// Render an app from an event, an issue body or a spec.yaml into a folder (no git, no tests).
    Generate(GenerateArgs),
    /// Benchmark the pipeline on three specs against a scripted LLM with a fixed latency.
    Bench(BenchArgs),
    /// Run a corpus of issues through the pipeline and check each app through its HTTP API.
    Eval(EvalArgs),
}

/// Flags of `eval`.
#[derive(Debug, Args)]
pub struct EvalArgs {
    /// Corpus folder: one sub-folder per issue holding event.json and checks.yaml.
    #[arg(long, default_value = "tests/eval")]
    pub corpus: PathBuf,
    /// Keep each issue's repositories, staged app, database and server output here.
    #[arg(long)]
    pub keep: Option<PathBuf>,
    /// Cache for virtual environments (default: the demo's, in the user's cache folder).
    #[arg(long)]
    pub cache_dir: Option<PathBuf>,
    /// Generate every app without its issue's Rules section (proves the checks can fail).
    #[arg(long, hide = true)]
    pub without_rules: bool,
}

/// Flags of `bench`.
#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Latency of every scripted LLM call, ms.
    #[arg(long, default_value_t = 200)]
    pub latency_ms: u64,
    /// Developer calls in flight at once (the action's `llm-concurrency` default).
    #[arg(long, default_value_t = 8)]
    pub concurrency: usize,
    /// Only these specs (sample, wide10, wide40); default: all three.
    #[arg(long = "spec", value_name = "NAME")]
    pub specs: Vec<String>,
    /// Run the sample spec against a real model on this OpenAI-compatible server instead
    /// (e.g. llama.cpp's `http://127.0.0.1:8080/v1`; no key needed on this machine).
    #[arg(long, value_name = "URL")]
    pub real_model: Option<String>,
    /// The model's name as the server lists it (with --real-model).
    #[arg(long, default_value = "", requires = "real_model")]
    pub model: String,
    /// Cap on each answer's tokens (with --real-model; small models rarely stop on their own).
    #[arg(long, default_value_t = 256, requires = "real_model")]
    pub max_output_tokens: u32,
}

/// Flags of `run`.
#[derive(Debug, Args, Default)]
pub struct RunArgs {
    /// Event payload file (default: $GITHUB_EVENT_PATH).
    #[arg(long)]
    pub event: Option<PathBuf>,
    /// Event name (default: $GITHUB_EVENT_NAME, else `issues`).
    #[arg(long)]
    pub event_name: Option<String>,
    /// The checkout (default: $GITHUB_WORKSPACE, else the current directory).
    #[arg(long)]
    pub repo: Option<PathBuf>,
    /// owner/name (default: $GITHUB_REPOSITORY).
    #[arg(long)]
    pub repository: Option<String>,
    /// LLM provider.
    #[arg(long)]
    pub llm_provider: Option<String>,
    /// Stack pack.
    #[arg(long)]
    pub stack: Option<String>,
    /// App folder (`apps/<slug>` by default).
    #[arg(long)]
    pub app_dir: Option<String>,
    /// Base branch.
    #[arg(long)]
    pub base_branch: Option<String>,
    /// Push the branch (true/false).
    #[arg(long)]
    pub push: Option<String>,
    /// Push even if the tests fail (true/false).
    #[arg(long)]
    pub push_on_failure: Option<String>,
    /// Time limit for installing and testing the app, seconds.
    #[arg(long)]
    pub test_timeout: Option<String>,
    /// Config file, relative to the checkout.
    #[arg(long)]
    pub config_path: Option<String>,
    /// A folder of your own stack packs.
    #[arg(long)]
    pub templates_dir: Option<PathBuf>,
    /// Cache for virtual environments and packages (default: .e2e-cache in the workspace).
    #[arg(long)]
    pub cache_dir: Option<PathBuf>,
    /// LLM model.
    #[arg(long)]
    pub llm_model: Option<String>,
    /// LLM base URL (OpenAI-compatible servers, Azure, Ollama, a proxy).
    #[arg(long)]
    pub llm_base_url: Option<String>,
    /// LLM answer cache and recording folder.
    #[arg(long)]
    pub llm_cache_dir: Option<String>,
    /// Hard limit of LLM calls per run.
    #[arg(long)]
    pub llm_max_calls: Option<String>,
    /// Hard limit of LLM tokens per run.
    #[arg(long)]
    pub llm_max_tokens: Option<String>,
    /// LLM calls in flight at once.
    #[arg(long)]
    pub llm_concurrency: Option<String>,
    /// Seconds per LLM request.
    #[arg(long)]
    pub llm_timeout: Option<String>,
    /// Most tokens one LLM answer may take (under each role's own limit).
    #[arg(long)]
    pub llm_max_output_tokens: Option<String>,
    /// QA repair rounds before LLM fills are reverted.
    #[arg(long)]
    pub max_repair_attempts: Option<String>,
}

/// Flags of `demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Where to create the demo (default: a new temporary folder, kept).
    #[arg(long)]
    pub dir: Option<PathBuf>,
}

/// Flags of `generate`.
#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// An issues event payload.
    #[arg(long, conflicts_with_all = ["spec", "issue_body"])]
    pub event: Option<PathBuf>,
    /// A spec.yaml written by an earlier run.
    #[arg(long, conflicts_with = "issue_body")]
    pub spec: Option<PathBuf>,
    /// A file holding an issue-form body.
    #[arg(long)]
    pub issue_body: Option<PathBuf>,
    /// Output folder.
    #[arg(long)]
    pub out: PathBuf,
    /// Stack pack.
    #[arg(long, default_value = crate::config::DEFAULT_STACK)]
    pub stack: String,
    /// A folder of your own stack packs.
    #[arg(long)]
    pub templates_dir: Option<PathBuf>,
}

/// Reads one variable, treating empty as unset.
fn var(get: &impl Fn(&str) -> Option<String>, name: &str) -> Option<String> {
    get(name).filter(|v| !v.is_empty())
}

/// Builds the run request from flags and the environment (`get` reads a variable).
pub fn run_request(args: RunArgs, get: impl Fn(&str) -> Option<String>) -> RunRequest {
    let flags = Inputs {
        llm_provider: args.llm_provider,
        stack: args.stack,
        app_dir: args.app_dir,
        base_branch: args.base_branch,
        push: args.push,
        config_path: args.config_path,
        push_on_failure: args.push_on_failure,
        test_timeout: args.test_timeout,
        llm_model: args.llm_model,
        llm_base_url: args.llm_base_url,
        llm_cache_dir: args.llm_cache_dir,
        llm_max_calls: args.llm_max_calls,
        llm_max_tokens: args.llm_max_tokens,
        llm_concurrency: args.llm_concurrency,
        llm_timeout: args.llm_timeout,
        llm_max_output_tokens: args.llm_max_output_tokens,
        max_repair_attempts: args.max_repair_attempts,
        trigger_label: None,
        allowed_associations: None,
        labels: None,
        draft: None,
        reviewers: None,
        team_reviewers: None,
        assignees: None,
        sign_commits: None,
    };
    let inputs = Inputs::from_env(&get).overlay(flags);
    let runner_temp = var(&get, "RUNNER_TEMP")
        .map(PathBuf::from)
        .unwrap_or_else(std::env::temp_dir);
    let workspace = args
        .repo
        .clone()
        .or_else(|| var(&get, "GITHUB_WORKSPACE").map(PathBuf::from))
        .unwrap_or_else(|| PathBuf::from("."));
    let token = var(&get, "INPUT_GITHUB-TOKEN")
        .or_else(|| var(&get, "GITHUB_TOKEN"))
        .map(SecretString::from);
    // The key is only ever read from the environment (an argument would show in `ps`).
    let secret = |name: &str| var(&get, name).map(SecretString::from);
    RunRequest {
        llm_api_key: secret("INPUT_LLM-API-KEY"),
        openai_api_key: secret("OPENAI_API_KEY"),
        anthropic_api_key: secret("ANTHROPIC_API_KEY"),
        event_name: args
            .event_name
            .or_else(|| var(&get, "GITHUB_EVENT_NAME"))
            .unwrap_or_else(|| {
                if args.event.is_some() {
                    "issues".into()
                } else {
                    String::new()
                }
            }),
        event_path: args
            .event
            .or_else(|| var(&get, "GITHUB_EVENT_PATH").map(PathBuf::from)),
        workspace: workspace.clone(),
        repository: args.repository.or_else(|| var(&get, "GITHUB_REPOSITORY")),
        cache_dir_from_input: args.cache_dir.is_none() && var(&get, "INPUT_CACHE-DIR").is_some(),
        cache_dir: args
            .cache_dir
            .or_else(|| var(&get, "INPUT_CACHE-DIR").map(PathBuf::from))
            // Inside the workspace, which later steps (actions/cache) see at the same path;
            // never committed: the commit holds only the generated files.
            .unwrap_or_else(|| workspace.join(".e2e-cache")),
        runner_temp,
        inputs,
        github_token: token,
        api_url: var(&get, "GITHUB_API_URL").unwrap_or_else(|| "https://api.github.com".into()),
        server_url: var(&get, "GITHUB_SERVER_URL").unwrap_or_else(|| "https://github.com".into()),
        tool_cache: var(&get, "RUNNER_TOOL_CACHE").map(PathBuf::from),
        templates_dir: args.templates_dir.or_else(|| {
            var(&get, "INPUT_TEMPLATES-DIR").map(|d| {
                let ws = var(&get, "GITHUB_WORKSPACE")
                    .map(PathBuf::from)
                    .unwrap_or_else(|| PathBuf::from("."));
                ws.join(d)
            })
        }),
    }
}

/// The eval request from its flags (`get` reads a variable).
pub fn eval_request(args: EvalArgs, get: impl Fn(&str) -> Option<String>) -> EvalRequest {
    EvalRequest {
        corpus: args.corpus,
        keep: args.keep,
        cache_dir: args.cache_dir.unwrap_or_else(|| user_cache_dir(get)),
        without_rules: args.without_rules,
    }
}

/// A per-user cache folder for the demo, so a second demo installs nothing. Run by root whose
/// home is private (`/root` is 0700), the sandbox user could not reach a venv there, so the
/// system's cache folder is used instead.
pub fn user_cache_dir(get: impl Fn(&str) -> Option<String>) -> PathBuf {
    let dir = var(&get, "XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| var(&get, "HOME").map(|h| Path::new(&h).join(".cache")))
        .unwrap_or_else(std::env::temp_dir)
        .join("e2e-action");
    let base = crate::sandbox::isolation::SANDBOX_UID_BASE;
    // SAFETY: geteuid cannot fail.
    let root = unsafe { libc::geteuid() } == 0;
    if root && !crate::sandbox::isolation::reachable(&dir, base, base) {
        PathBuf::from("/var/cache/e2e-action")
    } else {
        dir
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn environment_feeds_the_request_and_flags_win() {
        let env = [
            ("GITHUB_EVENT_NAME", "issues"),
            ("GITHUB_EVENT_PATH", "/e.json"),
            ("GITHUB_WORKSPACE", "/ws"),
            ("RUNNER_TEMP", "/rt"),
            ("INPUT_STACK", "python-fastapi"),
            ("INPUT_GITHUB-TOKEN", ""),
            ("GITHUB_TOKEN", "ghs_x"),
        ];
        let get = |k: &str| {
            env.iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        };
        let req = run_request(
            RunArgs {
                stack: Some("other".into()),
                ..RunArgs::default()
            },
            get,
        );
        assert_eq!(req.event_path.as_deref(), Some(Path::new("/e.json")));
        assert_eq!(req.workspace, PathBuf::from("/ws"));
        assert_eq!(req.inputs.stack.as_deref(), Some("other"));
        assert_eq!(req.cache_dir, PathBuf::from("/ws/.e2e-cache"));
        assert!(req.github_token.is_some());
        assert!(!format!("{req:?}").contains("ghs_x"));
    }
}
