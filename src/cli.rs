//! Command line: turns flags and the runner's environment into typed requests.
//! The core never sees clap.

use std::path::{Path, PathBuf};

use clap::{Args, Parser, Subcommand};
use secrecy::SecretString;

use crate::config::{Inputs, input_var};
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
    /// The flags that set action inputs.
    #[command(flatten)]
    pub inputs: InputFlags,
    /// A folder of your own stack packs.
    #[arg(long)]
    pub templates_dir: Option<PathBuf>,
    /// Cache for virtual environments and packages (default: .e2e-cache in the workspace).
    #[arg(long)]
    pub cache_dir: Option<PathBuf>,
}

/// Generates [`InputFlags`] from the table of [`config_keys!`](crate::config::config_keys):
/// a flag for each key of its `flag_*` groups.
macro_rules! define_input_flags {
    (
        flag_input_file { $( $(#[doc = $d1:literal])* $f1:ident : $t1:ty, )* }
        input_file { $($input_file:tt)* }
        flag_input { $( $(#[doc = $d3:literal])* $f3:ident, )* }
        file { $($file:tt)* }
    ) => {
        /// Flags of `run` that set action inputs; they win over the `INPUT_*` variables.
        #[derive(Debug, Args, Default)]
        pub struct InputFlags {
            $( $(#[doc = $d1])* #[arg(long)] pub $f1: Option<String>, )*
            $( $(#[doc = $d3])* #[arg(long)] pub $f3: Option<String>, )*
        }

        impl InputFlags {
            /// The flags given, as inputs.
            pub fn into_inputs(self) -> Inputs {
                Inputs {
                    $( $f1: self.$f1, )*
                    $( $f3: self.$f3, )*
                    ..Inputs::default()
                }
            }
        }
    };
}
crate::config::config_keys!(define_input_flags);

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
    let inputs = Inputs::from_env(&get).overlay(args.inputs.into_inputs());
    let runner_temp = var(&get, "RUNNER_TEMP")
        .map(PathBuf::from)
        .unwrap_or_else(std::env::temp_dir);
    let workspace = args
        .repo
        .clone()
        .or_else(|| var(&get, "GITHUB_WORKSPACE").map(PathBuf::from))
        .unwrap_or_else(|| PathBuf::from("."));
    let token = var(&get, &input_var("github-token"))
        .or_else(|| var(&get, "GITHUB_TOKEN"))
        .map(SecretString::from);
    // The key is only ever read from the environment (an argument would show in `ps`).
    let secret = |name: &str| var(&get, name).map(SecretString::from);
    RunRequest {
        llm_api_key: secret(&input_var("llm-api-key")),
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
        cache_dir_from_input: args.cache_dir.is_none()
            && var(&get, &input_var("cache-dir")).is_some(),
        cache_dir: args
            .cache_dir
            .or_else(|| var(&get, &input_var("cache-dir")).map(PathBuf::from))
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
            var(&get, &input_var("templates-dir")).map(|d| {
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
                inputs: InputFlags {
                    stack: Some("other".into()),
                    ..InputFlags::default()
                },
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

    #[test]
    fn the_flags_of_run_are_the_tables_flag_keys_and_the_run_only_ones() {
        use clap::CommandFactory;
        let cli = Cli::command();
        let run = cli.find_subcommand("run").unwrap();
        let mut flags: Vec<String> = run
            .get_arguments()
            .filter_map(|a| a.get_long().map(String::from))
            .collect();
        flags.sort();
        let mut want: Vec<String> = crate::config::KEYS
            .iter()
            .filter(|k| k.flag)
            .map(|k| k.name())
            .chain(
                [
                    "event",
                    "event-name",
                    "repo",
                    "repository",
                    "templates-dir",
                    "cache-dir",
                ]
                .map(String::from),
            )
            .collect();
        want.sort();
        assert_eq!(flags, want);
        // The flags `run` has always had (removing one breaks someone's script).
        for old in [
            "llm-provider",
            "stack",
            "app-dir",
            "base-branch",
            "push",
            "push-on-failure",
            "test-timeout",
            "config-path",
            "llm-model",
            "llm-base-url",
            "llm-cache-dir",
            "llm-max-calls",
            "llm-max-tokens",
            "llm-concurrency",
            "llm-timeout",
            "llm-max-output-tokens",
            "max-repair-attempts",
        ] {
            assert!(flags.iter().any(|f| f == old), "--{old} is gone");
        }
        let args = Cli::try_parse_from([
            "e2e-action",
            "run",
            "--push",
            "false",
            "--llm-max-calls",
            "3",
        ])
        .unwrap();
        let Some(Command::Run(args)) = args.command else {
            panic!("not run")
        };
        let req = run_request(*args, |k| (k == "INPUT_PUSH").then(|| "true".to_string()));
        assert_eq!(
            req.inputs.push.as_deref(),
            Some("false"),
            "a flag wins over its input"
        );
        assert_eq!(req.inputs.llm_max_calls.as_deref(), Some("3"));
    }

    #[test]
    fn the_inputs_outside_the_table_are_read() {
        let get = |k: &str| {
            crate::config::OTHER_INPUTS
                .iter()
                .any(|n| crate::config::input_var(n) == k)
                .then(|| "x".to_string())
        };
        let req = run_request(RunArgs::default(), get);
        assert!(req.github_token.is_some());
        assert!(req.llm_api_key.is_some());
        assert!(req.cache_dir_from_input);
        assert_eq!(req.cache_dir, PathBuf::from("x"));
        assert_eq!(req.templates_dir, Some(PathBuf::from("./x")));
    }
}
