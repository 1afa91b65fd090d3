use clap::Parser;

fn main() {
    let cli = rampart::cli::Cli::parse();
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    // stderr is not locked for the run: the progress bar writes to it from
    // worker threads.
    let status = rampart::run(cli, &mut out, &mut std::io::stderr());
    // Flushing into a closed pipe is not a failure of the run.
    let _ = std::io::Write::flush(&mut out);
    std::process::exit(status.code());
}
