//! `xverify`: offline proofs of who can reach what across an AWS estate.

use std::io::{BufReader, Read};
use std::process::ExitCode;

/// Policies are many small strings and vectors, built and dropped per case: see Cargo.toml.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use clap::{Parser, Subcommand};
use xverify_proofs::cli::eval::{run_eval_jobs, run_eval_spec_jobs, EvalOptions};

#[derive(Parser)]
#[command(
    name = "xverify",
    version,
    about = "Who can reach what across an AWS estate, with proof"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Decide requests offline: JSON Lines of cases in, one decision per line out.
    Eval {
        /// Case file (JSON Lines); `-` for standard input.
        file: String,
        /// Include each deciding statement's text in `explain`.
        #[arg(long)]
        explain: bool,
        /// Compare each decision with the case's `expect`; exit 1 on any difference.
        #[arg(long)]
        check: bool,
        /// Do not enforce AWS's policy size limits.
        #[arg(long)]
        no_size_limits: bool,
        /// Compile every policy of every case (by default a policy met again with the same
        /// text at the same place in a case is compiled once per thread); the output is the same.
        #[arg(long)]
        no_cache: bool,
        /// Evaluate requests against the estate of this spec (interfaces.md §3).
        #[arg(long, value_name = "SPEC")]
        spec: Option<std::path::PathBuf>,
        /// Threads evaluating the lines of FILE in parallel, the output still in input order
        /// (default: the machine's cores; standard input is always read one line at a time).
        #[arg(long)]
        jobs: Option<usize>,
    },
    /// Prove the properties of a spec: each proved, refuted (with a replayed counterexample) or unknown.
    Prove {
        /// The spec (interfaces.md §3).
        spec: std::path::PathBuf,
        /// Output format.
        #[arg(long, value_enum, default_value_t = FormatArg::Text)]
        format: FormatArg,
        /// Prove only these properties (repeatable).
        #[arg(long = "property", value_name = "NAME")]
        properties: Vec<String>,
        /// Solver timeout per query, in milliseconds.
        #[arg(long, default_value_t = 10_000)]
        timeout_ms: u32,
        /// Threads solving queries in parallel (default: the machine's cores).
        #[arg(long)]
        jobs: Option<usize>,
        /// Write every solver query as SMT-LIB into this folder.
        #[arg(long, value_name = "DIR")]
        dump_smt: Option<std::path::PathBuf>,
        /// Count service-linked roles of accounts the spec does not describe among the open world's
        /// principals (RCPs and SCPs do not apply to them).
        #[arg(long)]
        service_linked_roles: bool,
        /// No progress line on standard error (it is drawn only on a terminal, after a second).
        #[arg(long)]
        no_progress: bool,
    },
    /// Draw who can assume which role (sts:AssumeRole* hops the prover finds possible).
    Graph {
        /// The spec (interfaces.md §3).
        spec: std::path::PathBuf,
        /// Output format.
        #[arg(long, value_enum, default_value_t = GraphFormatArg::Mermaid)]
        format: GraphFormatArg,
        /// Also prove this property and highlight its counterexample chain.
        #[arg(long, value_name = "NAME")]
        property: Option<String>,
        /// Solver timeout per query, in milliseconds.
        #[arg(long, default_value_t = 10_000)]
        timeout_ms: u32,
        /// Threads solving queries in parallel (default: the machine's cores).
        #[arg(long)]
        jobs: Option<usize>,
    },
    /// Build a spec from AWS CLI outputs (layout and commands: corpus/import/README.md).
    Import {
        /// Directory holding organization/ and accounts/<ID>/ as the AWS CLI printed them.
        dir: std::path::PathBuf,
        /// Write the spec here instead of standard output.
        #[arg(short, long, value_name = "FILE")]
        output: Option<std::path::PathBuf>,
    },
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum GraphFormatArg {
    Mermaid,
    Dot,
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum FormatArg {
    Text,
    Json,
    Sarif,
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
        }
    };
    match cli.command {
        Command::Prove {
            spec,
            format,
            properties,
            timeout_ms,
            jobs,
            dump_smt,
            service_linked_roles,
            no_progress,
        } => prove(
            &spec,
            format,
            &properties,
            timeout_ms,
            jobs,
            dump_smt,
            service_linked_roles,
            !no_progress,
        ),
        Command::Graph {
            spec,
            format,
            property,
            timeout_ms,
            jobs,
        } => graph(&spec, format, property.as_deref(), timeout_ms, jobs),
        Command::Import { dir, output } => match xverify_proofs::import::import_dir(&dir) {
            Ok(spec) => {
                let text = match serde_json::to_string_pretty(&spec) {
                    Ok(t) => t + "\n",
                    Err(e) => {
                        eprintln!("xverify: {e}");
                        return ExitCode::from(2);
                    }
                };
                let written = match &output {
                    Some(f) => std::fs::write(f, text),
                    None => std::io::Write::write_all(&mut std::io::stdout(), text.as_bytes()),
                };
                match written {
                    Ok(()) => ExitCode::SUCCESS,
                    Err(e) => {
                        eprintln!("xverify: {e}");
                        ExitCode::from(2)
                    }
                }
            }
            Err(e) => {
                eprintln!("xverify: {e}");
                ExitCode::from(2)
            }
        },
        Command::Eval {
            file,
            explain,
            check,
            no_size_limits,
            no_cache,
            spec,
            jobs,
        } => {
            let estate = match &spec {
                None => None,
                Some(p) => match xverify_proofs::spec::load_spec(p) {
                    Ok(s) => Some(s.estate),
                    Err(e) => {
                        eprintln!("xverify: {e}");
                        return ExitCode::from(2);
                    }
                },
            };
            let opts = EvalOptions {
                explain,
                check,
                no_size_limits,
                no_cache,
            };
            // Standard input may be a stream read as it comes: one line at a time, no read-ahead.
            let jobs = if file == "-" {
                1
            } else {
                jobs.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
            };
            let input: Box<dyn Read> = if file == "-" {
                Box::new(std::io::stdin())
            } else {
                match std::fs::File::open(&file) {
                    Ok(f) => Box::new(f),
                    Err(e) => {
                        eprintln!("xverify: {file}: {e}");
                        return ExitCode::from(2);
                    }
                }
            };
            let stdout = std::io::stdout();
            let out = std::io::BufWriter::with_capacity(1 << 16, stdout.lock());
            let reader = BufReader::with_capacity(1 << 16, input);
            let result = match &estate {
                Some(e) => run_eval_spec_jobs(e, reader, out, &opts, jobs),
                None => run_eval_jobs(reader, out, &opts, jobs),
            };
            match result {
                Ok(sum) => {
                    if check {
                        eprintln!("eval: {} passed, {} failed", sum.passed, sum.failed);
                        if sum.unexpected_errors > 0 {
                            eprintln!(
                                "xverify: {file}: {} of {} lines in error without \"expect\": \"Error\"",
                                sum.unexpected_errors, sum.cases
                            );
                        }
                    } else if sum.errors > 0 {
                        eprintln!(
                            "xverify: {file}: {} of {} lines in error",
                            sum.errors, sum.cases
                        );
                    }
                    ExitCode::from(sum.exit_code(check) as u8)
                }
                Err(e) => {
                    eprintln!("xverify: {file}: {e}");
                    ExitCode::from(2)
                }
            }
        }
    }
}

fn graph(
    path: &std::path::Path,
    format: GraphFormatArg,
    property: Option<&str>,
    timeout_ms: u32,
    jobs: Option<usize>,
) -> ExitCode {
    use xverify_proofs::cli::graph::{run_graph, GraphFormat};
    let jobs = jobs.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let cfg = xverify_proofs::solve::Config {
        timeout_ms,
        threads: jobs,
        ..xverify_proofs::solve::Config::default()
    };
    let format = match format {
        GraphFormatArg::Mermaid => GraphFormat::Mermaid,
        GraphFormatArg::Dot => GraphFormat::Dot,
    };
    match run_graph(path, format, property, &cfg) {
        Ok(run) => {
            if let Some(note) = &run.note {
                eprintln!("{note}");
            }
            print!("{}", run.output);
            ExitCode::from(run.exit_code)
        }
        Err(e) => {
            eprintln!("xverify: {e}");
            ExitCode::from(2)
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn prove(
    path: &std::path::Path,
    format: FormatArg,
    names: &[String],
    timeout_ms: u32,
    jobs: Option<usize>,
    dump_smt: Option<std::path::PathBuf>,
    service_linked_roles: bool,
    progress: bool,
) -> ExitCode {
    let jobs = jobs.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    use std::io::IsTerminal;
    use xverify_proofs::cli::prove::{
        exit_code, json_report, prove_all_with_progress, sarif_report, text_report,
    };
    let spec = match xverify_proofs::spec::load_spec(path) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("xverify: {e}");
            return ExitCode::from(2);
        }
    };
    for n in names {
        if !spec.properties.iter().any(|p| &p.name == n) {
            eprintln!("xverify: {}: no property named {n:?}", path.display());
            return ExitCode::from(2);
        }
    }
    // A `no-new-access` property's earlier spec is input too: one that cannot be read is bad
    // input, not an unknown answer (audit 10, bug 8).
    for (i, p) in spec.properties.iter().enumerate() {
        let chosen = names.is_empty() || names.contains(&p.name);
        if let (true, xverify_proofs::spec::Expectation::NoNewAccess { before }) =
            (chosen, &p.expect)
        {
            if let Err(e) = xverify_proofs::spec::load_spec(before) {
                eprintln!(
                    "xverify: {}:{}: properties[{i}].before: cannot read the earlier spec: {e}",
                    path.display(),
                    p.line
                );
                return ExitCode::from(2);
            }
        }
    }
    if let Some(d) = &dump_smt {
        if let Err(e) = std::fs::create_dir_all(d) {
            eprintln!("xverify: --dump-smt {}: {e}", d.display());
            return ExitCode::from(2);
        }
    }
    let cfg = xverify_proofs::solve::Config {
        timeout_ms,
        dump_dir: dump_smt,
        service_linked_roles,
        threads: jobs,
        ..xverify_proofs::solve::Config::default()
    };
    let progress = progress
        && std::io::stderr().is_terminal()
        && std::env::var_os("TERM").is_none_or(|t| t != "dumb");
    let results = prove_all_with_progress(&spec, names, &cfg, progress);
    let out = match format {
        FormatArg::Text => text_report(path, &results),
        FormatArg::Json => json_report(path, &results).to_string() + "\n",
        FormatArg::Sarif => {
            let text = std::fs::read_to_string(path).unwrap_or_default();
            serde_json::to_string_pretty(&sarif_report(path, &text, &spec, &results))
                .unwrap_or_default()
                + "\n"
        }
    };
    print!("{out}");
    ExitCode::from(exit_code(&results))
}
