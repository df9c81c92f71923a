/// The allocator: glibc's malloc and free took 13 % of the server's CPU under the dashboard load
/// (docs/BENCHMARKS.md, "Fifth session"); mimalloc keeps per-thread free lists.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    stock::cli::main()
}
