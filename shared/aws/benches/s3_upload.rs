//! One upload of a file through `S3ObjectStore::put_file` to an S3 endpoint (scripts/bench-s3
//! runs it against moto's server beside `aws s3 cp`), checked by size afterwards. Prints
//! `kiln-seconds=<s>`; exits non-zero when the upload fails or the object's size is wrong.
//!
//! Reads `KILN_BENCH_ENDPOINT`, `KILN_BENCH_BUCKET`, `KILN_BENCH_FILE` and `KILN_BENCH_KEY`
//! (default `kiln.bin`); the region and credentials are the SDK's usual ones.

use std::process::ExitCode;
use std::time::Instant;

use kiln_aws::S3ObjectStore;
use kiln_core::ports::{ObjectStore, PutOptions};

fn var(name: &str) -> Result<String, String> {
    std::env::var(name).map_err(|_| format!("{name} is not set"))
}

async fn run() -> Result<f64, String> {
    let endpoint = var("KILN_BENCH_ENDPOINT")?;
    let bucket = var("KILN_BENCH_BUCKET")?;
    let file = std::path::PathBuf::from(var("KILN_BENCH_FILE")?);
    let key = std::env::var("KILN_BENCH_KEY").unwrap_or_else(|_| "kiln.bin".to_owned());
    let size = std::fs::metadata(&file).map_err(|e| format!("{}: {e}", file.display()))?.len();
    let sdk = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .http_client(kiln_aws::http_client())
        .endpoint_url(endpoint)
        .load()
        .await;
    let store = S3ObjectStore::new(&sdk);
    let started = Instant::now();
    store
        .put_file(&bucket, &key, &file, &PutOptions::default())
        .await
        .map_err(|e| kiln_core::error_chain(&e))?;
    let seconds = started.elapsed().as_secs_f64();
    let stored = store.head(&bucket, &key).await.map_err(|e| kiln_core::error_chain(&e))?;
    if stored.size != size {
        return Err(format!("s3://{bucket}/{key} has {} bytes, not {size}", stored.size));
    }
    Ok(seconds)
}

#[tokio::main]
async fn main() -> ExitCode {
    if std::env::args().any(|a| a == "--list") {
        return ExitCode::SUCCESS;
    }
    if std::env::var_os("KILN_BENCH_ENDPOINT").is_none() {
        println!("s3_upload: skipped (run scripts/bench-s3, which starts an S3 endpoint)");
        return ExitCode::SUCCESS;
    }
    match run().await {
        Ok(seconds) => {
            println!("kiln-seconds={seconds:.3}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("s3_upload: {e}");
            ExitCode::FAILURE
        }
    }
}
