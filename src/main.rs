//! e2e-action: parse the command line, run, map errors to exit codes.

use clap::Parser;
use e2e_action::cli::{self, Cli, Command};
use e2e_action::demo::{self, SpecSource};
use e2e_action::error::exit_code_of;
use e2e_action::pipeline::{self, RunOutcome};
use e2e_action::report::Reporter;

fn main() {
    // Before any secret is read: no other process, even of our uid, may read our memory or
    // environment (generated code runs beside us).
    e2e_action::sandbox::isolation::harden_self();
    let cli = Cli::parse();
    e2e_action::llm::ensure_crypto_provider();
    let env = |k: &str| std::env::var(k).ok();
    let in_actions = env("GITHUB_ACTIONS").as_deref() == Some("true");
    let reporter = Reporter {
        output_file: env("GITHUB_OUTPUT")
            .filter(|v| !v.is_empty())
            .map(Into::into),
        summary_file: env("GITHUB_STEP_SUMMARY")
            .filter(|v| !v.is_empty())
            .map(Into::into),
        workflow_commands: in_actions,
        silent: false,
        debug: env("RUNNER_DEBUG").as_deref() == Some("1"),
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let result = runtime.block_on(async {
        match cli.command.unwrap_or(Command::Run(Box::default())) {
            Command::Run(args) => {
                let req = cli::run_request(*args, env);
                pipeline::run(&req, &reporter).await.map(|outcome| {
                    if let RunOutcome::Built(d) = outcome {
                        reporter.info(&format!("branch {} at {} (tests {})", d.branch, d.sha, d.tests));
                    }
                })
            }
            Command::Demo(args) => {
                let root = match args.dir {
                    Some(d) => d,
                    None => tempfile::Builder::new().prefix("e2e-demo-").tempdir()?.keep(),
                };
                // Searchable by others (tempdir makes it 0700), so the sandbox user can reach
                // the staging folder inside it.
                std::fs::create_dir_all(&root)?;
                std::fs::set_permissions(&root, std::os::unix::fs::PermissionsExt::from_mode(0o755))?;
                let r = demo::demo(&root, cli::user_cache_dir(env), &reporter).await?;
                if let RunOutcome::Built(d) = &r.outcome {
                    reporter.info(&format!(
                        "\ndemo done: tests {}\n  branch  {} ({}) pushed to {}\n  app     {}\n  inspect git -C {} log --stat {}",
                        d.tests,
                        d.branch,
                        d.sha,
                        r.origin.display(),
                        r.workspace.join(&d.app_path).display(),
                        r.origin.display(),
                        d.branch
                    ));
                }
                Ok(())
            }
            Command::Bench(args) if args.real_model.is_some() => {
                let target = e2e_action::bench::Target {
                    url: args.real_model.as_deref().unwrap_or_default(),
                    model: &args.model,
                    max_output_tokens: Some(args.max_output_tokens),
                };
                e2e_action::bench::bench_real(
                    target,
                    args.concurrency,
                    &cli::user_cache_dir(env),
                    &reporter,
                )
                .await
            }
            Command::Bench(args) => {
                e2e_action::bench::bench(
                    std::time::Duration::from_millis(args.latency_ms),
                    args.concurrency,
                    &args.specs,
                    &cli::user_cache_dir(env),
                    &reporter,
                )
                .await
            }
            Command::Eval(args) => {
                let summary = e2e_action::eval::eval(&cli::eval_request(args, env), &reporter).await?;
                if !summary.passed() {
                    // The closing line stays the last line: the failures were listed before it.
                    std::process::exit(e2e_action::error::EXIT_EXTERNAL);
                }
                Ok(())
            }
            Command::Generate(args) => {
                let source = match (&args.event, &args.spec, &args.issue_body) {
                    (Some(p), _, _) => SpecSource::Event(p),
                    (_, Some(p), _) => SpecSource::SpecFile(p),
                    (_, _, Some(p)) => SpecSource::IssueBody(p),
                    _ => anyhow::bail!(e2e_action::error::E2eError::Config("generate needs --event, --spec or --issue-body".into())),
                };
                let pack = demo::load_pack(&args.stack, args.templates_dir.as_deref())?;
                let spec = demo::read_spec(source, &pack.manifest.reserved)?;
                let n = demo::generate(&spec, &pack, &args.out)?;
                reporter.info(&format!("wrote {n} files to {}", args.out.display()));
                Ok(())
            }
        }
    });
    if let Err(e) = result {
        reporter.error_at(
            &format!("e2e-action: {e:#}"),
            &e2e_action::error::annotation_of(&e),
        );
        std::process::exit(exit_code_of(&e));
    }
}
