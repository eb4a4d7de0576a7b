//! The one place that writes to the console and to the runner's files: log lines and
//! workflow commands on stdout, `GITHUB_OUTPUT`, `GITHUB_STEP_SUMMARY` and `run-report.json`.
#![allow(clippy::print_stdout)]

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::Serialize;

/// Writes what the run has to say, in the runner's formats.
#[derive(Debug, Clone, Default)]
pub struct Reporter {
    /// `GITHUB_OUTPUT` file.
    pub output_file: Option<PathBuf>,
    /// `GITHUB_STEP_SUMMARY` file.
    pub summary_file: Option<PathBuf>,
    /// Emit workflow commands (`::group::`, `::error::`, `::add-mask::`).
    pub workflow_commands: bool,
    /// Print nothing (benchmarks run the pipeline many times).
    pub silent: bool,
    /// Emit `::debug::` lines (the runner sets `RUNNER_DEBUG=1` when debug logging is on).
    pub debug: bool,
}

/// Where an annotation points and what it is called, as far as it is known.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Annotation {
    /// File relative to the repository root (GitHub attaches the annotation to it).
    pub file: Option<String>,
    /// 1-based line in `file`.
    pub line: Option<usize>,
    /// Short title shown above the message.
    pub title: Option<String>,
}

impl Annotation {
    /// An annotation with a title only.
    pub fn titled(title: &str) -> Annotation {
        Annotation {
            title: Some(title.to_string()),
            ..Annotation::default()
        }
    }

    /// `file=…,line=…,title=…` with the runner's property escaping (also `:` and `,`).
    fn properties(&self) -> String {
        let mut parts = Vec::new();
        if let Some(f) = &self.file {
            parts.push(format!("file={}", escape_property(f)));
            if let Some(l) = self.line {
                parts.push(format!("line={l}"));
            }
        }
        if let Some(t) = &self.title {
            parts.push(format!("title={}", escape_property(t)));
        }
        parts.join(",")
    }
}

/// Escapes a workflow-command message (`%`, CR, LF) as the runner expects.
fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Characters that end a line for the runner or for a reader: CR and LF, and the vertical
/// tab, form feed, NEL and Unicode line and paragraph separators, which some consumers treat
/// as breaks too. `inert` treats every one as a break so none can start a hidden line.
const LINE_BREAKS: &[char] = &[
    '\r', '\n', '\u{0b}', '\u{0c}', '\u{85}', '\u{2028}', '\u{2029}',
];

/// Escapes a workflow-command property value: the message escapes plus `:` and `,`, which
/// would otherwise end the value.
fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

/// Neutralises text we did not write (issue text, tool output) so a line of it can never be
/// read by the runner as a workflow command: it is split at every kind of line break (see
/// [`LINE_BREAKS`]), re-joined with `\n` only, and each line that starts (after any
/// whitespace) with `::` or the old `##[` form gets a leading space and its `::` broken up.
pub fn inert(s: &str) -> String {
    let s = s.replace("\r\n", "\n");
    s.split(LINE_BREAKS)
        .map(|l| {
            let t = l.trim_start();
            if t.starts_with("::") || t.starts_with("##[") {
                format!(" {}", l.replace("::", ": :").replace("##[", "# #["))
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

impl Reporter {
    /// A reporter that prints nothing and writes no files.
    pub fn quiet() -> Reporter {
        Reporter {
            silent: true,
            ..Reporter::default()
        }
    }

    fn line(&self, text: &str) {
        if !self.silent {
            println!("{text}");
        }
    }

    /// A plain log line.
    pub fn info(&self, msg: &str) {
        self.line(&inert(msg));
    }

    /// A block of text we did not write (a test log): made inert line by line and, in Actions,
    /// also framed by `stop-commands` with a random token, so the runner reads no command in
    /// it even if a line slipped through.
    pub fn untrusted_block(&self, title: &str, text: &str) {
        if self.workflow_commands {
            let token = random_hex();
            self.line(&format!("{}\n::stop-commands::{token}", inert(title)));
            self.line(&inert(text));
            self.line(&format!("::{token}::"));
        } else {
            self.line(&inert(&format!("{title}\n{text}")));
        }
    }

    /// A notice annotation (or a plain line outside Actions).
    pub fn notice(&self, msg: &str) {
        if self.workflow_commands {
            self.line(&format!("::notice::{}", escape_data(msg)));
        } else {
            self.line(&format!("notice: {}", inert(msg)));
        }
    }

    /// A warning annotation.
    pub fn warning(&self, msg: &str) {
        if self.workflow_commands {
            self.line(&format!("::warning::{}", escape_data(msg)));
        } else {
            self.line(&format!("warning: {}", inert(msg)));
        }
    }

    /// An error annotation.
    pub fn error(&self, msg: &str) {
        self.error_at(msg, &Annotation::default());
    }

    /// An error annotation pointing at `at` (file, line, title) where known.
    pub fn error_at(&self, msg: &str, at: &Annotation) {
        if self.workflow_commands {
            let props = at.properties();
            let sep = if props.is_empty() { "" } else { " " };
            self.line(&format!("::error{sep}{props}::{}", escape_data(msg)));
        } else {
            let place = match (&at.file, at.line) {
                (Some(f), Some(l)) => format!("{f}:{l}: "),
                (Some(f), None) => format!("{f}: "),
                _ => String::new(),
            };
            self.line(&format!("error: {place}{}", inert(msg)));
        }
    }

    /// A debug line, shown by the runner when debug logging is on; nothing otherwise.
    pub fn debug(&self, msg: &str) {
        if !self.debug {
            return;
        }
        if self.workflow_commands {
            self.line(&format!("::debug::{}", escape_data(msg)));
        } else {
            self.line(&format!("debug: {}", inert(msg)));
        }
    }

    /// Asks the runner to mask `secret` in all later log output.
    pub fn mask(&self, secret: &str) {
        if self.workflow_commands && !secret.is_empty() {
            self.line(&format!("::add-mask::{}", escape_data(secret)));
        }
    }

    /// Opens a collapsible log group.
    pub fn group(&self, title: &str) {
        if self.workflow_commands {
            self.line(&format!("::group::{}", escape_data(title)));
        } else {
            self.line(&format!("== {title}"));
        }
    }

    /// Closes the log group.
    pub fn end_group(&self) {
        if self.workflow_commands {
            self.line("::endgroup::");
        }
    }

    /// Appends outputs to `GITHUB_OUTPUT` in the multi-line-safe `name<<DELIM` form.
    pub fn set_outputs(&self, outputs: &[(&str, String)]) -> std::io::Result<()> {
        let Some(path) = &self.output_file else {
            for (k, v) in outputs {
                self.line(&format!("output {k}={}", inert(v)));
            }
            return Ok(());
        };
        let mut text = String::new();
        for (name, value) in outputs {
            let delim = loop {
                let d = format!("ghadelimiter_{}", random_hex());
                if !value.contains(&d) {
                    break d;
                }
            };
            text.push_str(&format!("{name}<<{delim}\n{value}\n{delim}\n"));
        }
        append(path, &text)
    }

    /// Appends Markdown to the step summary (or prints it outside Actions).
    pub fn summary(&self, markdown: &str) -> std::io::Result<()> {
        match &self.summary_file {
            Some(path) => append(path, markdown),
            None => Ok(()),
        }
    }
}

/// 128 bits from the standard library's per-process random hash keys (seeded by the OS): a
/// delimiter a value cannot predict, without a random-number crate for this one call. The
/// caller also checks that the value does not contain it.
fn random_hex() -> String {
    use std::hash::{BuildHasher, Hasher};
    let half = || {
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u128(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or(0),
        );
        h.finish()
    };
    format!("{:016x}{:016x}", half(), half())
}

fn append(path: &Path, text: &str) -> std::io::Result<()> {
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?;
    f.write_all(text.as_bytes())
}

/// Writes `value` as pretty JSON to `path`, creating parent folders.
pub fn write_json(path: &Path, value: &impl Serialize) -> std::io::Result<()> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let text = serde_json::to_string_pretty(value).map_err(std::io::Error::other)?;
    std::fs::write(path, text + "\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outputs_use_random_delimiters() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("out");
        let r = Reporter {
            output_file: Some(file.clone()),
            ..Reporter::default()
        };
        r.set_outputs(&[("branch", "e2e/x".into()), ("multi", "a\nb".into())])
            .unwrap();
        let text = std::fs::read_to_string(file).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[0].starts_with("branch<<ghadelimiter_"));
        assert_eq!(lines[1], "e2e/x");
        assert_eq!(lines[2], &lines[0]["branch<<".len()..]);
        assert_eq!(&lines[4..6], ["a", "b"]);
        let (a, b) = (random_hex(), random_hex());
        assert_eq!(a.len(), 32);
        assert_ne!(a, b);
    }

    #[test]
    fn annotations_carry_escaped_file_line_and_title() {
        let a = Annotation {
            file: Some(".github/e2e-action.yml".into()),
            line: Some(3),
            title: Some("Invalid configuration: a, b".into()),
        };
        assert_eq!(
            a.properties(),
            "file=.github/e2e-action.yml,line=3,title=Invalid configuration%3A a%2C b"
        );
        // A line without a file means nothing to the runner: it is left out.
        let no_file = Annotation {
            line: Some(3),
            ..Annotation::titled("t")
        };
        assert_eq!(no_file.properties(), "title=t");
        assert_eq!(Annotation::default().properties(), "");
    }

    #[test]
    fn foreign_text_cannot_issue_workflow_commands() {
        assert_eq!(
            inert("ok\n::set-env name=X::1"),
            "ok\n : :set-env name=X: :1"
        );
        assert_eq!(escape_data("50%\nx"), "50%25%0Ax");
        // The runner ends a line at a lone CR too; so do NEL and the Unicode separators.
        for br in [
            "\r", "\u{85}", "\u{2028}", "\u{2029}", "\u{0b}", "\u{0c}", "\r\n",
        ] {
            let attack = format!("x{br}::warning::pwned{br}  ::add-mask::passed{br}##[error]old");
            let out = inert(&attack);
            for line in out.split('\n') {
                let t = line.trim_start();
                assert!(
                    !t.starts_with("::") && !t.starts_with("##["),
                    "{br:?}: {out:?}"
                );
            }
            assert!(
                !out.contains(['\r', '\u{85}', '\u{2028}', '\u{2029}']),
                "{out:?}"
            );
            assert_eq!(out.split('\n').count(), 4, "{out:?}");
        }
    }

    #[test]
    fn untrusted_blocks_are_framed_by_stop_commands() {
        // Printed to stdout: checked through the integration tests; here the framing logic.
        let r = Reporter {
            silent: true,
            workflow_commands: true,
            ..Reporter::default()
        };
        r.untrusted_block("log", "::error::x");
    }
}
