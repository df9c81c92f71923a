#[tokio::main]
async fn main() -> std::process::ExitCode {
    stock::cli::run().await
}
