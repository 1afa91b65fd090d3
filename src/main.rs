use clap::Parser;

fn main() {
    let cli = rampart::cli::Cli::parse();
    let stdout = std::io::stdout();
    let stderr = std::io::stderr();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let status = rampart::run(cli, &mut out, &mut stderr.lock());
    // Flushing into a closed pipe is not a failure of the run.
    let _ = std::io::Write::flush(&mut out);
    std::process::exit(status.code());
}
