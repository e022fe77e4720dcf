//! `plinth`: run, inspect and author WebAssembly component plugins.

// Output goes through `output.rs`, which escapes untrusted text and survives a closed pipe.
#![deny(clippy::print_stdout, clippy::print_stderr)]

mod commands;
mod context;
mod output;
mod progress;
mod telemetry;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::context::GlobalArgs;

/// Run, inspect and author sandboxed WebAssembly component plugins.
#[derive(Debug, Parser)]
#[command(name = "plinth", version, about, propagate_version = true)]
struct Cli {
    #[command(flatten)]
    global: GlobalArgs,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    Check(commands::check::CheckArgs),
    Call(commands::call::CallArgs),
    Show(commands::show::ShowArgs),
    New(commands::new::NewArgs),
    Build(commands::build::BuildArgs),
    List(commands::list::ListArgs),
    Enable(commands::enable::EnableArgs),
    Disable(commands::disable::DisableArgs),
    Grant(commands::grant::GrantArgs),
    Revoke(commands::revoke::RevokeArgs),
    Pack(commands::pack::PackArgs),
    Keygen(commands::keygen::KeygenArgs),
    Sign(commands::sign::SignArgs),
    Verify(commands::verify::VerifyArgs),
    Trust(commands::trust::TrustArgs),
    Consent(commands::consent::ConsentArgs),
    Install(commands::install::InstallArgs),
    Uninstall(commands::uninstall::UninstallArgs),
    Restore(commands::restore::RestoreArgs),
    Update(commands::update::UpdateArgs),
    Search(commands::search::SearchArgs),
    Serve(commands::serve::ServeArgs),
    Push(commands::push::PushArgs),
    Pull(commands::pull::PullArgs),
    Tool(commands::tool::ToolArgs),
    Hook(commands::tool::HookArgs),
    Test(commands::test::TestArgs),
    Wit(commands::wit::WitArgs),
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => {
            // clap prints help/version to stdout (exit 0) and usage errors to stderr (2).
            let _ = error.print();
            return ExitCode::from(if error.use_stderr() { 2 } else { 0 });
        }
    };
    let ctx = match context::Context::new(cli.global) {
        Ok(ctx) => ctx,
        Err(outcome) => return output::stdout_failure(outcome).exit_code(),
    };
    let outcome = match cli.command {
        Command::Check(args) => args.run(&ctx),
        Command::Call(args) => args.run(&ctx),
        Command::Tool(args) => args.run(&ctx),
        Command::Hook(args) => args.run(&ctx),
        Command::Test(args) => args.run(&ctx),
        Command::Show(args) => args.run(&ctx),
        Command::New(args) => args.run(&ctx),
        Command::Build(args) => args.run(&ctx),
        Command::List(args) => args.run(&ctx),
        Command::Enable(args) => args.run(&ctx),
        Command::Disable(args) => args.run(&ctx),
        Command::Grant(args) => args.run(&ctx),
        Command::Revoke(args) => args.run(&ctx),
        Command::Pack(args) => args.run(&ctx),
        Command::Keygen(args) => args.run(&ctx),
        Command::Sign(args) => args.run(&ctx),
        Command::Verify(args) => args.run(&ctx),
        Command::Trust(args) => args.run(&ctx),
        Command::Consent(args) => args.run(&ctx),
        Command::Install(args) => args.run(&ctx),
        Command::Uninstall(args) => args.run(&ctx),
        Command::Restore(args) => args.run(&ctx),
        Command::Update(args) => args.run(&ctx),
        Command::Search(args) => args.run(&ctx),
        Command::Serve(args) => args.run(&ctx),
        Command::Push(args) => args.run(&ctx),
        Command::Pull(args) => args.run(&ctx),
        Command::Wit(args) => args.run(&ctx),
    };
    output::stdout_failure(outcome).exit_code()
}
